"""The Piemonte 0-3 survey form: registry and registers from CSV, the
declarations, the averages, the check, the window edges in Rome summer
time, the life cycle with a refusal and a re-send, the exports."""

from __future__ import annotations

import datetime
import json
import os
import stat

import pytest

import anist
from conftest import REPO

DATA = REPO / "examples" / "data" / "infanzia"
UTC = datetime.timezone.utc


def utc(y: int, m: int, d: int, h: int, mi: int) -> datetime.datetime:
    return datetime.datetime(y, m, d, h, mi, tzinfo=UTC)


def form() -> anist.InfanziaForm:
    f, errors = anist.InfanziaForm.from_registry_csv(
        "Comune di Prova", (DATA / "servizi.csv").read_bytes()
    )
    assert errors == []
    report = f.import_registers((DATA / "registri.csv").read_text(encoding="utf-8"))
    assert report["rows"] == 24
    assert report["errors"] == [] and report["unknown_services"] == []
    return f


def test_outcomes_and_rules() -> None:
    f = form()
    assert f.state == "BOZZA"
    assert f.year == 2026
    assert f.method == "monthly"
    assert f.services == ["TO-0101", "TO-0102", "TO-0103", "TO-0104", "TO-0105", "TO-0106"]
    out = {o["service"]: o for o in f.outcomes()}
    assert out["TO-0101"]["detail"]["period"]["rule"] == "reference"
    assert out["TO-0101"]["detail"]["average"] == 44
    assert out["TO-0102"]["detail"]["period"]["rule"] == "from_authorisation"
    assert out["TO-0105"]["detail"]["period"] == {
        "start": "2026-03-09",
        "end": "2026-04-27",
        "rule": "from_activation",
    }
    assert out["TO-0103"]["outcome"] == "missing"
    problems = f.check()
    assert [(p["code"], p["service"]) for p in problems] == [
        ("attendance_missing", "TO-0103"),
        ("attendance_missing", "TO-0104"),
    ]
    f.method = "daily"
    assert len(f.check()) == 6  # no daily counts: every undeclared service lacks data
    f.method = "monthly"
    with pytest.raises(ValueError):
        f.method = "weekly"


def test_declarations_and_mandatory_reason() -> None:
    f = form()
    with pytest.raises(anist.InvalidInput) as e:
        f.declare("TO-0104", "NON RAGGIUNTO", "   ")
    assert e.value.code == "infanzia_reason_missing"
    with pytest.raises(anist.InvalidInput) as e:
        f.declare("TO-0106", "cessato")
    assert e.value.code == "infanzia_cessation_act_missing"
    with pytest.raises(anist.InfanziaError) as e2:
        f.declare("TO-9999", "sospeso")
    assert e2.value.code == "infanzia_unknown_service"
    f.declare("TO-0103", "sospeso")
    f.declare("TO-0104", "non_raggiunto", "nessun accordo scritto con il Comune")
    f.declare("TO-0106", "CESSATO", "Det. 201/2025")
    assert f.check() == []
    kinds = {o["service"]: o["detail"]["declaration"] for o in f.outcomes() if o["outcome"] == "declared"}
    assert kinds == {"TO-0103": "SOSPESO", "TO-0104": "NON_RAGGIUNTO", "TO-0106": "CESSATO"}
    f.declare("TO-0103", None)
    assert [p["service"] for p in f.check()] == ["TO-0103"]


