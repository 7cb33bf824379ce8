"""The client over the sandbox: ANIST calls, exception mapping, bulk jobs,
configuration files, GIL release, Ctrl-C and fork safety."""

from __future__ import annotations

import csv
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import anist


def first_with(sandbox: anist.Sandbox, want_data: bool) -> str:
    for cf in sandbox.pupils():
        if (sandbox.expected_esito(cf) is not None) == want_data:
            return cf
    raise AssertionError("the population has no such pupil")


def test_context_manager_gives_a_ready_client() -> None:
    with anist.Sandbox(seed=1, population=50) as client:
        assert isinstance(client, anist.Client)
        assert "anist-verifica" in client.services
        assert client.environment == "sandbox"


def test_verify_and_ascertain_agree_with_the_sandbox(
    sandbox: anist.Sandbox, client: anist.Client
) -> None:
    checked = 0
    for cf in sandbox.pupils(40):
        expected = sandbox.expected_esito(cf)
        v = client.verify(cf)
        f = client.ascertain(anist.CodiceFiscale.parse(cf), year="current")
        if expected is None:
            assert v is None and f is None
        else:
            assert v is not None and f is not None
            assert f.esito == expected
            assert v.frequentante == (expected in (1, 3))
            assert f.attending == v.frequentante
            assert f.esito_label
            checked += 1
    assert checked > 0


