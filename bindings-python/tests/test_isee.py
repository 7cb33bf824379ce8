"""The ISEE core records: inner XML parsers, money as Decimal, eligibility."""

from __future__ import annotations

import base64
import datetime
import pathlib
from decimal import Decimal

import pytest

import anist
from conftest import REPO

DATA = REPO / "anist-core" / "tests" / "data" / "isee"


def test_indicatore() -> None:
    ind = anist.parse_indicatore((DATA / "indicatore_ordinario_utf8.xml").read_bytes())
    assert ind.kind == "ordinario"
    assert ind.isee == Decimal("15000.00")
    assert isinstance(ind.isee, Decimal)
    assert (ind.ise, ind.isr, ind.isp) == (Decimal("30600.00"), Decimal("25000.00"), Decimal("28000.00"))
    assert ind.scala == Decimal("2.04")
    assert ind.protocollo_dsu == "INPS-ISEE-2025-00654321C-00"
    assert ind.presented_on == datetime.date(2025, 3, 18)
    assert ind.valid_until == datetime.date(2025, 12, 31)
    assert ind.is_valid_on(datetime.date(2025, 3, 18))
    assert not ind.is_valid_on(datetime.date(2026, 1, 1))
    assert ind.household == []
    # str input and base64 give the same record.
    text = (DATA / "indicatore_ordinario_utf8.xml").read_text(encoding="utf-8")
    assert anist.parse_indicatore(text).isee == ind.isee
    b64 = base64.b64encode(text.encode("utf-8")).decode("ascii")
    assert anist.parse_indicatore_base64(b64).protocollo_dsu == ind.protocollo_dsu


def test_attestazione_latin1() -> None:
    att = anist.parse_attestazione((DATA / "attestazione_minorenni_latin1.xml").read_bytes())
    assert att.dichiarante == "BLLNMO87L45F205A"
    assert att.protocollo_dsu == "INPS-ISEE-2025-00123456B-00"
    assert att.presented_on == datetime.date(2025, 2, 3)
    assert att.valid_until == datetime.date(2025, 12, 31)
    assert not att.is_corrente
    assert att.household_size == 4
    members = att.household
    assert members[0].is_dichiarante and not members[1].is_dichiarante
    assert members[2].surname == "CARÙ"
    assert "CAR" not in repr(members[2])
    assert att.isee == Decimal("15507.52")
    assert att.kinds[0] == "ordinario"
    assert "minorenni" in att.kinds
    entry = att.entries[0]
    assert entry.kind == "ordinario" and entry.isee == Decimal("15507.52")
    assert entry.scala == Decimal("2.66")
    assert entry.issued_on == datetime.date(2025, 2, 5)
    assert att.isee_for("ordinario", "BLLNMO87L45F205A") == Decimal("15507.52")
    assert att.has_omissioni_difformita
    assert att.is_valid_on(datetime.date(2025, 6, 1))


def test_attestazione_corrente() -> None:
    att = anist.parse_attestazione((DATA / "attestazione_corrente.xml").read_bytes())
    assert att.is_corrente


def test_bad_documents_raise_invalid_input() -> None:
    with pytest.raises(anist.InvalidInput) as info:
        anist.parse_indicatore(b"<Nope/>")
    assert info.value.code.startswith("isee_xml_")
    with pytest.raises(anist.InvalidInput) as b64:
        anist.parse_attestazione_base64("***")
    assert b64.value.code == "isee_base64"
    with pytest.raises(TypeError):
        anist.parse_indicatore(42)  # type: ignore[arg-type]


def test_kinds_and_eligibility() -> None:
    assert anist.isee_kind("ISEE minorenni") == "minorenni"
    assert anist.isee_kind("socio-sanitario residenziale") == "socio_sanitario_residenziale"
    ok = anist.isee_eligibility("comune", "indicatore_residenti")
    assert ok.allowed and "pdnd_adhesion" in ok.requirements and ok.rule is None
    refused = anist.isee_eligibility("comune", "indicatore")
    assert not refused.allowed
    assert refused.rule == "plain_only_capoluoghi"
    assert "indicatore_residenti" in refused.alternatives
    assert refused.reason and "capoluoghi" in refused.reason
    with pytest.raises(anist.InvalidInput) as info:
        anist.isee_eligibility("bank", "indicatore")
    assert info.value.code == "isee_unknown_category"