def test_send_window_refusal_resend(tmp_path: os.PathLike[str]) -> None:
    f = form()
    # Problems are all listed.
    with pytest.raises(anist.InfanziaError) as e:
        f.send(utc(2026, 5, 4, 8, 0))
    assert e.value.code == "infanzia_check_failed"
    assert [p["service"] for p in e.value.problems] == ["TO-0103", "TO-0104"]
    f.declare("TO-0103", "sospeso")
    f.declare("TO-0104", "non raggiunto", "non interessato")
    # 27 April 2026 is CEST: 11:59 in Rome is 09:59 UTC.
    assert f.window_status(utc(2026, 4, 27, 9, 59)) == "not_yet_open"
    with pytest.raises(anist.InfanziaError) as e:
        f.send(utc(2026, 4, 27, 9, 59))
    assert e.value.code == "infanzia_window_not_open"
    assert "12:00" in e.value.message
    f.send(utc(2026, 4, 27, 10, 0))
    assert f.state == "INVIATO"
    with pytest.raises(anist.InfanziaError) as e:
        f.declare("TO-0103", None)
    assert e.value.code == "infanzia_not_editable"
    with pytest.raises(anist.InvalidInput):
        f.reject(" ", utc(2026, 5, 5, 8, 0))
    f.reject("correggere i posti", utc(2026, 5, 5, 8, 0))
    assert (f.state, f.notes) == ("RIFIUTATO", "correggere i posti")
    # 18 May 2026 12:00 Rome = 10:00 UTC: closed; 11:59 still open.
    with pytest.raises(anist.InfanziaError) as e:
        f.send(utc(2026, 5, 18, 10, 0))
    assert e.value.code == "infanzia_window_closed"
    f.send(utc(2026, 5, 18, 9, 59))
    f.validate(utc(2026, 5, 20, 9, 0))
    assert f.state == "VALIDATO"
    with pytest.raises(anist.InfanziaError) as e:
        f.validate(utc(2026, 5, 21, 9, 0))
    assert e.value.code == "infanzia_invalid_transition"

    # Exports and storage.
    csv = f.export_csv()
    assert csv.startswith(b"\xef\xbb\xbfCodice servizio;")
    assert json.loads(f.export_json())["form"]["state"]["state"] == "VALIDATO"
    assert "VALIDATO" in f.summary()
    db = os.path.join(str(tmp_path), "f.db")
    f.save(db)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    again = anist.InfanziaForm.load(db)
    assert again.to_json() == f.to_json()
    assert anist.InfanziaForm.from_json(f.to_json()).state == "VALIDATO"
    assert "InfanziaForm(year=2026" in repr(f)


def test_bad_inputs() -> None:
    with pytest.raises(anist.InfanziaError) as e:
        anist.InfanziaForm.from_registry_csv("X", b"Codice;Nome\nS1;X\n")
    assert e.value.code == "infanzia_missing_column"
    with pytest.raises(anist.InvalidInput) as e2:
        anist.InfanziaForm.from_registry_csv("X", b"", year=2031)
    assert e2.value.code == "infanzia_config"
    with pytest.raises(anist.InfanziaError) as e:
        anist.InfanziaForm.from_json("{}")
    assert e.value.code == "infanzia_json"
    f, errors = anist.InfanziaForm.from_registry_csv(
        "X", "codice;tipologia;denominazione;data provvedimento\nS1;ludoteca;X;01/01/2020\n"
    )
    assert f.services == [] and errors[0][1] == "infanzia_service_type"


def test_add_and_update_services() -> None:
    f = form()
    # A service missing from the Region's list: authorised and active.
    f.add_service(
        "TO-0199",
        "micro-nido",
        "Micro-nido Nuovo",
        18,
        "Det. 7/2025",
        datetime.date(2025, 6, 2),
        activation=datetime.date(2025, 9, 1),
        address="Via Nuova 1",
    )
    assert "TO-0199" in f.services
    # Not yet active at the survey's start: refused.
    with pytest.raises(anist.InfanziaError) as e:
        f.add_service(
            "TO-0198", "asilo nido", "Futuro", 30, "Det. 9/2026", datetime.date(2026, 5, 2)
        )
    assert e.value.code == "infanzia_not_active"
    with pytest.raises(anist.InfanziaError) as e:
        f.add_service("TO-0199", "micro-nido", "Doppio", 18, "Det. 7/2025", datetime.date(2025, 6, 2))
    assert e.value.code == "infanzia_duplicate_service"
    # An update cites the latest act, never an older one.
    changed = f.update_service("TO-0102", "Det. 61/2025", datetime.date(2025, 11, 20), capacity=22)
    assert changed == ["capacity", "authorisation"]
    with pytest.raises(anist.InfanziaError) as e:
        f.update_service("TO-0102", "Det. 1/2020", datetime.date(2020, 1, 1), capacity=25)
    assert e.value.code == "infanzia_act_older"
    with pytest.raises(anist.InfanziaError) as e:
        f.update_service("TO-9999", "Det. 1/2026", datetime.date(2026, 1, 1))
    assert e.value.code == "infanzia_unknown_service"
    with pytest.raises(anist.InvalidInput) as bad:
        f.update_service("TO-0102", "Det. 62/2025", datetime.date(2025, 12, 1), kind="ludoteca")
    assert bad.value.code == "infanzia_service_type"
