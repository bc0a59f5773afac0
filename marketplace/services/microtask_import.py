"""Importing micro-task units from an uploaded CSV or JSON lines file: everything is validated first, each bad
row gets its own error, and nothing is imported unless every row is good (one bulk insert)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from core.errors import ApplicationError
from core.services import audit_record
from marketplace.models import TaskBatch, TaskUnit
from marketplace.selectors.microtasks import task_batch_get_for_client_for_update

if TYPE_CHECKING:
    from accounts.models import User

IMPORT_MAX_ROWS = 50_000
IMPORT_MAX_BYTES = 50 * 1024 * 1024
IMPORT_MAX_LISTED_ERRORS = 200
IMPORT_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


# --- importing units --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    created: int
    gold: int


@dataclass
class _ParsedUnit:
    row: int
    external_id: str
    payload: dict[str, Any]
    gold_answer: Any = None
    is_gold: bool = False


# Each payload key becomes one of the batch's columns (TaskBatch.payload_columns: up to 200 characters each).
PAYLOAD_KEY_MAX_LENGTH = 200


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _storage_problem(payload: dict[str, Any], gold: Any) -> str | None:
    """What PostgreSQL could not store, said as the row's problem (instead of failing the whole upload)."""
    if any(len(str(key)) > PAYLOAD_KEY_MAX_LENGTH for key in payload):
        return f"a payload key is longer than {PAYLOAD_KEY_MAX_LENGTH} characters: name each column in fewer."
    if _contains_nul(payload) or _contains_nul(gold):
        return "contains a NUL character (\\0), which can't be stored: remove it."
    return None


class _RowErrors:
    """Collects 'Row N: ...' messages while the whole file is checked."""

    def __init__(self, existing_ids: set[str]) -> None:
        self.messages: list[str] = []
        self.bad_rows: set[int] = set()
        self.seen: dict[str, int] = {}
        self.existing = existing_ids

    def add(self, row: int, message: str) -> None:
        self.bad_rows.add(row)
        self.messages.append(f"Row {row}: {message}")

    def check_id(self, row: int, raw: Any) -> str | None:
        if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
            self.add(row, "the “id” is missing: every unit needs an id.")
            return None
        external_id = str(raw).strip()
        if "\x00" in external_id:
            self.add(row, "the id contains a NUL character (\\0): remove it.")
        elif not external_id:
            self.add(row, "the “id” is empty: every unit needs an id.")
        elif len(external_id) > TaskUnit.EXTERNAL_ID_MAX_LENGTH:
            self.add(row, f"the id is longer than {TaskUnit.EXTERNAL_ID_MAX_LENGTH} characters.")
        elif external_id in self.seen:
            self.add(row, f"the id “{external_id}” is used twice in the file (first on row {self.seen[external_id]}).")
        elif external_id in self.existing:
            self.add(row, f"the id “{external_id}” is already in this batch.")
        else:
            self.seen[external_id] = row
            return external_id
        return None


def _file_error(message: str) -> ApplicationError:
    return ApplicationError(
        f"Nothing was imported: {message}", code="invalid_units_file", field_errors={"file": [message]}
    )


def _read_text(file: IO[bytes], name: str) -> tuple[str, str]:
    extension = PurePath(name).suffix.lower()
    kind = IMPORT_EXTENSIONS.get(extension)
    if kind is None:
        raise _file_error(f"“{name}” is not a .csv or .jsonl file. Upload units as CSV or JSON lines.")
    raw = file.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        raise _file_error(f"the file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB: split it into parts.")
    if not raw.strip():
        raise _file_error("the file is empty.")
    try:
        if b"\x00" in raw:
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\x00"), raw.index(b"\x00") + 1, "NUL byte")
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _file_error(
            f"the file is not UTF-8 text (unreadable byte at position {error.start}). "
            "Save it as “CSV UTF-8” (or JSON lines in UTF-8) and upload it again."
        ) from error
    first = text.lstrip()[:1]
    if kind == "csv" and first in "{[":
        raise _file_error("this looks like JSON, not CSV. Name a JSON lines file “….jsonl”.")
    if kind == "jsonl" and first != "{":
        raise _file_error('this is not JSON lines: each line must be an object such as {"id": …, "payload": {…}}.')
    return kind, text


def _gold_from_text(value: str) -> tuple[Any, str | None]:
    """A CSV gold answer is JSON when it parses as JSON, else plain text; broken JSON objects are an error."""
    try:
        return json.loads(value), None
    except ValueError as error:
        if value[:1] in "{[":
            return None, f"“gold_answer” looks like JSON but is not valid ({error})."
        return value, None


