"""Reading sanctions lists in the OFAC SDN.CSV layout (the bundled sample, or the real SDN.CSV and ALT.CSV).

Pure parsing, no database: migration 0004 and `manage.py sanctions_load` both call `sanctions_file_parse`.

SDN.CSV columns: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag,
Vess_owner, Remarks; "-0-" means empty; SDN_Type is individual | vessel | aircraft, or empty for an entity.
ALT.CSV columns: ent_num, alt_num, alt_type, alt_name, alt_remarks. Aliases written as a.k.a. 'NAME' (or f.k.a.)
in Remarks are read too. Lines starting with "#" are comments; "# Source: ..." and "# Date: YYYY-MM-DD" give the
list's provenance. A header row (first cell "ent_num") is optional; the real files have none.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

BUNDLED_SANCTIONS_FILE = Path(__file__).resolve().parent / "sanctions.csv"

# How a name is normalised for matching, in SQL, for the list (at load) and for the name screened alike: accents
# and ligatures transliterated (unaccent), lower case, every run of punctuation or spaces made one space.
NORMALIZED_NAME_SQL = "btrim(regexp_replace(lower(unaccent({})), '[^[:alnum:]]+', ' ', 'g'))"

_EMPTY = "-0-"
_ALIAS_IN_REMARKS = re.compile(r"\b[af]\.k\.a\.,?\s*'([^']+)'", re.IGNORECASE)
_KINDS = {"individual": "individual", "vessel": "vessel", "aircraft": "aircraft"}


@dataclass(frozen=True)
class ListedName:
    list_entry_id: str
    name: str
    primary_name: str
    is_alias: bool
    kind: str
    programs: str
    remarks: str


@dataclass
class SanctionsFile:
    names: list[ListedName] = field(default_factory=list)
    source: str = ""
    list_date: date | None = None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")  # OFAC's files are Windows-1252 where they are not ASCII


def _cell(value: str) -> str:
    value = value.strip().strip("\x1a").strip()
    return "" if value == _EMPTY else value


def _rows(text: str, meta: SanctionsFile | None) -> list[list[str]]:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if meta is not None:
                key, _, value = stripped.lstrip("#").partition(":")
                if key.strip().lower() == "source" and not meta.source:
                    meta.source = value.strip()
                elif key.strip().lower() == "date" and meta.list_date is None:
                    meta.list_date = date.fromisoformat(value.strip())
            continue
        if stripped and stripped != "\x1a":
            lines.append(line)
    rows = [[_cell(cell) for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)))]
    return [row for row in rows if len(row) >= 2 and row[0] and row[0].lower() != "ent_num"]


def sanctions_file_parse(path: Path | str, *, alt_path: Path | str | None = None) -> SanctionsFile:
    """Every listed name of the file (primary names and aliases, each once per entry), with the list's source and
    date from its header comments when it has them."""
    result = SanctionsFile()
    entries: dict[str, ListedName] = {}
    seen: set[tuple[str, str]] = set()

    def add(listed: ListedName) -> None:
        key = (listed.list_entry_id, listed.name.casefold())
        if listed.name and key not in seen:
            seen.add(key)
            result.names.append(listed)

    for row in _rows(_read_text(Path(path)), result):
        row = row + [""] * (12 - len(row))
        entry_id, name, kind, programs, remarks = row[0], row[1], row[2].lower(), row[3], row[11]
        primary = ListedName(entry_id, name, name, False, _KINDS.get(kind, "entity"), programs, remarks)
        entries[entry_id] = primary
        add(primary)
        for alias in _ALIAS_IN_REMARKS.findall(remarks):
            add(ListedName(entry_id, alias.strip(), name, True, primary.kind, programs, remarks))
    if alt_path is not None:
        for row in _rows(_read_text(Path(alt_path)), None):
            row = row + [""] * (5 - len(row))
            listed = entries.get(row[0])
            if listed is not None and row[3]:
                add(ListedName(row[0], row[3], listed.name, True, listed.kind, listed.programs, row[4]))
    return result
