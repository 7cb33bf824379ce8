"""Read an INPS ISEE Indicatore answer (inner XML, synthetic sample)."""

import datetime
import pathlib
import sys

import anist

root = pathlib.Path(__file__).resolve().parents[2]
xml = (root / "anist-core/tests/data/isee/indicatore_ordinario_utf8.xml").read_bytes()
ind = anist.parse_indicatore(xml)
print(ind.kind, ind.isee, ind.scala, ind.protocollo_dsu, "valid until", ind.valid_until)
print("valid on 2025-06-01:", ind.is_valid_on(datetime.date(2025, 6, 1)))

e = anist.isee_eligibility("comune", "indicatore")
print("plain Indicatore for a comune:", e.allowed, "->", e.alternatives)
sys.exit(0 if ind.isee > 0 else 1)