def _parse_csv(text: str, errors: _RowErrors) -> list[_ParsedUnit]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except csv.Error as error:
        raise _file_error(f"the header row can’t be read as CSV ({error}).") from error
    lowered = [column.casefold() for column in header]
    if "id" not in lowered:
        raise _file_error("the first row must name the columns, one of them “id”.")
    if "" in header:
        raise _file_error(f"column {header.index('') + 1} of the header row has no name.")
    duplicates = sorted({column for column in header if lowered.count(column.casefold()) > 1})
    if duplicates:
        raise _file_error(f"the header names these columns twice: {', '.join(duplicates)}.")
    id_index = lowered.index("id")
    gold_index = lowered.index("gold_answer") if "gold_answer" in lowered else None
    data_columns = [(i, column) for i, column in enumerate(header) if i not in (id_index, gold_index)]

    units: list[_ParsedUnit] = []
    rows, line = 0, reader.line_num
    while True:
        row_number = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.add(row_number, f"can’t be read as CSV ({error}); nothing after it was checked.")
            break
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not units
        rows += 1
        if rows > IMPORT_MAX_ROWS:
            raise _file_error(f"the file has more than {IMPORT_MAX_ROWS:,} units: split it into several uploads.")
        if len(record) != len(header):
            errors.add(row_number, f"has {len(record)} values but the header has {len(header)} columns.")
            continue
        external_id = errors.check_id(row_number, record[id_index])
        payload = {column: record[i] for i, column in data_columns}
        if not any(value.strip() for value in payload.values()):
            errors.add(row_number, "has no data besides its id: fill in at least one column.")
            continue
        unstorable = _storage_problem(payload, record[gold_index] if gold_index is not None else None)
        if unstorable:
            errors.add(row_number, unstorable)
            continue
        unit = _ParsedUnit(row=row_number, external_id=external_id or "", payload=payload)
        gold_text = record[gold_index].strip() if gold_index is not None else ""
        if gold_text:
            unit.gold_answer, problem = _gold_from_text(gold_text)
            unit.is_gold = problem is None
            if problem:
                errors.add(row_number, problem)
        units.append(unit)
    return units


def _parse_jsonl(text: str, errors: _RowErrors) -> list[_ParsedUnit]:
    units: list[_ParsedUnit] = []
    rows = 0
    # Split on \n only: JSON strings may hold other Unicode line separators.
    for row_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        rows += 1
        if rows > IMPORT_MAX_ROWS:
            raise _file_error(f"the file has more than {IMPORT_MAX_ROWS:,} units: split it into several uploads.")
        try:
            item = json.loads(line)
        except ValueError as error:
            errors.add(row_number, f"is not valid JSON ({error}).")
            continue
        if not isinstance(item, dict):
            errors.add(row_number, "must be a JSON object with “id” and “payload”.")
            continue
        unknown = sorted(set(item) - {"id", "payload", "gold_answer"})
        if unknown:
            errors.add(row_number, f"has unknown keys ({', '.join(unknown)}): use only id, payload and gold_answer.")
            continue
        external_id = errors.check_id(row_number, item.get("id"))
        payload = item.get("payload")
        if not isinstance(payload, dict):
            problem = "is missing" if payload is None else "must be a JSON object"
            errors.add(row_number, f'the “payload” {problem}, such as {{"text": "…"}}.')
            continue
        if not payload:
            errors.add(row_number, "the “payload” is empty: give the worker something to work on.")
            continue
        gold = item.get("gold_answer")
        if gold is not None and (gold == "" or gold == {} or gold == []):
            errors.add(row_number, "the “gold_answer” is empty: leave it out for a regular unit.")
            continue
        unstorable = _storage_problem(payload, gold)
        if unstorable:
            errors.add(row_number, unstorable)
            continue
        units.append(_ParsedUnit(row_number, external_id or "", payload, gold_answer=gold, is_gold=gold is not None))
    return units


@transaction.atomic
def task_units_import(*, batch_id: int, file: IO[bytes], by: User) -> ImportResult:
    """Add units from a CSV (header row with an `id` column, optional `gold_answer`, the other columns become the
    payload) or a JSON lines file ({"id", "payload", "gold_answer"?} per line). All or nothing: every row is checked
    first, and one bad row means nothing is imported and every problem is listed."""
    batch = task_batch_get_for_client_for_update(batch_id=batch_id, user=by)  # serialises imports into one batch
    if batch.status == TaskBatch.Status.CLOSED:
        raise ApplicationError("This batch is closed: reopen it to add units.", code="batch_closed", status=409)
    name = getattr(file, "name", "") or "upload"
    kind, text = _read_text(file, PurePath(name).name)
    errors = _RowErrors(existing_ids=set(batch.units.values_list("external_id", flat=True)))
    units = _parse_csv(text, errors) if kind == "csv" else _parse_jsonl(text, errors)
    if errors.messages:
        listed = errors.messages[:IMPORT_MAX_LISTED_ERRORS]
        if len(errors.messages) > len(listed):
            listed.append(f"…and {len(errors.messages) - len(listed):,} more problems not listed here.")
        count = len(errors.bad_rows)
        raise ApplicationError(
            f"Nothing was imported: {count} {'row has a problem' if count == 1 else 'rows have problems'}. "
            "Fix them and upload the whole file again.",
            code="invalid_units_file",
            field_errors={"file": listed},
        )
    if not units:
        raise _file_error("the file has no units: add one row per unit below the header.")
    try:
        TaskUnit.objects.bulk_create(
            [
                TaskUnit(
                    batch=batch,
                    external_id=unit.external_id,
                    payload=unit.payload,
                    is_gold=unit.is_gold,
                    gold_answer=unit.gold_answer if unit.is_gold else None,
                )
                for unit in units
            ],
            batch_size=2000,
        )
    except IntegrityError as error:  # the batch row lock makes this unexpected; say so plainly if it happens
        raise ApplicationError(
            "Some ids were added to this batch at the same moment: upload the file again.", code="conflict", status=409
        ) from error
    columns = list(batch.payload_columns)
    for unit in units:
        columns.extend(key for key in unit.payload if key not in columns)
    if columns != batch.payload_columns:
        batch.payload_columns = columns[:500]
        batch.save(update_fields=["payload_columns", "updated_at"])
    result = ImportResult(created=len(units), gold=sum(unit.is_gold for unit in units))
    audit_record(
        actor=by,
        action="task_batch.units_imported",
        target=batch,
        organization=batch.gig.organization,
        data={"file": PurePath(name).name, "created": result.created, "gold": result.gold},
    )
    return result
