"""ANPR E002 single lookups from Python, against the sandbox (synthetic people)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

import anist


def ask(client: anist.Client, tmp_path: pathlib.Path, **kw: Any) -> dict[str, Any]:
    return client.anpr_cerca(
        motivo="prot. 123", audit=tmp_path / "audit.sqlite", ids=tmp_path / "ids.sqlite", **kw
    )


def test_lookups_by_codice_fiscale_and_by_id_anpr(client: anist.Client, tmp_path: pathlib.Path) -> None:
    outcomes: dict[str, int] = {}
    found: list[tuple[str, dict[str, Any]]] = []
    for cf in anist.synthetic_codes(60, 2026):
        try:
            r = ask(client, tmp_path, codice_fiscale=cf)
        except anist.ServiceError as e:
            # EN131 on C030: several subjects, search by ID ANPR.
            assert e.code == "anpr_ambiguous", e
            outcomes[e.code] = outcomes.get(e.code, 0) + 1
            continue
        outcomes[r["esito"]] = outcomes.get(r["esito"], 0) + 1
        assert r["servizio"] == "generalita"
        # A search by codice fiscale carries ANPR's EN148 warning.
        assert any(a["codice"] == "EN148" for a in r["avvisi"]), r["avvisi"]
        if r["esito"] == "trovato" and len(r["soggetti"]) == 1:
            found.append((cf, r))
    # Not found is an answer, never an exception; most people are found.
    assert outcomes.get("trovato", 0) > 30, outcomes
    assert found

    cf, r = found[0]
    subject = r["soggetti"][0]
    assert subject["generalita"]["codiceFiscale"]["codFiscale"] == cf
    assert subject["deceduto"] in (True, False)
    (id_anpr,) = r["id_anpr"]
    assert len(id_anpr) == 9

    # By ID ANPR: the service directly, no EN148; the same person.
    by_id = ask(client, tmp_path, id_anpr=id_anpr)
    assert by_id["esito"] == "trovato"
    assert not any(a["codice"] == "EN148" for a in by_id["avvisi"])
    assert by_id["soggetti"][0]["generalita"]["codiceFiscale"]["codFiscale"] == cf

    # The family (C021): one subject per member, the person among them.
    family = ask(client, tmp_path, id_anpr=id_anpr, servizio="famiglia")
    assert family["servizio"] == "famiglia"
    assert len(family["soggetti"]) >= 1

    # Every lookup went to the audit trail, which was created private.
    audit = tmp_path / "audit.sqlite"
    assert audit.is_file()
    assert audit.stat().st_mode & 0o077 == 0


def test_bad_arguments_are_refused_before_any_call(client: anist.Client, tmp_path: pathlib.Path) -> None:
    cf = anist.synthetic_codes(1, 2026)[0]
    with pytest.raises(anist.InvalidInput) as e:
        ask(client, tmp_path, codice_fiscale=cf, id_anpr="AF41450AS")
    assert e.value.code == "anpr_usage"
    with pytest.raises(anist.InvalidInput) as e:
        ask(client, tmp_path, codice_fiscale=cf, servizio="stato-civile")
    assert e.value.code == "anpr_usage"
    with pytest.raises(anist.InvalidInput) as e:
        client.anpr_cerca(
            codice_fiscale=cf, motivo="  ", audit=tmp_path / "a.sqlite", ids=tmp_path / "i.sqlite"
        )
    assert e.value.code == "anpr_motivo_missing"
    with pytest.raises(anist.InvalidInput):
        ask(client, tmp_path, codice_fiscale="RSSMRA80A01H501X")


def test_massive_job_accounts_for_every_row(client: anist.Client, tmp_path: pathlib.Path) -> None:
    codes = anist.synthetic_codes(30, 2027)
    src = tmp_path / "elenco.csv"
    src.write_text("Codice fiscale\n" + "\n".join(codes) + "\nRSSMRA80A01H501X\n", encoding="utf-8")
    out = tmp_path / "esiti.csv"
    seen: list[anist.Progress] = []
    s = client.run_anpr_massiva(
        src,
        out,
        motivo="prot. 9",
        audit=tmp_path / "audit.sqlite",
        ids=tmp_path / "ids.sqlite",
        progress=seen.append,
    )
    assert s["paused"] is False, s
    assert s["rows_total"] == 31
    assert sum(s["outcomes"].values()) == 31
    assert s["outcomes"]["invalid_code"] == 1
    assert s["outcomes"]["found"] > 20
    assert s["submits"] == 1
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel's BOM
    assert len(data.decode("utf-8-sig").strip().splitlines()) == 32
    assert out.stat().st_mode & 0o077 == 0
    with pytest.raises(anist.InvalidInput) as e:
        client.run_anpr_massiva(src, tmp_path / "x.csv", motivo=" ")
    assert e.value.code == "anpr_motivo_missing"
