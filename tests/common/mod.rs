//! Helpers shared by the CLI end-to-end tests.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the `anist` binary with `args`, feeding `stdin`, without
/// `ANIST_KEY_PASSWORD` in its environment unless `password` is given.
pub fn anist_with(args: &[&str], stdin: &[u8], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anist"));
    cmd.args(args)
        .env_remove("ANIST_KEY_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("ANIST_KEY_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("spawn anist");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Runs the `anist` binary with `args`, feeding `stdin`.
pub fn anist(args: &[&str], stdin: &[u8]) -> Output {
    anist_with(args, stdin, None)
}

/// Lossy UTF-8 text of some output bytes.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
