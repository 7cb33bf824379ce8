"""The core bindings: codice fiscale, identifiers, school years, errors."""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest

import anist

VALID = "RSSMRA80A01H501U"


def test_version_and_typing_marker() -> None:
    assert anist.__version__.count(".") == 2
    import importlib.resources

    assert importlib.resources.files("anist").joinpath("py.typed").is_file()


def test_parse_and_properties() -> None:
    cf = anist.CodiceFiscale.parse(" rssmra 80a41 h50mq ")
    assert cf.sex == "F"
    assert cf.omocodia_level == 1
    assert cf.is_omocodic
    assert cf.canonical.code == "RSSMRA80A41H501Y"
    assert cf.birth_date == datetime.date(1980, 1, 1)
    assert cf.birth_date_on(datetime.date(1990, 1, 1)) == datetime.date(1980, 1, 1)
    assert (cf.birth_day, cf.birth_month, cf.birth_year_2digit) == (1, 1, 80)
    assert cf.place_code == "H501"
    assert cf.place_name == "ROMA"
    assert cf.place_province == "RM"
    assert cf.place_finding == "existed_at_birth"
    assert cf.masked == "RSSMRA**A41H50M*"
    assert str(cf) == "RSSMRA80A41H50MQ"
    assert "80A41" not in repr(cf)
    assert cf.canonical.with_omocodia_level(1) == cf
    a, b = anist.CodiceFiscale.parse(VALID), cf
    assert sorted([b, a]) == ([a, b] if a.code < b.code else [b, a])
    assert len({anist.CodiceFiscale.parse(VALID), anist.CodiceFiscale.parse(VALID.lower())}) == 1


@pytest.mark.parametrize(
    ("value", "code", "position"),
    [
        ("", "cf_empty", None),
        ("RSSMRA80A01H501", "cf_length", None),
        ("RSSMRA80A01H501X", "cf_check_char", 16),
        ("RSSMRA80Z01H501U", "cf_month", 9),
        ("RSSMRA8$A01H501U", "cf_char", 8),
    ],
)
def test_invalid_codes_raise_with_code_and_position(
    value: str, code: str, position: int | None
) -> None:
    with pytest.raises(anist.InvalidCodiceFiscale) as info:
        anist.CodiceFiscale.parse(value)
    err = info.value
    assert err.code == code
    assert err.position == position
    assert isinstance(err, ValueError)
    assert isinstance(err, anist.AnistError)
    assert err.message == str(err)
    assert value[:8] not in str(err) or value == ""


def test_is_valid_cf() -> None:
    assert anist.is_valid_cf(VALID)
    assert not anist.is_valid_cf("RSSMRA80A01H501X")
    with pytest.raises(TypeError):
        anist.is_valid_cf(123)  # type: ignore[arg-type]


def test_validate_cf_many_matches_single_checks() -> None:
    codes = anist.synthetic_codes(5000, seed=3, mixed=True)
    results = anist.validate_cf_many(codes)
    assert len(results) == len(codes)
    for code, result in zip(codes, results):
        assert (result is None) == anist.is_valid_cf(code)
        if result is not None:
            with pytest.raises(anist.InvalidCodiceFiscale) as info:
                anist.CodiceFiscale.parse(code)
            assert info.value.code == result
    assert any(r is not None for r in results)


def test_validate_cf_many_takes_any_iterable_and_odd_items() -> None:
    gen = (c for c in [VALID, "nope"])
    assert anist.validate_cf_many(gen) == [None, "cf_length"]
    assert anist.validate_cf_many([]) == []
    assert anist.validate_cf_many(iter(())) == []
    # An item holding the batch separator falls back to one at a time.
    assert anist.validate_cf_many([VALID, "RSS\x1fMRA", ""]) == [None, "cf_char", "cf_empty"]
    with pytest.raises(TypeError):
        anist.validate_cf_many([VALID, 3])  # type: ignore[list-item]


def test_encode_and_match() -> None:
    cf = anist.CodiceFiscale.encode("Rossi", "Mario", datetime.date(1980, 1, 1), "M", "H501")
    assert cf.code == VALID
    by_name = anist.CodiceFiscale.encode("Rossi", "Mario", datetime.date(1980, 1, 1), "M", "Roma")
    assert by_name == cf
    assert cf.matches(surname="Rossi", name="Mario", sex="M") == {
        "surname": "matched",
        "name": "matched",
        "birth_date": "unknown",
        "sex": "matched",
        "place": "unknown",
    }
    assert cf.matches(birth_date=datetime.date(1981, 1, 1))["birth_date"] == "mismatched"
    with pytest.raises(anist.InvalidCodiceFiscale) as info:
        anist.CodiceFiscale.encode("", "Mario", datetime.date(1980, 1, 1), "M", "H501")
    assert info.value.code == "cf_encode_no_letters"
    with pytest.raises(anist.InvalidInput) as bad_sex:
        cf.matches(sex="X")
    assert bad_sex.value.code == "sex_invalid"


def test_synthetic_people_encode_back() -> None:
    for p in anist.synthetic_people(50, seed=11):
        cf = anist.CodiceFiscale.encode(
            str(p["surname"]),
            str(p["name"]),
            p["birth_date"],  # type: ignore[arg-type]
            str(p["sex"]),
            str(p["place_code"]),
        )
        assert cf.code == p["codice_fiscale"]


def test_id_anpr_and_meccanografico() -> None:
    assert anist.IdAnpr.parse(" ab12cd34e ").code == "AB12CD34E"
    with pytest.raises(anist.InvalidInput) as info:
        anist.IdAnpr.parse("AB12")
    assert info.value.code == "anpr_length"
    school = anist.CodiceMeccanografico.parse("rmee81501p")
    assert (school.province, school.type_code, school.progressive) == ("RM", "EE", "81501")
    assert school.school_kind == "primaria"
    assert school.role == "plesso"
    assert school.cycles == ["primaria"]
    assert school.check_status in {"valid", "mismatch", "not_applicable"}
    assert anist.CodiceMeccanografico.parse("RMPS12000X").school_kind == "liceo_scientifico"
    with pytest.raises(anist.InvalidInput) as bad:
        anist.CodiceMeccanografico.parse("")
    assert bad.value.code == "mecc_empty"


def test_school_year_and_obligation() -> None:
    y = anist.SchoolYear.parse("2025/26")
    assert str(y) == "2025/2026"
    assert y == anist.SchoolYear.starting(2025)
    assert y.first_day == datetime.date(2025, 9, 1)
    assert y.last_day == datetime.date(2026, 8, 31)
    assert y.contains(datetime.date(2026, 1, 10))
    assert y.previous() < y < y.next()
    assert y.compact() == "202526"
    assert anist.SchoolYear.containing(datetime.date(2025, 8, 31)) == y.previous()
    with pytest.raises(anist.InvalidInput) as info:
        anist.SchoolYear.parse("2025/2027")
    assert info.value.code == "school_year_not_consecutive"
    birth = datetime.date(2015, 5, 1)
    assert anist.obligation_status(birth, y) == "compulsory"
    assert anist.year_of_obligation(birth, y) == 5
    assert anist.expected_class(birth, y) == ("primaria", 5)
    assert anist.obligation_status(datetime.date(2022, 1, 1), y) == "not_yet_obliged"


def test_panic_surfaces_as_anist_error() -> None:
    with pytest.raises(anist.AnistError) as info:
        anist._anist._panic_for_test("boom")
    assert info.value.code == "internal_panic"
    assert "boom" in str(info.value)


def test_stubs_match_the_module() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "anist", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
