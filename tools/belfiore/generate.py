#!/usr/bin/env python3
"""Regenerate anist-core/src/place/data.rs from a pinned source.

The source is the PyPI wheel python-codicefiscale==0.12.1, whose data files
are built from the Ministero dell'Interno ANPR "archivio comuni" and "Tabella
stati esteri" (CC BY 4.0). The wheel's sha256 is pinned below; the script
refuses any other file.

Usage:
    python3 tools/belfiore/generate.py [WHEEL] [--out PATH]

Without WHEEL the script runs `pip download --no-deps` into a temporary
directory. Standard library only (Python >= 3.11). The output is
deterministic: running the script twice gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "python-codicefiscale"
VERSION = "0.12.1"
WHEEL_NAME = "python_codicefiscale-0.12.1-py3-none-any.whl"
WHEEL_SHA256 = "403f029ce8a184650d969ef0eb604b3457128dff4b057de1ee40a56f0674733d"

DATA_DIR = "codicefiscale/data/"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "anist-core" / "src" / "place" / "data.rs"

# Packed dates: yyyymmdd; 0 = unknown start ("since ever"), OPEN = no end.
OPEN = 99991231
# python-codicefiscale writes 1900-01-01 for foreign states whose start of
# validity is not known: treat it as "since ever".
PLACEHOLDER_START = 19000101

CODE_RE = re.compile(r"^[A-Z][0-9]{3}$")
PROVINCE_RE = re.compile(r"^[A-Z]{2}$")

# ---------------------------------------------------------------------------
# Foreign territories missing from python-codicefiscale 0.12.1.
#
# The Agenzia delle Entrate list of codici catastali for foreign states and
# territories (the one used to compute codici fiscali since the 1970s) has
# codes that ANPR's "Tabella stati esteri" (sovereign states only) and hence
# python-codicefiscale lack: dependent territories (Gibilterra, Groenlandia,
# Guadalupa, ...) and states that ceased before ANPR existed. Real codici
# fiscali carry them, so they are added here. Sources:
#
#   [AE] the Agenzia delle Entrate list as transcribed in the public
#        repository crisbnk/taxcode, file src/foreignCountries.js
#        (commit 012fe047309d06e0430b4a219afe0a5b82820420): code and name.
#   [CS] the "soppressa/data_soppressione" table of the open20 "amos" comuni
#        module, migration m180810_100000_add_column_soppressa_plus_add_data
#        (data "manually extracted" from amministrazionicomunali.net
#        ESTERI.XLS, itself a copy of the Agenzia delle Entrate file):
#        cessation dates of ceased states.
#
# Start of validity is unknown for all of them (always valid from the
# start). The end is the [CS] cessation date, read like python-codicefiscale's
# date_deleted (last day the code was valid); None = no cessation known.
# Codes already present in python-codicefiscale are never overridden: where
# [AE]/[CS] give an older name for an existing code (Z300 Africa del
# Sud-Ovest = Namibia, Z606 Guyana Britannica = Guyana, Z608 Guyana Olandese
# = Suriname, Z242 Timor = Timor Orientale) the older name is only added as
# an alias. Entries of [CS] that contradict [AE] are left out and noted.
# ---------------------------------------------------------------------------
EXTRA_TERRITORIES: list[tuple[str, str, int | None, tuple[str, ...], str]] = [
    # (code, name, valid_to yyyymmdd or None, aliases, sources)
    ("Z113", "GIBILTERRA", None, (), "AE"),
    ("Z122", "ISOLA DI MAN", None, ("MAN",), "AE"),
    ("Z124", "ISOLE NORMANNE", None, ("ISOLE DEL CANALE",), "AE"),
    # Old code of Armenia (now Z252). Neither source gives its cessation
    # date: 1994-01-01 is INFERRED from the other old codes of former Soviet
    # republics (Z136 Georgia in python-codicefiscale, Z141/Z142/Z147/Z151 in
    # [CS]), so that "Armenia" finds the current Z252.
    ("Z137", "ARMENIA", 19940101, (), "AE; end inferred"),
    # Old codes of former Soviet republics, replaced by Z253/Z256/Z257/Z258.
    ("Z141", "AZERBAIGIAN", 19940101, (), "AE, CS"),
    ("Z142", "KIRGHIZISTAN", 19940101, (), "CS"),
    ("Z147", "TAGIKISTAN", 19940101, (), "CS"),
    ("Z151", "TURKMENISTAN", 19940101, (), "CS"),
    ("Z212", "ISOLE COCOS", None, (), "AE"),
    ("Z218", "TERRITORIO DI GAZA", None, ("GAZA",), "AE"),
    # Old code of Malaysia (now Z247).
    ("Z230", "MALAYSIA", 19650809, (), "AE, CS"),
    ("Z231", "MACAO", None, (), "AE"),
    ("Z238", "ISOLE RYUKYU", 19720522, (), "AE, CS"),
    ("Z239", "SIKKIM", 19740628, (), "AE, CS"),
    ("Z244", "VIETNAM DEL SUD", 19760425, (), "AE, CS"),
    ("Z245", "VIETNAM DEL NORD", 19760425, (), "AE, CS"),
    ("Z303", "BASUTOLAND", 19661004, (), "AE, CS"),
    ("Z304", "BECIUANIA", 19660930, (), "AE, CS"),
    ("Z323", "IFNI", 19841231, (), "AE, CS"),
    ("Z324", "LA RIUNIONE", None, ("REUNION", "LA REUNION"), "AE"),
    ("Z339", "SAHARA SPAGNOLO", 19760101, (), "AE, CS"),
    (
        "Z346",
        "TERRITORIO FRANCESE DEGLI AFAR E DEGLI ISSA",
        19770627,
        ("SOMALIA FRANCESE",),
        "AE, CS",
    ),
    ("Z356", "ZANZIBAR", 19640425, (), "AE, CS"),
    ("Z362", "SAHARA MERIDIONALE", 19760101, (), "CS"),
    ("Z363", "SAHARA SETTENTRIONALE", 19760101, (), "CS"),
    ("Z364", "BOPHUTHATSWANA", 19940101, (), "AE, CS"),
    ("Z365", "TRANSKEI", 19940101, (), "CS"),
    ("Z366", "VENDA", 19940101, (), "CS"),
    ("Z367", "CISKEI", 19940101, (), "AE, CS"),
    ("Z369", "NYASALAND", 19640705, (), "CS"),
    ("Z370", "CONGO BELGA", 19600101, (), "CS"),
    ("Z402", "GROENLANDIA", None, (), "AE"),
    ("Z500", "ANTILLE BRITANNICHE", 19751231, (), "AE, CS"),
    ("Z508", "GUADALUPA", None, (), "AE"),
    ("Z517", "ZONA DEL CANALE DI PANAMA", 19770907, ("PANAMA ZONA DEL CANALE",), "AE, CS"),
    ("Z521", "ANTILLE BRITANNICHE", 19740207, (), "CS"),
    ("Z523", "ANTILLE BRITANNICHE", 19830919, (), "CS"),
    ("Z529", "ANGUILLA", None, (), "AE"),
    ("Z531", "MONTSERRAT", None, (), "AE"),
    ("Z607", "GUYANA FRANCESE", None, ("GUAYANA FRANCESE",), "AE"),
    ("Z609", "ISOLE FALKLAND", None, ("ISOLE MALVINE", "FALKLAND", "MALVINE"), "AE"),
    ("Z701", "ISOLE CAROLINE", 19841231, (), "AE, CS"),
    ("Z702", "ISOLA CHRISTMAS", None, (), "AE"),
    ("Z705", "ISOLE GILBERT E ELLICE", 19801231, (), "AE, CS"),
    ("Z706", "GUAM", None, (), "AE"),
    ("Z707", "IRIAN OCCIDENTALE", None, (), "AE"),
    ("Z708", "ISOLE MACQUARIE", None, (), "AE"),
    # [CS] also lists "Marcus (Isole)" under Z705 (ceased 1975-12-31), which
    # contradicts [AE] (Z705 = Gilbert e Ellice, Z709 = Marcus): [AE] kept.
    ("Z709", "ISOLE MARCUS", None, (), "AE"),
    ("Z710", "ISOLE MARIANNE", None, (), "AE"),
    ("Z712", "ISOLE MIDWAY", None, (), "AE"),
    ("Z714", "NIUE", None, (), "AE"),
    ("Z715", "ISOLA NORFOLK", None, (), "AE"),
    ("Z716", "NUOVA CALEDONIA", None, (), "AE"),
    ("Z717", "NUOVE EBRIDI", 19801231, (), "AE, CS"),
    ("Z718", "NUOVA GUINEA", 19751231, (), "AE, CS"),
    ("Z720", "PAPUASIA", 19751231, (), "AE, CS"),
    ("Z721", "ISOLA DI PASQUA", None, (), "AE"),
    ("Z722", "ISOLE PITCAIRN", None, (), "AE"),
    ("Z725", "SAMOA AMERICANE", None, (), "AE"),
    ("Z727", "TOKELAU", None, (), "AE"),
    ("Z800", "DIPENDENZE CANADESI", None, (), "AE, CS"),
    ("Z801", "DIPENDENZE NORVEGESI ARTICHE", None, (), "AE, CS"),
    # [CS]: "Dipendenze Sovietiche" until 1992-03-31, then "Dipendenze Russe"
    # under the same code.
    ("Z802", "DIPENDENZE RUSSE", None, ("DIPENDENZE SOVIETICHE",), "AE, CS"),
    ("Z900", "DIPENDENZE AUSTRALIANE", None, (), "AE, CS"),
    ("Z901", "DIPENDENZE BRITANNICHE", None, (), "AE, CS"),
    ("Z902", "DIPENDENZE FRANCESI", None, (), "AE, CS"),
    ("Z903", "DIPENDENZE NEOZELANDESI", None, (), "AE, CS"),
    ("Z904", "DIPENDENZE NORVEGESI ANTARTICHE", None, (), "AE, CS"),
    ("Z905", "DIPENDENZE STATUNITENSI", None, (), "AE, CS"),
    ("Z906", "DIPENDENZE SUDAFRICANE", None, (), "AE, CS"),
]

# Older names of codes python-codicefiscale already has (see above), added as
# aliases for name search only.
EXTRA_ALIASES: list[tuple[str, str, str]] = [
    ("Z300", "AFRICA DEL SUD OVEST", "AE, CS"),
    ("Z606", "GUYANA BRITANNICA", "AE, CS"),
    ("Z608", "GUYANA OLANDESE", "AE, CS"),
    ("Z242", "TIMOR", "AE, CS"),
    # [AE] and [CS] name Z501 "Antille Olandesi" (the Netherlands Antilles,
    # which included Aruba until 1986); python-codicefiscale names it Aruba.
    ("Z501", "ANTILLE OLANDESI", "AE, CS"),
]


@dataclass
class Era:
    code: str
    name: str
    alt: str
    province: str
    start: int  # yyyymmdd, 0 = unknown
    end: int  # yyyymmdd, OPEN = still valid
    aliases: list[str] = field(default_factory=list)


def fail(msg: str) -> None:
    sys.exit(f"generate.py: error: {msg}")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def download_wheel(dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        f"{PACKAGE}=={VERSION}",
        "-d",
        str(dest),
    ]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    wheel = dest / WHEEL_NAME
    if not wheel.is_file():
        fail(f"pip did not produce {WHEEL_NAME}")
    return wheel


def load_json(zf: zipfile.ZipFile, name: str) -> list[dict]:
    with zf.open(DATA_DIR + name) as f:
        data = json.load(f)
    if not isinstance(data, list):
        fail(f"{name}: expected a JSON list")
    return data


def parse_date(text: str, what: str) -> int | None:
    """'1924-11-14T00:00:00' -> 19241114; '' -> None.

    Tolerates the malformed '1934-01-01:T00:00:00' found in the patch file.
    """
    text = text.strip()
    if not text:
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if not m:
        fail(f"bad date {text!r} in {what}")
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        fail(f"bad date {text!r} in {what}")
    return y * 10000 + mo * 100 + d


def upper_name(name: str) -> str:
    """Uppercase as in the ANPR archive, keeping accents (and 'ß')."""
    name = " ".join(name.split())
    return "".join(c if c == "ß" else c.upper() for c in name)


def fold(name: str) -> str:
    """Approximation of the Rust-side folding, only used to drop duplicates."""
    decomposed = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    return "".join(c for c in decomposed.upper() if c.isascii() and c.isalnum())


def municipality_eras(rows: list[dict], patch: list[dict]) -> tuple[list[Era], int]:
    seen: set[tuple] = set()
    eras: list[Era] = []
    skipped_nd = 0
    for row in rows + patch:
        code = row["code"]
        what = f"municipality {code} {row['name']!r}"
        if code == "ND":
            # The archive has a few eras without a codice catastale ("non
            # disponibile"): they cannot be looked up by code.
            skipped_nd += 1
            continue
        if not CODE_RE.match(code) or code[0] == "Z":
            fail(f"bad code in {what}")
        if not PROVINCE_RE.match(row["province"]):
            fail(f"bad province in {what}")
        start = parse_date(row["date_created"], what) or 0
        end = parse_date(row["date_deleted"], what) or OPEN
        if end < start:
            fail(f"end before start in {what}")
        name = upper_name(row["name"])
        alt = upper_name(row["name_alt"])
        if fold(alt) == fold(name):
            alt = ""
        key = (code, start, end, name, row["province"])
        if key in seen:  # the patch file repeats rows already merged
            continue
        seen.add(key)
        eras.append(Era(code, name, alt, row["province"], start, end))
    return eras, skipped_nd


def country_eras(
    countries: list[dict], patch: list[dict], deleted: list[dict]
) -> list[Era]:
    by_code: dict[str, dict] = {}
    for row in countries:
        if row["code"] in by_code:
            fail(f"duplicate country {row['code']}")
        by_code[row["code"]] = row
    for row in patch:  # patched rows replace the original ones
        by_code[row["code"]] = row
    for row in deleted:
        if row["code"] in by_code:
            fail(f"deleted country {row['code']} also current")
        by_code[row["code"]] = row
    eras = []
    for code in sorted(by_code):
        row = by_code[code]
        what = f"country {code} {row['name']!r}"
        if not CODE_RE.match(code) or code[0] != "Z":
            fail(f"bad code in {what}")
        if row["province"] != "EE":
            fail(f"bad province in {what}")
        start = parse_date(row["date_created"], what) or 0
        if start == PLACEHOLDER_START:
            start = 0
        end = parse_date(row["date_deleted"], what) or OPEN
        if end < start:
            fail(f"end before start in {what}")
        name = upper_name(row["name"])
        alt = upper_name(row.get("name_alt", ""))
        if fold(alt) == fold(name):
            alt = ""
        known = {fold(name), fold(alt)}
        aliases = []
        for extra in [row.get("name_alt_en", "")] + list(row.get("name_slugs", [])):
            alias = upper_name(extra.replace("-", " "))
            if alias and fold(alias) not in known:
                known.add(fold(alias))
                aliases.append(alias)
        eras.append(Era(code, name, alt, "EE", start, end, aliases))
    return eras


def add_extras(eras: list[Era]) -> list[str]:
    known = {e.code for e in eras}
    added = []
    for code, name, end, aliases, _src in EXTRA_TERRITORIES:
        if not CODE_RE.match(code) or code[0] != "Z":
            fail(f"bad extra code {code}")
        if code in known:
            fail(f"extra territory {code} already in the source: drop it")
        known.add(code)
        eras.append(Era(code, name, "", "EE", 0, end or OPEN, list(aliases)))
        added.append(code)
    by_code = {e.code: e for e in eras if e.code[0] == "Z"}
    for code, alias, _src in EXTRA_ALIASES:
        era = by_code.get(code)
        if era is None:
            fail(f"alias for unknown code {code}")
        if fold(alias) not in {fold(era.name), fold(era.alt)} | {
            fold(a) for a in era.aliases
        }:
            era.aliases.append(alias)
    return added


def rust_str_chunks(text: str, width: int = 96) -> list[str]:
    """Split the names blob into string-literal lines joined by `\\`.

    A `\\` line continuation drops the next line's leading whitespace, so a
    chunk must never start with a blank; the caller guarantees that names do
    not start with one and chunks are cut only at name boundaries.
    """
    for ch in ('"', "\\", "\n", "\r", "\t"):
        if ch in text:
            fail(f"names contain {ch!r}")
    return [text[i : i + width] for i in range(0, len(text), width)]


class Blob:
    """Deduplicated concatenation of names, addressed by (offset, len)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.offsets: dict[str, int] = {}

    def add(self, s: str) -> tuple[int, int]:
        if not s:
            return (0, 0)
        n = len(s.encode("utf-8"))
        if n > 255:
            fail(f"name too long: {s!r}")
        if s[0].isspace():
            fail(f"name starts with a blank: {s!r}")
        off = self.offsets.get(s)
        if off is None:
            off = self.size
            self.offsets[s] = off
            self.parts.append(s)
            self.size += n
        return (off, n)