def test_explicit_and_previous_years(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    prev = sandbox.school_year.previous()
    f = client.ascertain(cf, year=prev)
    expected = sandbox.expected_esito(cf, prev)
    assert (f.esito if f else None) == expected
    client.verify(cf, year=str(prev))
    with pytest.raises(anist.InvalidInput):
        client.verify(cf, year="2025/2027")


def test_invalid_subject_is_refused_locally(client: anist.Client) -> None:
    with pytest.raises(anist.InvalidCodiceFiscale) as info:
        client.verify("RSSMRA80A01H501X")
    assert info.value.code == "cf_check_char"


def test_quota_exceeded(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    sandbox.inject_fault("limit_exceeded", service="anist-verifica")
    with pytest.raises(anist.QuotaExceeded) as info:
        client.verify(cf)
    assert info.value.code == "gateway_quota_exceeded"
    assert info.value.govway_id


def test_rate_limited_with_a_long_retry_after(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    sandbox.inject_fault("too_many_requests", service="anist-verifica", retry_after=120)
    with pytest.raises(anist.RateLimited) as info:
        client.verify(cf)
    assert info.value.code == "gateway_throttled"
    assert info.value.retry_after == 120.0


def test_gateway_error(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    for _ in range(4):
        sandbox.inject_fault("status", service="anist-accertamento", status=500)
    with pytest.raises(anist.GatewayError) as info:
        client.ascertain(cf)
    err = info.value
    assert err.code == "gateway_server_error"
    assert err.status == 500
    assert err.title == "InternalResponseError"
    assert err.govway_id


def test_auth_error_keeps_the_correlation_id(
    sandbox: anist.Sandbox, tmp_path: pathlib.Path
) -> None:
    client = anist.Client.from_config(sandbox.write_config(tmp_path))
    cf = first_with(sandbox, True)
    sandbox.set_clock_offset(3600)
    try:
        with pytest.raises(anist.AuthError) as info:
            client.verify(cf)
    finally:
        sandbox.set_clock_offset(0)
    err = info.value
    assert err.code == "voucher_refused"
    assert err.correlation_id
    assert isinstance(err.diagnosis, list)
    for finding in err.diagnosis:
        assert {"rule", "status", "detail", "fix"} <= set(finding)


def test_from_config_calls_the_sandbox(sandbox: anist.Sandbox, tmp_path: pathlib.Path) -> None:
    path = sandbox.write_config(tmp_path)
    assert (tmp_path / "sandbox-client.pem").stat().st_mode & 0o077 == 0
    client = anist.Client.from_config(path)
    cf = first_with(sandbox, True)
    v = client.verify(cf)
    assert v is not None
    # The same configuration as `anist sandbox` writes: the INPS ente, the
    # operator and the TLS files, so the ISEE services work too.
    assert "[inps]" in pathlib.Path(path).read_text()
    for name in ("anist.toml", "sandbox-operator-assertion.xml"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
    person = sandbox.isee_people(1)[0]
    assert client.isee_indicatore(person) is not None


def test_config_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(anist.ConfigError) as missing:
        anist.Client.from_config(tmp_path / "absent.toml")
    assert missing.value.code == "config_read"
    bad = tmp_path / "bad.toml"
    bad.write_text("client_id = 3\n")
    with pytest.raises(anist.ConfigError) as parse:
        anist.Client.from_config(bad)
    assert parse.value.code == "config_parse"


def write_input(path: pathlib.Path, codes: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["COGNOME", "NOME", "CODICE_FISCALE"])
        for i, cf in enumerate(codes):
            w.writerow([f"COGNOME{i}", f"NOME{i}", cf])


def test_bulk_job_with_progress(
    sandbox: anist.Sandbox, client: anist.Client, tmp_path: pathlib.Path
) -> None:
    codes = sandbox.pupils(120) + ["RSSMRA80A01H501X"]
    src = tmp_path / "anagrafe.csv"
    write_input(src, codes)
    seen: list[anist.Progress] = []
    summary = client.run_bulk(
        src,
        tmp_path / "esiti.csv",
        sandbox.school_year,
        progress=seen.append,
        audit=tmp_path / "audit.sqlite",
        keep_journal=True,
    )
    assert summary.rows_total == len(codes)
    assert summary.rows_done == len(codes)
    assert not summary.paused
    assert summary.outcomes["invalid_code"] == 1
    assert sum(summary.outcomes.values()) == len(codes)
    assert seen and seen[-1].rows_done == len(codes)
    assert all(p.rows_total == len(codes) for p in seen)
    with (tmp_path / "esiti.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) >= len(codes)
    # Running it again resumes from the journal: nothing is asked again.
    calls_before = sandbox.backend_calls
    again = client.run_bulk(src, tmp_path / "esiti.csv", str(sandbox.school_year), use_massive=False)
    assert again.rows_done == len(codes)
    assert sandbox.backend_calls == calls_before
    # Without keep_journal, the finished job removed its journal.
    assert not (tmp_path / "esiti.csv.journal").exists()
    assert again.retry_rows == 0


def test_bulk_job_audits_by_default_and_files_are_private(
    sandbox: anist.Sandbox, client: anist.Client, tmp_path: pathlib.Path
) -> None:
    src = tmp_path / "in.csv"
    write_input(src, sandbox.pupils(20))
    client.run_bulk(src, tmp_path / "out.csv", sandbox.school_year)
    # The audit trail is on unless opted out: beside the output.
    audit = tmp_path / "anist-audit.sqlite"
    assert audit.exists()
    for path in (tmp_path / "out.csv", audit):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert not (tmp_path / "out.csv.journal").exists()
    # Opting out is explicit.
    other = tmp_path / "other"
    other.mkdir()
    client.run_bulk(src, other / "out.csv", sandbox.school_year, no_audit=True)
    assert not (other / "anist-audit.sqlite").exists()
    with pytest.raises(anist.InvalidInput):
        client.run_bulk(src, other / "x.csv", sandbox.school_year, audit=audit, no_audit=True)


def test_bulk_progress_exception_stops_the_job(
    sandbox: anist.Sandbox, client: anist.Client, tmp_path: pathlib.Path
) -> None:
    src = tmp_path / "in.csv"
    write_input(src, sandbox.pupils(50))

    def boom(p: anist.Progress) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        client.run_bulk(src, tmp_path / "out.csv", sandbox.school_year, progress=boom)
    done = client.run_bulk(src, tmp_path / "out.csv", sandbox.school_year)
    assert done.rows_done == 50


def test_bulk_errors(client: anist.Client, tmp_path: pathlib.Path) -> None:
    with pytest.raises(anist.BulkError) as info:
        client.run_bulk(tmp_path / "absent.csv", tmp_path / "out.csv", "2025/2026")
    assert info.value.code == "bulk_input"


def test_gil_is_released_during_a_call(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    sandbox.inject_fault("delay", service="anist-verifica", delay=1.0)
    done = threading.Event()

    def call() -> None:
        client.verify(cf)
        done.set()

    t = threading.Thread(target=call)
    start = time.monotonic()
    t.start()
    count = 0
    while not done.is_set() and time.monotonic() - start < 10:
        count += 1
    t.join()
    assert time.monotonic() - start >= 0.9
    # With the GIL held by the call the main thread could not count.
    assert count > 100_000


def test_gil_is_released_during_batch_validation() -> None:
    codes = anist.synthetic_codes(300_000, seed=5)
    results: list[int] = []

    def work() -> None:
        results.append(sum(r is None for r in anist.validate_cf_many(codes)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [len(codes), len(codes)]


def test_ctrl_c_interrupts_a_long_call(tmp_path: pathlib.Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time, anist
        box = anist.Sandbox(seed=3, population=20)
        client = box.start()
        cf = next(c for c in box.pupils() if box.expected_esito(c) is not None)
        client.verify(cf)
        box.inject_fault("delay", service="anist-verifica", delay=30.0)
        print("ready", flush=True)
        start = time.monotonic()
        try:
            client.verify(cf)
        except KeyboardInterrupt:
            print("interrupted %.1f" % (time.monotonic() - start), flush=True)
            sys.exit(0)
        sys.exit(1)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert out.startswith("interrupted")
    assert float(out.split()[1]) < 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_rebuilds_the_runtime(sandbox: anist.Sandbox, client: anist.Client) -> None:
    cf = first_with(sandbox, True)
    assert client.verify(cf) is not None
    assert anist._anist._runtime_pid() == os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(r)
            with anist.Sandbox(seed=9, population=20) as child_client:
                # Any answer (found or not) means the call went through.
                child_client.verify(cf)
                if anist._anist._runtime_pid() == os.getpid():
                    status = 0
            os.write(w, b"ok" if status == 0 else b"ko")
        finally:
            os._exit(status)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 2) == b"ok"
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's runtime and client still work.
    assert client.verify(cf) is not None
    assert anist._anist._runtime_pid() == os.getpid()


def _audit_rows(db: pathlib.Path) -> list[tuple[str, str, str | None, str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT eservice, operation, subject, outcome FROM audit ORDER BY id"))


def test_single_lookups_are_audited_by_default(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "trail.sqlite"
    box = anist.Sandbox(seed=5, population=30, audit=db)
    client = box.start()
    try:
        cf = box.pupils(1)[0]
        client.verify(cf)
        client.ascertain(cf, year="previous")
        person = box.isee_people(1)[0]
        client.isee_indicatore(person)
        client.isee_attestazione(person)
    finally:
        box.close()
    rows = _audit_rows(db)
    assert [(r[0], r[1]) for r in rows] == [
        ("anist-verifica", "verify"),
        ("anist-accertamento", "ascertain"),
        ("isee-indicatore-residenti", "indicatore"),
        ("isee-attestazione-residenti", "attestazione"),
    ]
    assert all(r[3] in ("found", "not_found", "no_isee") for r in rows)
    # Codes only as keyed hashes: the same code twice, the same hash; never the code.
    assert rows[0][2] == rows[1][2] and rows[2][2] == rows[3][2]
    assert all(r[2] is not None and len(r[2]) == 64 and cf not in r[2] for r in rows)
    assert (tmp_path / "trail.sqlite.key").exists()


def test_the_default_trail_is_in_the_working_directory_and_opting_out_is_explicit(
    tmp_path: pathlib.Path,
) -> None:
    box = anist.Sandbox(seed=5, population=30)
    client = box.start()
    try:
        client.verify(box.pupils(1)[0])
    finally:
        box.close()
    assert len(_audit_rows(pathlib.Path("anist-audit.sqlite"))) == 1
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    os.chdir(quiet)
    box = anist.Sandbox(seed=5, population=30, no_audit=True)
    client = box.start()
    try:
        client.verify(box.pupils(1)[0])
    finally:
        box.close()
    assert not (quiet / "anist-audit.sqlite").exists()
    with pytest.raises(anist.InvalidInput) as both:
        anist.Sandbox(seed=5, audit=tmp_path / "a.sqlite", no_audit=True)
    assert both.value.code == "bulk_audit_choice"


def test_a_lookup_the_trail_cannot_record_is_not_answered(tmp_path: pathlib.Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the trail's folder should be")
    box = anist.Sandbox(seed=5, population=30, audit=blocked / "audit.sqlite")
    client = box.start()
    try:
        with pytest.raises(anist.AnistError) as err:
            client.verify(box.pupils(1)[0])
        assert err.value.code.startswith("audit_")
    finally:
        box.close()
