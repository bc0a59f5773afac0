"""Importing units from CSV and JSON lines: all or nothing, every bad row reported."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError
from core.models import AuditEvent
from marketplace.models import TaskBatch, TaskUnit
from marketplace.services import microtask_import
from marketplace.services.microtasks import task_units_import
from tests.marketplace.test_microtasks_support import add_units, make_batch, make_client_member

pytestmark = pytest.mark.django_db


def _file(name: str, content: str | bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8") if isinstance(content, str) else content)


def _import_errors(batch: TaskBatch, name: str, content: str | bytes) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        task_units_import(batch_id=batch.pk, file=_file(name, content), by=batch.created_by)
    return error.value


def test_csv_import_maps_id_gold_answer_and_payload_columns() -> None:
    batch = make_batch()
    content = (
        "id,text,lang,gold_answer\r\n"
        "r1,Great product,en,\r\n"
        'r2,"Terrible, broke in a day",en,negative\r\n'
        'r3,"Multi\nline",de,"{""label"": ""neutral""}"\r\n'
        "\r\n"
        "r4,Meh,en,   \r\n"
    )

    result = task_units_import(batch_id=batch.pk, file=_file("units.csv", content), by=batch.created_by)

    assert (result.created, result.gold) == (4, 2)
    units = {u.external_id: u for u in batch.units.all()}
    assert units["r1"].payload == {"text": "Great product", "lang": "en"}
    assert (units["r1"].is_gold, units["r1"].gold_answer) == (False, None)
    assert (units["r2"].is_gold, units["r2"].gold_answer) == (True, "negative")
    assert units["r3"].payload == {"text": "Multi\nline", "lang": "de"}
    assert units["r3"].gold_answer == {"label": "neutral"}
    assert units["r4"].is_gold is False
    assert set(batch.units.values_list("status", flat=True)) == {"open"}
    event = AuditEvent.objects.get(action="task_batch.units_imported")
    assert event.data == {"file": "units.csv", "created": 4, "gold": 2}
    batch.refresh_from_db()
    assert batch.payload_columns == ["text", "lang"]  # jsonb forgets key order; the batch keeps the header's


def test_csv_with_a_byte_order_mark_and_an_uppercase_id_column_imports() -> None:
    batch = make_batch()

    result = task_units_import(
        batch_id=batch.pk, file=_file("units.csv", "\ufeffID,Text\nA-1,hello\n"), by=batch.created_by
    )

    assert result.created == 1
    assert batch.units.get().payload == {"Text": "hello"}


def test_csv_with_several_bad_rows_reports_them_all_and_imports_nothing() -> None:
    batch = make_batch()
    add_units(batch, 1)  # "u1" is already in the batch
    content = (
        "id,text,gold_answer\n"
        "ok-1,fine,\n"  # row 2
        ",no id,\n"  # row 3
        "ok-1,duplicate,\n"  # row 4
        "u1,already there,\n"  # row 5
        "short\n"  # row 6
        "empty,,\n"  # row 7
        'broken,text,"{""label"": }"\n'  # row 8
        "ok-2,fine,\n"  # row 9
    )

    error = _import_errors(batch, "units.csv", content)

    assert error.code == "invalid_units_file"
    assert error.message == "Nothing was imported: 6 rows have problems. Fix them and upload the whole file again."
    assert error.field_errors["file"][:5] == [
        "Row 3: the “id” is empty: every unit needs an id.",
        "Row 4: the id “ok-1” is used twice in the file (first on row 2).",
        "Row 5: the id “u1” is already in this batch.",
        "Row 6: has 1 values but the header has 3 columns.",
        "Row 7: has no data besides its id: fill in at least one column.",
    ]
    assert error.field_errors["file"][5].startswith("Row 8: “gold_answer” looks like JSON but is not valid")
    assert len(error.field_errors["file"]) == 6
    assert list(batch.units.values_list("external_id", flat=True)) == ["u1"]
    assert not AuditEvent.objects.filter(action="task_batch.units_imported").exists()


def test_jsonl_import_reads_id_payload_and_gold_answer() -> None:
    batch = make_batch()
    lines = [
        {"id": "t1", "payload": {"text": "Great", "stars": 5}},
        {"id": 2, "payload": {"image": "https://example.com/a.png"}, "gold_answer": {"boxes": [[1, 2, 3, 4]]}},
        {"id": "t3", "payload": {"text": "Line\u2028separator inside"}, "gold_answer": "positive"},
    ]
    content = "\n".join(json.dumps(line) for line in lines) + "\n\n"

    result = task_units_import(batch_id=batch.pk, file=_file("units.jsonl", content), by=batch.created_by)

    assert (result.created, result.gold) == (3, 2)
    units = {u.external_id: u for u in batch.units.all()}
    assert units["t1"].payload == {"text": "Great", "stars": 5} and not units["t1"].is_gold
    assert units["2"].gold_answer == {"boxes": [[1, 2, 3, 4]]}
    assert units["t3"].payload == {"text": "Line\u2028separator inside"}
    batch.refresh_from_db()
    assert batch.payload_columns == ["text", "stars", "image"]


def test_jsonl_with_several_bad_lines_reports_them_all_and_imports_nothing() -> None:
    batch = make_batch()
    content = "\n".join(
        [
            '{"id": "a", "payload": {"text": "fine"}}',  # 1
            '{"id": "b", "payload": {"text": "missing brace"}',  # 2
            '["not", "an", "object"]',  # 3
            '{"payload": {"text": "no id"}}',  # 4
            '{"id": "c", "payload": {}}',  # 5
            '{"id": "d", "payload": "text"}',  # 6
            '{"id": "e", "payload": {"text": "x"}, "gold": "cat"}',  # 7
            '{"id": "a", "payload": {"text": "again"}}',  # 8
            '{"id": "f", "payload": {"text": "x"}, "gold_answer": ""}',  # 9
            '{"id": "g"}',  # 10
        ]
    )

    error = _import_errors(batch, "units.jsonl", content)

    messages = error.field_errors["file"]
    assert [message.split(":")[0] for message in messages] == [f"Row {n}" for n in range(2, 11)]
    assert messages[0].startswith("Row 2: is not valid JSON (")
    assert messages[1:] == [
        "Row 3: must be a JSON object with “id” and “payload”.",
        "Row 4: the “id” is missing: every unit needs an id.",
        "Row 5: the “payload” is empty: give the worker something to work on.",
        'Row 6: the “payload” must be a JSON object, such as {"text": "…"}.',
        "Row 7: has unknown keys (gold): use only id, payload and gold_answer.",
        "Row 8: the id “a” is used twice in the file (first on row 1).",
        "Row 9: the “gold_answer” is empty: leave it out for a regular unit.",
        'Row 10: the “payload” is missing, such as {"text": "…"}.',
    ]
    assert "9 rows have problems" in error.message
    assert not TaskUnit.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "units.xlsx",
            "id,text\n1,a\n",
            "“units.xlsx” is not a .csv or .jsonl file. Upload units as CSV or JSON lines.",
        ),
        ("units.csv", b"id,text\n1,caf\xe9\n", "the file is not UTF-8 text (unreadable byte at position 13)."),
        ("units.csv", "id,text\n".encode("utf-16"), "the file is not UTF-8 text"),
        ("units.csv", "", "the file is empty."),
        ("units.csv", "name,text\nx,y\n", "the first row must name the columns, one of them “id”."),
        ("units.csv", "id,text,text\n1,a,b\n", "the header names these columns twice: text."),
        ("units.csv", '{"id": 1, "payload": {"a": 1}}\n', "this looks like JSON, not CSV."),
        ("units.jsonl", "id,text\n1,a\n", "this is not JSON lines"),
        ("units.csv", "id,text\n", "the file has no units: add one row per unit below the header."),
    ],
)
def test_files_that_are_not_unit_files_are_refused_with_what_to_do(name, content, expected) -> None:
    batch = make_batch()

    error = _import_errors(batch, name, content)

    assert error.field_errors["file"][0].startswith(expected)
    assert error.message.startswith("Nothing was imported: ")
    assert not TaskUnit.objects.exists()


def test_more_than_50000_rows_are_refused() -> None:
    batch = make_batch()
    content = "id,text\n" + "".join(f"{n},t\n" for n in range(50_001))

    error = _import_errors(batch, "units.csv", content)

    assert error.field_errors["file"] == ["the file has more than 50,000 units: split it into several uploads."]
    assert not TaskUnit.objects.exists()


def test_exactly_50000_rows_are_imported_in_one_go() -> None:
    batch = make_batch()
    content = "id,text\n" + "".join(f"{n},t\n" for n in range(50_000))

    result = task_units_import(batch_id=batch.pk, file=_file("units.csv", content), by=batch.created_by)

    assert result.created == 50_000 == batch.units.count()


def test_a_long_list_of_problems_is_capped_with_a_count_of_the_rest(monkeypatch) -> None:
    monkeypatch.setattr(microtask_import, "IMPORT_MAX_LISTED_ERRORS", 3)
    batch = make_batch()
    content = "id,text\n" + "".join(f",t{n}\n" for n in range(10))

    error = _import_errors(batch, "units.csv", content)

    assert len(error.field_errors["file"]) == 4
    assert error.field_errors["file"][-1] == "…and 7 more problems not listed here."
    assert "10 rows have problems" in error.message


def test_only_members_of_the_client_organisation_can_import() -> None:
    batch = make_batch()
    outsider = make_client_member()

    with pytest.raises(TaskBatch.DoesNotExist):
        task_units_import(batch_id=batch.pk, file=_file("units.csv", "id,text\n1,a\n"), by=outsider.user)

    assert not TaskUnit.objects.exists()


def test_a_closed_batch_takes_no_new_units() -> None:
    batch = make_batch(status=TaskBatch.Status.CLOSED)

    error = _import_errors(batch, "units.csv", "id,text\n1,a\n")

    assert (error.code, error.status) == ("batch_closed", 409)
    assert not TaskUnit.objects.exists()


def test_values_the_database_cannot_hold_are_row_problems_not_a_server_error() -> None:
    batch = make_batch()
    content = "\n".join(
        [
            '{"id": "a", "payload": {"text": "nul \\u0000 inside"}}',  # 1
            json.dumps({"id": "b", "payload": {"k" * 201: "long column name"}}),  # 2
            '{"id": "c", "payload": {"text": "fine"}, "gold_answer": "\\u0000"}',  # 3
            '{"id": "d\\u0000", "payload": {"text": "fine"}}',  # 4
        ]
    )

    error = _import_errors(batch, "units.jsonl", content)

    assert error.field_errors["file"] == [
        "Row 1: contains a NUL character (\\0), which can't be stored: remove it.",
        "Row 2: a payload key is longer than 200 characters: name each column in fewer.",
        "Row 3: contains a NUL character (\\0), which can't be stored: remove it.",
        "Row 4: the id contains a NUL character (\\0): remove it.",
    ]
    assert not batch.units.exists()
    csv_error = _import_errors(batch, "units.csv", "id,text\nx,nul \x00 inside\n")  # refused as it is read
    assert "unreadable byte" in csv_error.field_errors["file"][0]
