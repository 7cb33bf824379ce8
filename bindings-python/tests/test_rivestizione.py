"""The ANPR rivestizione workflow from Python, on the sandbox (synthetic
people only): set up, register, submit, approve, the worker, status,
download; and the refusals, each raised with its stable code."""

from __future__ import annotations

import pathlib

import pytest

import anist

COMUNE = "001272"


def _workflow(tmp_path: pathlib.Path) -> anist.Rivestizione:
    riv = anist.Rivestizione(tmp_path / "riv")
    riv.setup("top", "Anna Anagrafe", "anagrafe", "Anagrafe", COMUNE, [COMUNE], approval="manual")
    riv.register_user(
        "top", "u1", "Ugo Ufficio", "standard", "anagrafe", ["generalita", "residenza"], "italia"
    )
    return riv


def _csv(codes: list[str]) -> str:
    return "codice_fiscale\n" + "".join(f"{cf}\n" for cf in codes)


def test_a_request_from_submission_to_download(
    sandbox: anist.Sandbox, tmp_path: pathlib.Path
) -> None:
    riv = _workflow(tmp_path)
    assert (tmp_path / "riv" / "rivestizione.sqlite").is_file()
    codes = anist.synthetic_codes(5, 2026)
    assert len(set(codes)) == 5

    rid = riv.submit("u1", "prot. 12/2026", _csv(codes), asked=["generalita"])
    status = riv.status("u1", rid)
    assert status["id"] == rid
    assert status["state"] == "awaiting_approval"
    assert status["owner"] == "u1" and status["ente"] == "anagrafe"
    assert status["subjects"] == 5 and status["answered"] == 0 and status["bad_rows"] == 0
    assert isinstance(status["submitted_at"], int)
    assert status["decided_by"] is None and status["file"] is None
    # Nothing to download before it is done.
    with pytest.raises(anist.RivestizioneError) as e:
        riv.download("u1", rid)
    assert e.value.code == "rivestizione_not_ready"

    riv.approve("top", rid)
    assert riv.status("top", rid)["state"] == "approved"
    report = riv.run_worker(sandbox)
    assert report["completed"] == [rid]
    assert report["subjects"] == 5

    status = riv.status("u1", rid)
    assert status["state"] == "done", status
    assert status["state_label"] == "completata"
    assert status["answered"] == 5
    assert status["decided_by"] == "top"
    assert status["file"]
    assert [r["id"] for r in riv.requests("u1")] == [rid]

    path = pathlib.Path(riv.download("u1", rid))
    assert path.is_file()
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 5, lines
    header = lines[0].split(";")
    assert "codice_esito" in header
    assert "comune_residenza" not in header  # only what was asked
    esiti = {line.split(";")[header.index("codice_esito")] for line in lines[1:]}
    assert esiti <= {"found", "not_found", "ambiguous", "out_of_scope", "refused", "error"}


def test_refusals_carry_their_codes(tmp_path: pathlib.Path) -> None:
    riv = _workflow(tmp_path)
    codes = anist.synthetic_codes(3, 7)
    # A bytes file with a bad row: counted, never sent.
    rid = riv.submit("u1", "prot. 1", _csv(codes + ["RSSMRA80A01H501X"]).encode())
    assert riv.status("u1", rid)["bad_rows"] == 1

    with pytest.raises(anist.DeniedError) as e:
        riv.approve("u1", rid)
    assert e.value.code == "rivestizione_denied"
    with pytest.raises(anist.DeniedError) as e:
        riv.submit("u1", "prot. 2", _csv(codes), asked=["famigliaConvivenza"])
    assert e.value.code == "rivestizione_profile"
    with pytest.raises(anist.InvalidInput) as ie:
        riv.submit("u1", "  ", _csv(codes))
    assert ie.value.code == "rivestizione_motivo"
    with pytest.raises(anist.InvalidInput):
        riv.register_user("top", "u2", "X", "boss", "anagrafe", ["generalita"])

    riv.reject("top", rid, "manca il protocollo")
    status = riv.status("top", rid)
    assert status["state"] == "rejected"
    assert status["reason"] == "manca il protocollo"
    with pytest.raises(anist.RivestizioneError) as re_:
        riv.approve("top", rid)
    assert re_.value.code == "rivestizione_state"
    # Set up only once.
    with pytest.raises(anist.ConfigError):
        riv.setup("top2", "B", "anagrafe", "Anagrafe", COMUNE, [COMUNE])