def render(eras: list[Era], provinces: list[str]) -> str:
    blob = Blob()
    # Names first, in era order, so the file is stable and readable.
    lines_eras = []
    lines_aliases = []
    prov_ix = {p: i for i, p in enumerate(provinces)}
    for i, e in enumerate(eras):
        key = (ord(e.code[0]) - ord("A")) * 1000 + int(e.code[1:])
        n_off, n_len = blob.add(e.name)
        if e.alt:
            a_off, a_len = blob.add(e.alt)
            lines_eras.append(
                f"a({key},{n_off},{n_len},{a_off},{a_len},{prov_ix[e.province]},{e.start},{e.end}),"
                f" // {e.code}"
            )
        else:
            lines_eras.append(
                f"e({key},{n_off},{n_len},{prov_ix[e.province]},{e.start},{e.end}), // {e.code}"
            )
        for alias in e.aliases:
            off, n = blob.add(alias)
            lines_aliases.append(f"({i},{off},{n}), // {e.code} {alias}")

    # Cut the names blob at name boundaries into lines of ~100 bytes.
    chunks: list[str] = []
    cur = ""
    for part in blob.parts:
        if cur and len(cur) + len(part) > 100:
            chunks.append(cur)
            cur = ""
        cur += part
    if cur:
        chunks.append(cur)
    for c in chunks:
        rust_str_chunks(c)  # validation only

    out = []
    out.append(
        f"// generated by tools/belfiore/generate.py from {PACKAGE} {VERSION} "
        f"(sha256 {WHEEL_SHA256}) — do not edit\n"
    )
    out.append(
        "//\n"
        "// Data: Ministero dell'Interno, ANPR \"archivio comuni\" and \"Tabella stati\n"
        "// esteri\" (CC BY 4.0), via the python-codicefiscale data files, plus the\n"
        "// foreign territories listed in generate.py. See NOTICE.\n"
        "//\n"
        "// e(key, name_off, name_len, province_ix, from, to)\n"
        "// a(key, name_off, name_len, alt_off, alt_len, province_ix, from, to)\n"
        "// key = (letter - 'A') * 1000 + number; dates yyyymmdd, 0 = unknown start,\n"
        "// 99991231 = still valid; `to` is the last day of validity.\n\n"
    )
    out.append("use super::PlaceEra;\n\n")
    out.append(
        "const fn e(key: u16, name_off: u32, name_len: u8, prov: u8, from: u32, to: u32) -> PlaceEra {\n"
        "    PlaceEra::raw(key, name_off, name_len, 0, 0, prov, from, to)\n"
        "}\n\n"
    )
    out.append(
        "#[allow(clippy::too_many_arguments)]\n"
        "const fn a(\n    key: u16,\n    name_off: u32,\n    name_len: u8,\n    alt_off: u32,\n"
        "    alt_len: u8,\n    prov: u8,\n    from: u32,\n    to: u32,\n) -> PlaceEra {\n"
        "    PlaceEra::raw(key, name_off, name_len, alt_off, alt_len, prov, from, to)\n"
        "}\n\n"
    )
    out.append(f"/// Number of eras in [`ERAS`].\npub(super) const ERA_COUNT: usize = {len(eras)};\n\n")
    out.append(
        "/// Province sigle, two bytes each, indexed by `province_ix`.\n"
        f'pub(super) const PROVINCES: &str = "{"".join(provinces)}";\n\n'
    )
    out.append("/// All names (and alternative names and aliases), concatenated.\n")
    out.append('pub(super) const NAMES: &str = "\\\n')
    out.append("\\\n".join(chunks))
    out.append('";\n\n')
    out.append(
        "/// Every era, sorted by key, then start, end and name.\n"
        "// A const (not a static) so that `build_index` can read it at compile\n"
        "// time; only the static copy in mod.rs ends up in the binary.\n"
        "#[allow(clippy::large_const_arrays)]\n"
        "pub(super) const ERAS: [PlaceEra; ERA_COUNT] = [\n"
    )
    out.append("\n".join(lines_eras))
    out.append("\n];\n\n")
    out.append(
        "/// Extra search names: (era index, name_off, name_len).\n"
        "pub(super) const ALIASES: &[(u16, u32, u8)] = &[\n"
    )
    out.append("\n".join(lines_aliases))
    out.append("\n];\n")
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wheel", nargs="?", help=f"path to {WHEEL_NAME}")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output .rs file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(args.wheel) if args.wheel else download_wheel(Path(tmp))
        digest = sha256_of(wheel)
        if digest != WHEEL_SHA256:
            fail(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
        with zipfile.ZipFile(wheel) as zf:
            municipalities = load_json(zf, "municipalities.json")
            municipalities_patch = load_json(zf, "municipalities-patch.json")
            countries = load_json(zf, "countries.json")
            countries_patch = load_json(zf, "countries-patch.json")
            deleted_countries = load_json(zf, "deleted-countries.json")

    eras, skipped_nd = municipality_eras(municipalities, municipalities_patch)
    eras += country_eras(countries, countries_patch, deleted_countries)
    added = add_extras(eras)
    eras.sort(key=lambda e: (e.code, e.start, e.end, e.name, e.province))

    if len(eras) >= 65535:
        fail("too many eras for u16 indices")
    provinces = sorted({e.province for e in eras})
    if len(provinces) > 255:
        fail("too many provinces")

    text = render(eras, provinces)
    out = Path(args.out)
    out.write_text(text, encoding="utf-8")

    codes = {e.code for e in eras}
    current_comuni = sum(1 for e in eras if e.code[0] != "Z" and e.end == OPEN)
    print(
        f"wrote {out}: {len(eras)} eras, {len(codes)} codes "
        f"({sum(1 for c in codes if c[0] == 'Z')} foreign), "
        f"{current_comuni} current comuni, {len(added)} territories added, "
        f"{skipped_nd} eras without code skipped, {len(text.encode())} bytes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
