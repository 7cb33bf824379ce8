//! Helpers shared by the CLI end-to-end tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

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

/// A fresh directory for one test: `<tmp>/anist-<group>-<name>-<pid>-<ns>`.
pub fn tempdir(group: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "anist-{group}-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("create the test directory");
    dir
}

/// A path as `&str` (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// An `anist sandbox` running in the background; killed when dropped.
pub struct RunningSandbox(Child);

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `cmd` (an `anist sandbox …` command line) and waits until it
/// says it listens (after writing its configuration); returns that line
/// with the running sandbox.
pub fn spawn_sandbox(mut cmd: Command) -> (RunningSandbox, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn anist sandbox");
    let stderr = child.stderr.take().expect("stderr");
    let running = RunningSandbox(child);
    let mut lines = BufReader::new(stderr).lines();
    let listening = loop {
        let line = lines
            .next()
            .expect("anist sandbox stopped before writing its configuration")
            .expect("read stderr");
        if line.starts_with("sandbox listening on") {
            break line;
        }
    };
    // Keep reading its standard error: closing the pipe would make its
    // next message fail (and the sandbox stop).
    std::thread::spawn(move || lines.for_each(drop));
    (running, listening)
}

/// `anist sandbox --port 0 --dir <dir>`, started (see [`spawn_sandbox`]).
pub fn start_sandbox(dir: &Path) -> (RunningSandbox, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anist"));
    cmd.args(["sandbox", "--port", "0", "--dir"]).arg(dir);
    spawn_sandbox(cmd)
}

/// `n` synthetic codici fiscali (born 1950–2015), the same for every run.
pub fn synthetic_codes(n: usize) -> Vec<String> {
    let from = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default();
    let to = chrono::NaiveDate::from_ymd_opt(2015, 12, 31).unwrap_or_default();
    let mut people = anist::core::synthetic::SyntheticPeople::new(2026, from, to);
    (0..n)
        .map(|_| people.next_person().codice_fiscale.as_str().to_owned())
        .collect()
}
