//! Several `anist worker` processes on one shared `caivano` job (#19),
//! against the sandbox, measured and checked:
//!
//! 1. a sandbox starts in this process, its ANIST e-services limited to
//!    `--limit` calls per second each (PDND's rate policy, answering 429
//!    above it); the configuration gives the ente a budget of `--rate`
//!    calls per second per e-service (`[limits]`) and the shared
//!    `[database]` (PostgreSQL from `ANIST_TEST_PG_URL` or `--pg`, else a
//!    SQLite file);
//! 2. the reference: one worker runs a job of `--rows` synthetic rows;
//! 3. the same input again, with faults injected (5% 503, or
//!    `--faults-503`, and 1% dropped connections) and `--workers`
//!    workers, the first killed with SIGKILL `--kills` times mid-run and
//!    started again (a run with no row decided for 2 minutes fails as
//!    stalled);
//! 4. checks: the output is byte-identical to the reference, every row
//!    once, no 429 from the sandbox, the budget used at least 90%, and
//!    `anist audit verify --config` passes on the shared trail.
//!
//! `cargo run --release --example shared_workers -- --rows 20000` (the
//! release `anist` binary must be built: `cargo build --release`). Prints
//! the figures (`--json` as JSON); exits 1 when a check fails. With
//! `SHARED_WORKERS_KEEP=1` the folder is kept and the workers log at `-vv`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist::cli::sandbox::client_key;
use anist::client::sandbox::anist::{registry_with_limits, ANIST_ESERVICES};
use anist::client::sandbox::config_file::{config_text, write_config, write_support_files};
use anist::client::sandbox::faults::FaultRates;
use anist::client::sandbox::{Route, Sandbox, SandboxConfig};
use anist_client::bulk::shared::SharedJobs;
use anist_core::school::SchoolYear;
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const SEED: u64 = 2026;

struct Args {
    rows: usize,
    workers: usize,
    kills: usize,
    rate: u32,
    limit: u32,
    lease: u64,
    pg: Option<String>,
    bin: PathBuf,
    json: bool,
    /// The share of calls the shared run answers 503 (default 0.05).
    faults_503: f64,
}

