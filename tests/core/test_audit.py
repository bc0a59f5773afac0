"""The audit trail: an append-only hash chain (core.services, core/migrations/0002), `manage.py audit_verify`,
GDPR erasure of labels, and the ops admin (filters, CSV exports)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import AUDIT_ERASED_LABEL, AUDIT_GENESIS_HASH, AuditEvent, audit_event_hash, audit_label_digest
from core.services import audit_erase_person, audit_record, audit_record_many, audit_seal
from tests.factories import OrganizationFactory, UserFactory

CHANGELIST = "/admin/core/auditevent/"
EXPORT = "/admin/core/auditevent/export/"


def _record(count: int, **kwargs) -> list[AuditEvent]:
    """Record and chain `count` events; returns them as stored, chained."""
    events = [audit_record(actor=None, action=f"test.event_{n}", data={"n": n}, **kwargs) for n in range(1, count + 1)]
    audit_seal()
    return list(AuditEvent.objects.filter(pk__in=[event.pk for event in events]).order_by("id"))


def _verify() -> tuple[str, str | None]:
    """audit_verify's output and its error (None when it exits 0)."""
    out = io.StringIO()
    try:
        call_command("audit_verify", "--chunk-size", "2", stdout=out)
    except CommandError as error:
        assert error.returncode == 1  # manage.py's exit status
        return out.getvalue(), str(error)
    return out.getvalue(), None


