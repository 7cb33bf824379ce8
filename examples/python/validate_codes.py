"""Validate codici fiscali one by one and in bulk (synthetic codes only)."""

import anist

cf = anist.CodiceFiscale.parse("RSSMRA80A41H50MQ")
print(cf.masked, cf.sex, cf.birth_date, cf.place_name, "omocodia", cf.omocodia_level)
print("canonical:", cf.canonical.masked)

try:
    anist.CodiceFiscale.parse("RSSMRA80A01H501X")
except anist.InvalidCodiceFiscale as e:
    print("invalid:", e.code, "at position", e.position)

codes = anist.synthetic_codes(100_000, seed=2026, mixed=True)
results = anist.validate_cf_many(codes)
invalid = [r for r in results if r is not None]
print(f"{len(codes)} codes, {len(invalid)} invalid")
assert len(invalid) > 0