fn parse_args() -> Result<Args, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/release/examples/shared_workers → target/release/anist
    let default_bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(if cfg!(windows) { "anist.exe" } else { "anist" }))
        .unwrap_or_else(|| PathBuf::from("anist"));
    let mut a = Args {
        rows: 20_000,
        workers: 3,
        kills: 2,
        rate: 300,
        limit: 0,
        lease: 10,
        pg: std::env::var("ANIST_TEST_PG_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        bin: default_bin,
        json: false,
        faults_503: 0.05,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--rows" => a.rows = num(value()?)? as usize,
            "--workers" => a.workers = (num(value()?)? as usize).max(1),
            "--kills" => a.kills = num(value()?)? as usize,
            "--rate" => a.rate = num(value()?)? as u32,
            "--limit" => a.limit = num(value()?)? as u32,
            "--lease" => a.lease = num(value()?)?.max(1),
            "--pg" => a.pg = Some(value()?),
            "--bin" => a.bin = PathBuf::from(value()?),
            "--json" => a.json = true,
            "--faults-503" => {
                a.faults_503 = value()?
                    .parse::<f64>()
                    .map_err(|e| format!("{flag}: {e}"))?
                    .clamp(0.0, 0.9)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.limit == 0 {
        // PDND's limit a little above the ente's budget: the budget is
        // what the ente configures under the limit it was granted.
        a.limit = a.rate + a.rate.div_ceil(20).max(1);
    }
    Ok(a)
}

fn year() -> SchoolYear {
    SchoolYear::starting(2025).unwrap_or_else(|_| unreachable!("2025 is a valid year"))
}

/// `n` synthetic children of school age, every 50th listed twice.
fn write_input(path: &Path, n: usize) -> std::io::Result<()> {
    let from = NaiveDate::from_ymd_opt(2011, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2018, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(SEED, from, to);
    let mut text = String::from("cognome;codice fiscale\n");
    let mut last = String::new();
    for i in 0..n {
        let p = people.next_person();
        let cf = if i % 50 == 49 {
            last.clone()
        } else {
            p.codice_fiscale.to_string()
        };
        text.push_str(&format!("{};{cf}\n", p.surname));
        last = cf;
    }
    std::fs::write(path, text)
}

fn anist(bin: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args).stdin(Stdio::null());
    c
}

fn spawn_worker(bin: &Path, config: &Path, n: usize, log: &Path) -> Result<Child, String> {
    let log =
        std::fs::File::create(log.join(format!("worker{n}.log"))).map_err(|e| e.to_string())?;
    let config = config.display().to_string();
    let name = format!("w{n}");
    let mut args = Vec::new();
    if std::env::var_os("SHARED_WORKERS_KEEP").is_some() {
        // Kept for a look: why each call failed or was asked again.
        args.push("-vv");
    }
    args.extend(["worker", "--config", &config, "--once", "--name", &name]);
    anist(bin, &args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{} could not start: {e}", bin.display()))
}

fn submit(bin: &Path, config: &Path, input: &Path, out: &Path) -> Result<i64, String> {
    let o = anist(
        bin,
        &[
            "caivano",
            "--config",
            &config.display().to_string(),
            "--detach",
            "--quiet",
            "--input",
            &input.display().to_string(),
            "--out",
            &out.display().to_string(),
            "--school-year",
            "2025/2026",
        ],
    )
    .output()
    .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(format!(
            "submit failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("submit printed no job number: {e}"))
}

/// One run's figures.
#[derive(serde::Serialize)]
struct Run {
    workers: usize,
    seconds: f64,
    rows_per_second: f64,
    calls: u64,
    calls_per_second: f64,
    budget_use: f64,
    throttled_429: u64,
    kills: usize,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("shared_workers: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<bool, String> {
    let args = parse_args()?;
    if !args.bin.exists() {
        return Err(format!(
            "{} is missing: cargo build --release first, or give --bin",
            args.bin.display()
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("anist-shared-workers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = runtime.block_on(run(&args, &dir));
    if std::env::var_os("SHARED_WORKERS_KEEP").is_some() {
        eprintln!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run(args: &Args, dir: &Path) -> Result<bool, String> {
    let key = client_key(dir).map_err(|e| e.to_string())?;
    let registry = registry_with_limits(key.public_key(), u64::MAX / 4, args.limit)
        .map_err(|e| e.to_string())?;
    let config =
        SandboxConfig::with_client_registry(SEED, key, registry).current_school_year(year());
    let sandbox = Sandbox::start(config).await.map_err(|e| e.to_string())?;
    write_support_files(dir, &sandbox).map_err(|e| e.to_string())?;
    let mut text =
        config_text(&sandbox, "examples/shared_workers.rs").map_err(|e| e.to_string())?;
    let (backend, url) = match &args.pg {
        Some(pg) => (
            "postgres",
            anist_client::pg::fresh_schema(pg, "anist_workers").map_err(|e| e.to_string())?,
        ),
        None => ("sqlite", String::from("jobs.sqlite")),
    };
    text.push_str(&format!(
        "\n[limits]\nrate_per_second = {}\nconcurrency = 16\n\n[database]\nurl = \"{url}\"\naudit_key = \"audit.key\"\nlease_seconds = {}\n",
        args.rate, args.lease
    ));
    let config = write_config(dir, &text).map_err(|e| e.to_string())?;
    let input = dir.join("minori.csv");
    write_input(&input, args.rows).map_err(|e| e.to_string())?;
    let jobs = match &args.pg {
        Some(_) => {
            let db = anist_client::pg::Database::connect(&url, None).map_err(|e| e.to_string())?;
            SharedJobs::open_postgres(Arc::new(db)).map_err(|e| e.to_string())?
        }
        None => SharedJobs::open_sqlite(&dir.join("jobs.sqlite")).map_err(|e| e.to_string())?,
    };

    // The reference: one worker, no faults.
    let reference_out = dir.join("reference.csv");
    let (reference, _) = measured(
        args,
        dir,
        &config,
        &input,
        &reference_out,
        &sandbox,
        &jobs,
        1,
        0,
    )
    .await?;

    // The shared run: faults, several workers, one killed and restarted.
    let rates = FaultRates {
        status_503: args.faults_503,
        drop_connection: 0.01,
        ..FaultRates::default()
    };
    for s in ANIST_ESERVICES {
        sandbox
            .fault_rates(
                Route::Front(format!("MIM-INTRA-PDND/{}/v1", s.service)),
                Some(rates),
            )
            .map_err(|e| e.to_string())?;
    }
    let shared_out = dir.join("esiti.csv");
    let (shared, id) = measured(
        args,
        dir,
        &config,
        &input,
        &shared_out,
        &sandbox,
        &jobs,
        args.workers,
        args.kills,
    )
    .await?;
    sandbox.shutdown().await;

    let mut ok = true;
    let mut check = |what: &str, pass: bool| {
        if !pass {
            eprintln!("FAILED: {what}");
            ok = false;
        }
    };
    let a = std::fs::read(&reference_out).map_err(|e| e.to_string())?;
    let b = std::fs::read(&shared_out).map_err(|e| e.to_string())?;
    check(
        "the shared output is byte-identical to the single worker's",
        a == b,
    );
    if a != b {
        print_differences(&a, &b);
    }
    let text = String::from_utf8_lossy(&b);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    let distinct: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l.split(';').next().unwrap_or(""))
        .collect();
    check(
        "every input row once in the output",
        lines.len() == args.rows && distinct.len() == args.rows,
    );
    check("no error row", !lines.iter().any(|l| l.contains(";error;")));
    let status = jobs.status(id).map_err(|e| e.to_string())?;
    check(
        "the job is done with every row",
        status.is_some_and(|s| s.state == "done" && s.rows_done == args.rows as u64),
    );
    check(
        "no 429 from the sandbox in the shared run",
        shared.throttled_429 == 0,
    );
    check(
        "the budget used at least 90% in the shared run",
        shared.budget_use >= 0.9,
    );
    let verify = anist(
        &args.bin,
        &["audit", "verify", "--config", &config.display().to_string()],
    )
    .output()
    .map_err(|e| e.to_string())?;
    let verified = String::from_utf8_lossy(&verify.stdout).trim().to_owned();
    check(
        "anist audit verify --config passes on the shared trail",
        verify.status.success(),
    );

    if args.json {
        let out = serde_json::json!({
            "backend": backend,
            "rows": args.rows,
            "rate_per_second_per_eservice": args.rate,
            "sandbox_limit_per_second": args.limit,
            "single": reference,
            "shared": shared,
            "audit": verified,
            "ok": ok,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        for (name, r) in [("1 worker", &reference), ("shared", &shared)] {
            println!(
                "{name} ({} workers, {} kills): {:.1} s, {:.0} rows/s, {} calls ({:.0}/s), budget use {:.1}%, 429: {}",
                r.workers,
                r.kills,
                r.seconds,
                r.rows_per_second,
                r.calls,
                r.calls_per_second,
                r.budget_use * 100.0,
                r.throttled_429
            );
        }
        println!("backend {backend}, {} rows, budget {} calls/s per e-service (sandbox limit {}); audit: {verified}", args.rows, args.rate, args.limit);
        println!(
            "{}",
            if ok {
                "all checks passed"
            } else {
                "SOME CHECKS FAILED"
            }
        );
    }
    Ok(ok)
}

/// Submits a job of `input` and runs `workers` workers on it until it is
/// done, killing the first `kills` times along the way.
#[allow(clippy::too_many_arguments)]
async fn measured(
    args: &Args,
    dir: &Path,
    config: &Path,
    input: &Path,
    out: &Path,
    sandbox: &anist::client::sandbox::SandboxHandle,
    jobs: &SharedJobs,
    workers: usize,
    kills: usize,
) -> Result<(Run, i64), String> {
    let id = submit(&args.bin, config, input, out)?;
    let requests = sandbox.front_requests();
    let throttled = sandbox.front_throttled();
    let start = Instant::now();
    let mut children: Vec<Child> = (0..workers)
        .map(|n| spawn_worker(&args.bin, config, n, dir))
        .collect::<Result<_, _>>()?;
    // Kill points, as fractions of the rows done.
    let points: Vec<f64> = (0..kills)
        .map(|k| (k as f64 + 1.0) / (kills as f64 + 2.0))
        .collect();
    let mut killed = 0;
    // A stall fails the run in minutes, with the rows it reached, rather
    // than at CI's time limit.
    let mut progress = (0u64, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let status = jobs
            .status(id)
            .map_err(|e| e.to_string())?
            .ok_or("the job vanished")?;
        if status.state == "done" {
            break;
        }
        if status.rows_done != progress.0 {
            progress = (status.rows_done, Instant::now());
        } else if progress.1.elapsed() > Duration::from_secs(120) {
            for c in &mut children {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(format!(
                "stalled: no row decided for 2 minutes, at {} of {}",
                status.rows_done, status.rows_total
            ));
        }
        let done = status.rows_done as f64 / status.rows_total.max(1) as f64;
        if killed < points.len() && done >= points[killed] {
            // SIGKILL: no chance to release anything.
            children[0].kill().map_err(|e| e.to_string())?;
            let _ = children[0].wait();
            killed += 1;
            children[0] = spawn_worker(&args.bin, config, 0, dir)?;
        }
        if start.elapsed() > Duration::from_secs(1800) {
            return Err(String::from("the job did not finish in 30 minutes"));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    for (n, mut c) in children.into_iter().enumerate() {
        let status = c.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            let log =
                std::fs::read_to_string(dir.join(format!("worker{n}.log"))).unwrap_or_default();
            return Err(format!("worker {n} ended with {status}: {log}"));
        }
    }
    let calls = sandbox.front_requests() - requests;
    let calls_per_second = calls as f64 / seconds;
    Ok((
        Run {
            workers,
            seconds,
            rows_per_second: args.rows as f64 / seconds,
            calls,
            calls_per_second,
            budget_use: calls_per_second / f64::from(args.rate),
            throttled_429: sandbox.front_throttled() - throttled,
            kills: killed,
        },
        id,
    ))
}

/// Prints the first rows where the two outputs differ, without the
/// codice fiscale column (the data is synthetic, but the habit stays).
fn print_differences(a: &[u8], b: &[u8]) {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let masked = |l: &str| {
        l.split(';')
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
            .join(";")
    };
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    eprintln!("lines: reference {}, shared {}", la.len(), lb.len());
    let differing: Vec<(usize, &str, &str)> = la
        .iter()
        .zip(&lb)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(n, (x, y))| (n, *x, *y))
        .collect();
    eprintln!("{} differing lines", differing.len());
    for (n, x, y) in differing.iter().take(5) {
        eprintln!(
            "line {}:\n  reference {}\n  shared    {}",
            n + 1,
            masked(x),
            masked(y)
        );
    }
}
