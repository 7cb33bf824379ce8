"""Ask ANIST whether pupils attend school, against the local sandbox."""

import anist

with anist.Sandbox(seed=42, population=100) as client:
    year = anist.SchoolYear.current()
    for cf in anist.synthetic_codes(3, seed=1):
        answer = client.verify(cf, year=year)
        print(anist.CodiceFiscale.parse(cf).masked, "no data" if answer is None else answer)
    try:
        client.verify("RSSMRA80A01H501X")
    except anist.InvalidCodiceFiscale as e:
        print("refused locally:", e.code)
