"""SIDI synchronisation from Python: diff a sandbox school, decide, apply."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import anist


@pytest.fixture()
def school(tmp_path: Path) -> tuple[str, str, str]:
    return anist.sidi_sandbox(tmp_path, seed=17, pupils=120)


def test_diff_and_apply(school: tuple[str, str, str]) -> None:
    db, sidi_json, sidi_csv = school
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    plan_text = anist.sidi_diff(db, sidi_json)
    plan = json.loads(plan_text)
    kinds = {a["kind"]["type"] for a in plan["actions"]}
    assert {"import", "align", "local_only", "duplicate", "unknown_code"} <= kinds
    # The CSV layout gives the same plan.
    assert json.loads(anist.sidi_diff(db, sidi_csv)) == plan
    text = anist.sidi_plan_text(plan_text)
    assert text.startswith("Confronto con SIDI")
    assert "da decidere" in text

    # Automatic: pending actions are left.
    report = anist.sidi_apply(db, plan_text)
    pending = report["pending"]
    assert pending and report["records_written"] > 0
    # Twice: nothing more written.
    assert anist.sidi_apply(db, plan_text)["records_written"] == 0

    # Guided: decide every pending action, apply.
    for action in plan["actions"]:
        if action["id"] not in pending:
            continue
        kind = action["kind"]["type"]
        if kind == "local_only":
            plan_text = anist.sidi_decide(plan_text, action["id"], "keep_local_only")
        elif kind == "duplicate":
            keep = action["kind"]["local_ids"][0]
            plan_text = anist.sidi_decide(plan_text, action["id"], "merge", keep=keep)
        else:
            plan_text = anist.sidi_decide(plan_text, action["id"], "accept_sidi")
    report = anist.sidi_apply(db, plan_text)
    assert report["pending"] == []
    # Compared again: only reports are left.
    again = json.loads(anist.sidi_diff(db, sidi_json))
    left = {a["kind"]["type"] for a in again["actions"]}
    assert left <= {"unknown_code", "unknown_class", "not_on_sidi", "incongruence"}


def test_locked_fields_are_refused(school: tuple[str, str, str]) -> None:
    db, sidi_json, _ = school
    anist.sidi_apply(db, anist.sidi_diff(db, sidi_json))
    locks = anist.sidi_locks(db)
    assert locks
    entity, record, field, sync_id = next(l for l in locks if l[0] == "alunno")
    assert sync_id
    with pytest.raises(anist.SidiError) as info:
        anist.sidi_edit(db, entity, record, field, "X")
    assert info.value.code == "sidi_locked"
    assert "modificare su SIDI" in info.value.message


def test_errors_have_codes(tmp_path: Path, school: tuple[str, str, str]) -> None:
    db, _, _ = school
    bad = tmp_path / "bad.json"
    bad.write_text('{"sync_id": 3}')
    with pytest.raises(anist.SidiError) as info:
        anist.sidi_diff(db, bad)
    assert info.value.code == "sidi_interchange_json"
    with pytest.raises(anist.SidiError) as info:
        anist.sidi_apply(db, "not a plan")
    assert info.value.code == "sidi_plan"
    plan = anist.sidi_diff(db, school[1])
    with pytest.raises(anist.SidiError) as info:
        anist.sidi_decide(plan, 1, "keep_local_only")
    assert info.value.code == "sidi_decision_not_allowed"