def test_isee_calls_against_the_sandbox() -> None:
    sandbox = anist.Sandbox(7)
    client = sandbox.start()
    try:
        people = sandbox.isee_people(3)
        assert len(people) == 3
        ind = client.isee_indicatore(people[0])
        assert ind is not None
        assert isinstance(ind.isee, Decimal)
        assert ind.protocollo_dsu is not None and ind.protocollo_dsu.startswith("INPS-ISEE-")
        # Attestazione of the same person: the same DSU, a household with them in it.
        att = client.isee_attestazione(people[0])
        assert att is not None
        assert att.protocollo_dsu == ind.protocollo_dsu
        assert people[0] in [m.codice_fiscale for m in att.household]
        # The plain service over mTLS, and the Riscontro service by DSU.
        plain = client.isee_indicatore(people[0], service="indicatore")
        assert plain is not None and plain.isee == ind.isee
        risc = client.isee_indicatore(people[0], service="indicatore_riscontro", dsu=ind.protocollo_dsu)
        assert risc is not None and risc.isee == ind.isee
        # No ISEE is an answer, not an error.
        nobody = sandbox.isee_people(1, with_isee=False)
        assert client.isee_indicatore(nobody[0]) is None
        # A wrong DSU protocol is a refusal with its stable code.
        with pytest.raises(anist.ServiceError) as err:
            client.isee_indicatore(people[1], service="indicatore_riscontro", dsu=ind.protocollo_dsu)
        assert err.value.code == "isee_riscontro_non_valido"
        # Riscontro without a DSU protocol is not sent.
        with pytest.raises(anist.InvalidInput) as bad:
            client.isee_indicatore(people[1], service="indicatore_riscontro")
        assert bad.value.code == "isee_invalid_request"
        with pytest.raises(anist.InvalidInput):
            client.isee_indicatore(people[1], service="nope")
    finally:
        sandbox.close()


def test_isee_batch_with_progress_and_the_audit_trail_on_by_default(tmp_path: pathlib.Path) -> None:
    sandbox = anist.Sandbox(7)
    client = sandbox.start()
    try:
        people = sandbox.isee_people(4)
        nobody = sandbox.isee_people(1, with_isee=False)
        src = tmp_path / "domande.csv"
        rows = "".join(f"{cf}\r\n" for cf in people + nobody + [people[0]])
        src.write_text("Codice fiscale\r\n" + rows + "RSSMRA80A01H501X\r\n", encoding="utf-8")
        seen: list[anist.Progress] = []
        summary = client.run_isee_batch(src, tmp_path / "esiti.csv", progress=seen.append)
        assert isinstance(summary, anist.IseeBatchSummary)
        assert summary.rows_total == 7 and summary.rows_done == 7
        assert summary.outcomes["found"] == 5
        assert summary.outcomes["no_isee"] == 1
        assert summary.outcomes["invalid_input"] == 1
        assert summary.distinct_questions == 5
        assert not summary.paused
        assert seen and seen[-1].rows_done == 7 and seen[-1].outcomes["found"] == 5
        out = (tmp_path / "esiti.csv").read_text(encoding="utf-8-sig").splitlines()
        assert out[0].startswith("riga;codice_fiscale;esito")
        assert len(out) == 8
        # The audit trail is on unless opted out, beside the output.
        assert summary.audit is not None
        assert (tmp_path / "anist-audit.sqlite").is_file()
        assert (tmp_path / "anist-audit.sqlite.key").is_file()
        # Opting out is explicit.
        other = tmp_path / "other"
        other.mkdir()
        quiet = client.run_isee_batch(src, other / "esiti.csv", no_audit=True)
        assert quiet.audit is None and quiet.rows_done == 7
        assert not (other / "anist-audit.sqlite").exists()
        # An exception in the callback stops the batch; it resumes from its journal.
        def boom(_p: anist.Progress) -> None:
            raise RuntimeError("stop")

        third = tmp_path / "third"
        third.mkdir()
        with pytest.raises(RuntimeError):
            client.run_isee_batch(src, third / "esiti.csv", progress=boom, service="attestazione_residenti")
        done = client.run_isee_batch(src, third / "esiti.csv", service="attestazione_residenti")
        assert done.rows_done == 7
        with pytest.raises(anist.InvalidInput):
            client.run_isee_batch(src, third / "x.csv", service="nope")
    finally:
        sandbox.close()