def _tamper(sql: str, params: list | None = None) -> None:
    """What a DBA could do: switch the triggers off and change the table directly."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params or [])
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")


def _chain() -> list[tuple[int, str, str]]:
    return list(
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by("sequence")
        .values_list("sequence", "previous_hash", "hash")
    )


def _assert_linear(chain: list[tuple[int, str, str]]) -> None:
    assert [sequence for sequence, _, _ in chain] == list(range(1, len(chain) + 1))
    assert [previous for _, previous, _ in chain] == [AUDIT_GENESIS_HASH] + [hash_ for _, _, hash_ in chain[:-1]]


# --- the chain --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_form_a_gapless_chain_each_linked_to_the_one_before() -> None:
    first, second, third = _record(3)

    chain = _chain()

    _assert_linear(chain)
    assert [event.sequence for event in (first, second, third)] == [1, 2, 3]
    assert [hash_ for _, _, hash_ in chain] == [first.hash, second.hash, third.hash]
    assert all(audit_event_hash(event) == event.hash for event in AuditEvent.objects.all())


@pytest.mark.django_db
def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_json_of_the_content() -> None:
    actor = UserFactory(email="ana@example.com")
    organization = OrganizationFactory()
    target = UserFactory(email="bo@example.com")

    event = audit_record(
        actor=actor,
        action="test.changed",
        target=target,
        organization=organization,
        from_state="draft",
        to_state="active",
        data={"amount": Decimal("12.50"), "on": date(2026, 1, 2), "note": "café", "tags": ("a", "b")},
    )
    audit_seal()

    stored = AuditEvent.objects.get(pk=event.pk)
    content = {
        "sequence": 1,
        "created_at": stored.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        "actor_id": actor.pk,
        "actor_label_digest": audit_label_digest(salt=stored.actor_label_salt, label="ana@example.com"),
        "organization_id": organization.pk,
        "action": "test.changed",
        "target_type": "accounts.user",
        "target_id": str(target.pk),
        "target_label_digest": audit_label_digest(salt=stored.target_label_salt, label="bo@example.com"),
        "from_state": "draft",
        "to_state": "active",
        "data": {"amount": "12.50", "note": "café", "on": "2026-01-02", "tags": ["a", "b"]},
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "café" in canonical
    assert stored.hash == hashlib.sha256((AUDIT_GENESIS_HASH + canonical).encode()).hexdigest()
    assert stored.data == content["data"]
    assert (stored.actor_label, stored.target_label) == ("ana@example.com", "bo@example.com")


@pytest.mark.django_db
def test_many_events_are_recorded_pending_in_one_insert_and_chained_in_order() -> None:
    _record(1)

    with CaptureQueriesContext(connection) as queries:
        events = audit_record_many(
            events=[AuditEvent(actor_label="system", action="test.bulk", target_id=str(n)) for n in range(3)]
        )

    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]
    assert [event.sequence for event in events] == [None, None, None]
    assert audit_seal() == 3
    assert list(
        AuditEvent.objects.filter(action="test.bulk").order_by("sequence").values_list("target_id", "sequence")
    ) == [
        ("0", 2),
        ("1", 3),
        ("2", 4),
    ]
    _assert_linear(_chain())
    assert _verify()[1] is None


@pytest.mark.django_db
def test_sealing_chains_only_pending_events_and_again_does_nothing() -> None:
    _record(2)
    audit_record(actor=None, action="test.later")

    assert audit_seal() == 1
    assert audit_seal() == 0
    assert audit_seal(batch_size=1) == 0
    _assert_linear(_chain())
    assert AuditEvent.objects.get(action="test.later").sequence == 3


@pytest.mark.django_db
def test_sealing_in_batches_chains_everything_in_the_order_recorded() -> None:
    recorded = [audit_record(actor=None, action="test.batch", data={"n": n}).pk for n in range(7)]

    assert audit_seal(batch_size=3) == 7

    assert list(AuditEvent.objects.order_by("sequence").values_list("pk", flat=True)) == recorded
    _assert_linear(_chain())


@pytest.mark.django_db(transaction=True)
def test_eight_threads_recording_while_two_seal_keep_the_chain_linear() -> None:
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def record(thread: int) -> None:
        try:
            barrier.wait()
            for n in range(25):
                with transaction.atomic():
                    audit_record(actor=None, action="test.concurrent", data={"thread": thread, "n": n})
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    recording = [threading.Thread(target=record, args=(thread,)) for thread in range(8)]
    done = threading.Event()

    def seal() -> None:  # two sealers chain while the threads record: they wait for each other, never fork
        try:
            while not done.is_set():
                audit_seal(batch_size=7)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    sealers = [threading.Thread(target=seal) for _ in range(2)]
    for thread in recording + sealers:
        thread.start()
    for thread in recording:
        thread.join(timeout=120)
    done.set()
    for thread in sealers:
        thread.join(timeout=120)
    audit_seal()

    assert errors == []
    chain = _chain()
    assert len(chain) == 200
    _assert_linear(chain)
    out, error = _verify()
    assert error is None
    assert out.startswith("OK: 200 audit events verified; the chain ends at event 200 with hash ")


@pytest.mark.django_db(transaction=True)
def test_recording_takes_no_lock_that_another_transaction_waits_for() -> None:
    """The deadlock of a chain locked at record time: A records, then waits for B's row lock; B, holding that row,
    records too. With recording lock-free B commits at once, then A gets the row. (Under the old design PostgreSQL
    had to abort one of them.)"""
    user = UserFactory()
    b_holds_row, a_recorded = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    finished: list[str] = []

    def a() -> None:
        try:
            with transaction.atomic():
                audit_record(actor=None, action="test.a_first")
                a_recorded.set()
                assert b_holds_row.wait(timeout=20)
                type(user).objects.select_for_update().get(pk=user.pk)  # waits for B's commit
                audit_record(actor=None, action="test.a_second")
            finished.append("a")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    def b() -> None:
        try:
            with transaction.atomic():
                type(user).objects.select_for_update().get(pk=user.pk)
                b_holds_row.set()
                assert a_recorded.wait(timeout=20)
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")  # would fail here if recording waited on A
                audit_record(actor=None, action="test.b")
            finished.append("b")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(finished) == ["a", "b"]
    assert audit_seal() == 3
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "test.a_first",
        "test.b",
        "test.a_second",
    ]
    assert _verify()[1] is None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_nothing_to_chain() -> None:
    audit_record(actor=None, action="test.kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.rolled_back")
        raise RuntimeError

    assert audit_seal() == 1
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.kept"]
    _assert_linear(_chain())


@pytest.mark.django_db(transaction=True)
def test_a_commit_queues_the_sealing_task_and_the_worker_chains_the_events(celery_worker: object) -> None:
    with transaction.atomic():
        for n in range(3):
            audit_record(actor=None, action="test.sealed_by_worker", data={"n": n})

    deadline = time.monotonic() + 20
    while AuditEvent.objects.filter(sequence__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not AuditEvent.objects.filter(sequence__isnull=True).exists()
    _assert_linear(_chain())
    assert len(_chain()) == 3


# --- append-only in the database --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_an_event() -> None:
    event = _record(1)[0]

    for change in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(data={"n": 2}),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(actor_label=AUDIT_ERASED_LABEL, actor_label_salt=""),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(IntegrityError, match="the audit log is append-only"), transaction.atomic():
            change()

    assert AuditEvent.objects.get(pk=event.pk).data == {"n": 1}


@pytest.mark.django_db
def test_the_erasure_setting_allows_only_blanking_labels() -> None:
    event = _record(1)[0]

    for change in (
        {"data": {"n": 2}},
        {"actor_label": "someone else", "actor_label_salt": ""},
        {"actor_label": AUDIT_ERASED_LABEL, "actor_label_salt": "", "action": "test.other"},
    ):
        with pytest.raises(IntegrityError, match="audit erasure may only replace"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL tandem.audit_erasure = 'on'")
            AuditEvent.objects.filter(pk=event.pk).update(**change)

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_label, stored.action, stored.data) == ("system", "test.event_1", {"n": 1})


@pytest.mark.django_db
def test_the_database_refuses_an_event_inserted_already_chained() -> None:
    first = _record(1)[0]
    forged = AuditEvent(
        sequence=2, previous_hash=first.hash, hash="a" * 64, actor_label_digest="", target_label_digest="", action="x"
    )

    with pytest.raises(IntegrityError, match="inserted already chained"), transaction.atomic():
        AuditEvent.objects.bulk_create([forged])

    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_chaining_that_does_not_extend_the_chain_or_changes_the_event() -> None:
    first = _record(1)[0]
    pending = audit_record(actor=None, action="test.pending")
    pending_events = AuditEvent.objects.filter(pk=pending.pk)

    for change, message in (
        ({"sequence": 5, "previous_hash": first.hash, "hash": "a" * 64}, "does not extend the audit chain"),
        ({"sequence": 2, "previous_hash": "b" * 64, "hash": "a" * 64}, "does not extend the audit chain"),
        ({"sequence": 2, "previous_hash": first.hash, "hash": "a" * 64, "action": "x"}, "may set only"),
    ):
        with pytest.raises(IntegrityError, match=message), transaction.atomic():
            pending_events.update(**change)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():  # chained once, for good
        AuditEvent.objects.filter(pk=first.pk).update(sequence=2)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():  # pending is no less protected
        pending_events.update(data={"n": 2})

    assert audit_seal() == 1
    _assert_linear(_chain())


# --- audit_verify -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_says_ok_with_the_count_and_the_last_hash() -> None:
    events = _record(5)

    out, error = _verify()

    assert error is None
    assert out == f"OK: 5 audit events verified; the chain ends at event 5 with hash {events[-1].hash}.\n"


@pytest.mark.django_db
def test_numbers_in_data_hash_the_same_after_a_round_trip_through_jsonb() -> None:
    event = audit_record(
        actor=None, action="test.numbers", data={"big": 1e16, "one": 1.0, "half": 0.5, "tiny": 1.5e-20}
    )

    assert AuditEvent.objects.get(pk=event.pk).data == {"big": 10**16, "one": 1, "half": 0.5, "tiny": 1.5e-20}
    assert _verify()[1] is None


@pytest.mark.django_db
def test_verify_without_sealing_verifies_the_chain_and_counts_what_waits() -> None:
    _record(2)
    audit_record(actor=None, action="test.pending")
    out = io.StringIO()

    call_command("audit_verify", "--no-seal", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("OK: 2 audit events verified")
    assert lines[1].startswith("1 event(s) wait to be chained; the oldest was recorded ")
    assert AuditEvent.objects.filter(sequence__isnull=True).count() == 1


@pytest.mark.django_db
def test_verify_of_an_empty_trail_is_ok() -> None:
    assert _verify() == ("OK: 0 audit events verified.\n", None)


@pytest.mark.django_db
def test_verify_detects_an_edited_event() -> None:
    _record(4)

    _tamper("UPDATE core_auditevent SET data = '{\"n\": 20}' WHERE sequence = 2")

    assert _verify() == (
        "event 2 was edited: its hash does not match its content\n",
        "Audit chain verification failed: 1 problem(s) in 4 events.",
    )


@pytest.mark.django_db
def test_verify_detects_a_deleted_event() -> None:
    _record(5)

    _tamper("DELETE FROM core_auditevent WHERE sequence IN (2, 3)")

    assert _verify() == (
        "events 2 to 3 are missing (deleted) before event 4\n",
        "Audit chain verification failed: 1 problem(s) in 3 events.",
    )


@pytest.mark.django_db
def test_verify_detects_a_deleted_first_event() -> None:
    _record(2)

    _tamper("DELETE FROM core_auditevent WHERE sequence = 1")

    assert _verify()[0] == "event 1 is missing (deleted) before event 2\n"


@pytest.mark.django_db
def test_verify_detects_reordered_events() -> None:
    _record(4)

    _tamper(
        "UPDATE core_auditevent SET sequence = 1000 WHERE sequence = 2;"
        "UPDATE core_auditevent SET sequence = 2 WHERE sequence = 3;"
        "UPDATE core_auditevent SET sequence = 3 WHERE sequence = 1000"
    )

    out, error = _verify()
    assert out.splitlines() == [
        "chain break at event 2: its previous hash is not the hash of event 1",
        "event 2 was edited: its hash does not match its content",
        "chain break at event 3: its previous hash is not the hash of event 2",
        "event 3 was edited: its hash does not match its content",
        "chain break at event 4: its previous hash is not the hash of event 3",
    ]
    assert error == "Audit chain verification failed: 5 problem(s) in 4 events."


@pytest.mark.django_db
def test_verify_detects_a_rewritten_link() -> None:
    _record(3)

    _tamper("UPDATE core_auditevent SET previous_hash = %s WHERE sequence = 3", ["b" * 64])

    assert _verify()[0].splitlines() == [
        "chain break at event 3: its previous hash is not the hash of event 2",
        "event 3 was edited: its hash does not match its content",
    ]


@pytest.mark.django_db
def test_verify_detects_an_edited_label_although_the_hash_covers_only_its_digest() -> None:
    actor = UserFactory(email="ana@example.com")
    audit_record(actor=actor, action="test.changed")
    audit_seal()

    _tamper("UPDATE core_auditevent SET actor_label = 'mallory@example.com' WHERE sequence = 1")

    assert _verify()[0] == "event 1 was edited: its actor label does not match the digest its hash covers\n"


@pytest.mark.django_db
def test_verify_detects_a_label_blanked_outside_the_erasure() -> None:
    actor = UserFactory(email="ana@example.com")
    audit_record(actor=actor, action="test.changed")
    audit_seal()

    _tamper("UPDATE core_auditevent SET actor_label = 'someone', actor_label_salt = '' WHERE sequence = 1")

    assert _verify()[0] == "event 1 was edited: its actor label has no salt but is not 'erased user'\n"


# --- GDPR erasure -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erasing_a_person_blanks_their_labels_and_the_chain_still_verifies() -> None:
    person, other, staff = (
        UserFactory(email="ana@example.com"),
        UserFactory(email="bo@example.com"),
        UserFactory(email="ops@example.com"),
    )
    organization = OrganizationFactory(name="Ana Ltd")
    acted = audit_record(actor=person, action="test.acted", organization=organization)
    about = audit_record(actor=other, action="test.about_her", target=person)
    profile = audit_record(actor=other, action="test.profile", target=organization)
    unrelated = audit_record(actor=other, action="test.unrelated", target=other)

    erased = audit_erase_person(user_id=person.pk, by=staff, targets=[("accounts.organization", str(organization.pk))])

    assert erased == 3
    labels = dict(AuditEvent.objects.values_list("pk", "actor_label"))
    targets = dict(AuditEvent.objects.values_list("pk", "target_label"))
    assert labels[acted.pk] == AUDIT_ERASED_LABEL
    assert (labels[about.pk], targets[about.pk]) == ("bo@example.com", AUDIT_ERASED_LABEL)
    assert targets[profile.pk] == AUDIT_ERASED_LABEL
    assert (labels[unrelated.pk], targets[unrelated.pk]) == ("bo@example.com", "bo@example.com")
    assert not AuditEvent.objects.filter(actor_label_salt="", actor_id=other.pk).exists()
    assert AuditEvent.objects.get(pk=acted.pk).actor_label_salt == ""
    logged = AuditEvent.objects.get(action="audit.person_erased")
    assert (logged.actor_label, logged.data) == (
        "ops@example.com",
        {"user_id": person.pk, "actor_labels": 1, "target_labels": 2},
    )
    out, error = _verify()
    assert error is None
    assert out.splitlines()[0] == "Chained 5 pending audit event(s) first."
    assert out.splitlines()[1].startswith("OK: 5 audit events verified")


@pytest.mark.django_db
def test_erasing_twice_erases_nothing_more_and_still_verifies() -> None:
    person = UserFactory()
    audit_record(actor=person, action="test.acted")
    audit_erase_person(user_id=person.pk, by=None)

    assert audit_erase_person(user_id=person.pk, by=None) == 0

    assert _verify()[1] is None


@pytest.mark.django_db
def test_after_erasure_the_setting_is_off_again_in_the_same_transaction() -> None:
    person = UserFactory()
    event = audit_record(actor=person, action="test.acted")

    with transaction.atomic():
        audit_erase_person(user_id=person.pk, by=None)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(target_label=AUDIT_ERASED_LABEL, target_label_salt="")


# --- backfill of events written before the chain ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_events_in_the_order_they_were_created() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0001_initial")])
    OldAuditEvent = executor.loader.project_state([("core", "0001_initial")]).apps.get_model("core", "AuditEvent")
    actor = UserFactory()
    for n, day in enumerate((3, 1, 2)):
        old = OldAuditEvent.objects.create(actor_id=actor.pk, actor_label=actor.email, action=f"old.{n}", data={"n": n})
        OldAuditEvent.objects.filter(pk=old.pk).update(created_at=datetime(2026, 1, day, tzinfo=UTC))

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == ["old.1", "old.2", "old.0"]
    _assert_linear(_chain())
    assert _verify()[1] is None
    audit_record(actor=None, action="test.after_backfill")
    assert _verify()[0].splitlines()[-1].startswith("OK: 4 audit events verified")


# --- the ops admin ----------------------------------------------------------------------------------------------


@pytest.fixture
def ops_client(client: Client) -> Client:
    ops = UserFactory(is_staff=True, email="ops@example.com")
    ops.user_permissions.add(Permission.objects.get(codename="view_auditevent", content_type__app_label="core"))
    client.force_login(ops)
    return client


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_the_admin_shows_events_but_nobody_adds_changes_or_deletes_them(admin_client: Client) -> None:
    event = _record(1)[0]

    assert admin_client.get(CHANGELIST).status_code == 200
    page = admin_client.get(f"{CHANGELIST}{event.pk}/change/")
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{event.pk}/change/", {"action": "x"}).status_code == 403

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    audit_record(actor=None, action="test.pending")
    changelist = admin_client.get(CHANGELIST).content.decode()
    assert "pending" in changelist  # recorded, not yet chained
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event_1"


@pytest.mark.django_db
def test_the_admin_filters_by_app_action_organization_actor_and_date(ops_client: Client) -> None:
    ana, organization = UserFactory(email="ana@example.com"), OrganizationFactory(name="Ledgerline")
    contract = audit_record(actor=ana, action="contract.activated", target=organization, organization=organization)
    sow = audit_record(actor=None, action="sow.signed", target=ana)

    def shown(query: str) -> list[int]:
        response = ops_client.get(f"{CHANGELIST}{query}")
        assert response.status_code == 200
        return [event.pk for event in response.context["cl"].result_list]

    assert shown("?app=accounts") == [sow.pk, contract.pk]
    assert shown("?action=contract.") == [contract.pk]
    assert shown("?action=sow.signed") == [sow.pk]
    assert shown(f"?organization={organization.pk}") == [contract.pk]
    assert shown("?organization=ledger") == [contract.pk]
    assert shown(f"?actor={ana.pk}") == [contract.pk]
    assert shown("?actor=system") == [sow.pk]
    assert shown("?q=ana@example") == [sow.pk, contract.pk]
    today = contract.created_at
    assert shown(f"?created_at__year={today.year}&created_at__month={today.month}&created_at__day={today.day}") == [
        sow.pk,
        contract.pk,
    ]
    assert shown(f"?created_at__year={today.year - 1}") == []


@pytest.mark.django_db
def test_an_input_filter_keeps_the_other_filters(ops_client: Client) -> None:
    _record(1)

    response = ops_client.get(f"{CHANGELIST}?app=core&actor=system")

    html = response.content.decode()
    assert '<input type="hidden" name="app" value="core">' in html
    assert 'name="actor" value="system"' in html
    assert f'href="{EXPORT}?actor=system&amp;app=core"' in html


@pytest.mark.django_db
def test_the_changelist_costs_the_same_queries_for_3_or_30_events(ops_client: Client) -> None:
    for n in range(3):
        audit_record(actor=UserFactory(), action="test.few", organization=OrganizationFactory(), data={"n": n})
    with CaptureQueriesContext(connection) as few:
        assert ops_client.get(CHANGELIST).status_code == 200
    for n in range(27):
        audit_record(actor=UserFactory(), action="test.many", organization=OrganizationFactory(), data={"n": n})

    with CaptureQueriesContext(connection) as many:
        assert ops_client.get(CHANGELIST).status_code == 200

    assert len(many) == len(few)


@pytest.mark.django_db
def test_export_action_streams_the_selected_events_as_csv(ops_client: Client) -> None:
    first, _, third = _record(3, organization=OrganizationFactory(name="Ledgerline"))

    response = ops_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [third.pk, first.pk], "index": 0}
    )

    rows = _csv(response)
    assert rows[0] == [
        "sequence",
        "created_at",
        "action",
        "actor_id",
        "actor",
        "organization_id",
        "organization",
        "target_type",
        "target_id",
        "target",
        "from_state",
        "to_state",
        "data",
        "previous_hash",
        "hash",
    ]
    assert [(row[0], row[2], row[6], row[12], row[14]) for row in rows[1:]] == [
        ("1", "test.event_1", "Ledgerline", '{"n": 1}', first.hash),
        ("3", "test.event_3", "Ledgerline", '{"n": 3}', third.hash),
    ]
    assert rows[1][1] == first.created_at.isoformat()
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    exported = AuditEvent.objects.get(action="audit.exported")
    assert (exported.actor_label, exported.data) == ("ops@example.com", {"scope": "selected"})


@pytest.mark.django_db
def test_export_of_the_filtered_list_streams_every_page_of_it(ops_client: Client) -> None:
    for n in range(120):  # more than one page of the change list
        audit_record(actor=None, action="contract.changed" if n % 2 else "sow.changed", data={"n": n})
    audit_seal()

    rows = _csv(ops_client.get(f"{EXPORT}?action=contract."))

    assert len(rows) == 1 + 60
    assert {row[2] for row in rows[1:]} == {"contract.changed"}
    assert [int(row[0]) for row in rows[1:]] == list(range(2, 121, 2))
    assert AuditEvent.objects.get(action="audit.exported").data == {"scope": "action=contract."}


@pytest.mark.django_db
def test_exported_cells_that_look_like_formulas_are_defused(ops_client: Client) -> None:
    audit_record(actor=None, action="test.label", target=OrganizationFactory(name="=HYPERLINK(1)"))

    rows = _csv(ops_client.get(f"{EXPORT}?action=test."))

    assert rows[1][9] == "'=HYPERLINK(1)"


@pytest.mark.django_db
def test_export_is_for_staff_who_may_view_the_audit_trail(client: Client) -> None:
    _record(1)
    client.force_login(UserFactory(is_staff=True))

    response = client.get(EXPORT)

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()
