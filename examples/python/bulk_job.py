"""Run the school-attendance check of a municipal CSV against the sandbox,
with a progress callback. Writes into a temporary directory."""

import csv
import pathlib
import tempfile

import anist

box = anist.Sandbox(seed=42, population=300)
client = box.start()
with tempfile.TemporaryDirectory() as tmp:
    src = pathlib.Path(tmp) / "anagrafe.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["CODICE_FISCALE"])
        for cf in box.pupils(300):
            w.writerow([cf])

    def progress(p: anist.Progress) -> None:
        print(f"\r{p.rows_done}/{p.rows_total}", end="", flush=True)

    summary = client.run_bulk(src, pathlib.Path(tmp) / "esiti.csv", box.school_year, progress=progress)
    print()
    print(summary.outcomes)
    assert summary.rows_done == 300
box.close()
