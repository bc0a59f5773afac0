"""Shared write operations: the audit trail, an append-only hash chain.

Each event gets its place in the chain (`sequence`, 1, 2, 3, … without gaps), the hash of the event before it and
its own hash (core.models.audit_event_hash); `manage.py audit_verify` recomputes them.

Recording and chaining are two steps, so that no business transaction waits for the chain:

1. audit_record / audit_record_many insert the event *pending* (no sequence or hashes yet) inside the
   transaction of the change it records. That takes no lock beyond the new row, so services may record wherever
   it reads best, before or after their row locks.
2. audit_seal chains pending events that have committed, oldest first, in a short transaction of its own that
   holds one advisory lock (only sealers wait for each other). It runs as a Celery task queued when a transaction
   that recorded events commits, and every minute from beat in case a queueing was lost; audit_verify runs it
   first too. A rolled-back transaction leaves nothing to chain.

The database refuses an insert that is already chained, a chaining that does not extend the chain, and any other
UPDATE or DELETE (core/migrations/0002_audit_chain.py and 0003_audit_sealing.py).
"""

from __future__ import annotations

import operator
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from core.models import (
    AUDIT_ERASED_LABEL,
    AUDIT_GENESIS_HASH,
    AuditEvent,
    audit_data_normalize,
    audit_event_hash,
    audit_label_digest,
)

if TYPE_CHECKING:
    from accounts.models import Organization, User

# The key of the advisory lock that serialises chaining ("audit_ch"); nothing else may use it.
AUDIT_CHAIN_LOCK_ID = 0x61756469745F6368
# Set while a sealing task is queued and not yet started, so a burst of commits queues one task, not hundreds.
AUDIT_SEAL_QUEUED_KEY = "core:audit:seal-queued"
AUDIT_SEAL_BATCH = 2000


def _audit_seal_soon() -> None:
    """After a commit that recorded events: queue one sealing task unless one is already waiting to start.

    The task clears the key before it reads, so an event committed before the clearing is chained by that run and
    one committed after it queues the next run. Beat's run every minute covers a queueing lost to a crash."""
    from core.tasks import audit_seal as audit_seal_task

    if cache.add(AUDIT_SEAL_QUEUED_KEY, 1, timeout=60):
        audit_seal_task.delay()


@transaction.atomic(savepoint=False)
def audit_record_many(*, events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """Record unsaved events in one INSERT (the bulk form of audit_record; for example a periodic job recording
    one event per row it changed), pending until audit_seal chains them after commit. Set the content fields
    (actor, actor_label, organization, action, target_*, from/to state, data); this fills in the time and the
    label digests. Call it inside the transaction of the change."""
    if not events:
        return []
    now = timezone.now()
    for event in events:
        event.sequence, event.previous_hash, event.hash, event.created_at = None, None, None, now
        event.data = audit_data_normalize(event.data or {})
        event.actor_label_salt, event.target_label_salt = secrets.token_hex(16), secrets.token_hex(16)
        event.actor_label_digest = audit_label_digest(salt=event.actor_label_salt, label=event.actor_label)
        event.target_label_digest = audit_label_digest(salt=event.target_label_salt, label=event.target_label)
    recorded = AuditEvent.objects.bulk_create(events)
    transaction.on_commit(_audit_seal_soon)
    return recorded


def audit_seal(*, batch_size: int = AUDIT_SEAL_BATCH) -> int:
    """Chain every committed pending event, in the order they were recorded; returns how many were chained.

    Idempotent and safe to run concurrently: each batch is one transaction under the chain's advisory lock, which
    reads the chain's head after the lock is granted (two statements on purpose: under READ COMMITTED the SELECT
    then sees what the previous holder committed). Events still uncommitted elsewhere are left for the next run.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_ID])
            head = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").first()
            sequence, previous_hash = (head.sequence, head.hash) if head is not None else (0, AUDIT_GENESIS_HASH)
            pending = list(AuditEvent.objects.filter(sequence__isnull=True).order_by("id")[:batch_size])
            links = []
            for event in pending:
                sequence = (sequence or 0) + 1
                event.sequence, event.previous_hash = sequence, previous_hash
                event.hash = previous_hash = audit_event_hash(event)
                links.append((event.sequence, event.previous_hash, event.hash, event.pk))
            if links:
                # One statement per event, in order: the database checks each extends the chain left by the last.
                with connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE core_auditevent SET sequence = %s, previous_hash = %s, hash = %s WHERE id = %s",
                        links,
                    )
        sealed += len(pending)
        if len(pending) < batch_size:
            return sealed


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    organization: Organization | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audit event, inside the same transaction as the change it records; audit_seal chains it after
    that transaction commits (module doc)."""
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        actor=actor_obj,
        actor_label=actor_obj.email if actor_obj else "system",
        organization=organization,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    [recorded] = audit_record_many(events=[event])
    return recorded


@transaction.atomic
def audit_erase_person(*, user_id: int, by: User | None, targets: Iterable[tuple[str, str]] = ()) -> int:
    """GDPR erasure in the audit trail: replace the person's labels with "erased user" and blank their salts.

    Blanked: the actor label of every event the user performed, and the target label of every event about the
    user (`accounts.user:<id>`) or about the further `targets` given as (target_type, target_id) pairs, such as
    their freelancer profile. The chain covers only the labels' salted digests, so it still verifies; without
    the salt nobody can test a guessed email against a digest. The ids stay (they identify nobody once the user
    row is anonymised). `data` is covered by the hash as it is: keep personal data out of it.

    The database allows exactly this UPDATE, and only while `tandem.audit_erasure` is on in this transaction.
    Returns the number of labels erased; records an `audit.person_erased` event.
    """
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    ids_by_type["accounts.user"].add(str(user_id))
    for target_type, target_id in targets:
        ids_by_type[target_type].add(str(target_id))
    target_filter = reduce(
        operator.or_, (models.Q(target_type=kind, target_id__in=sorted(ids)) for kind, ids in ids_by_type.items())
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('tandem.audit_erasure', 'on', true)")
        # A failed UPDATE rolls this transaction (or savepoint) back, and the setting with it.
        actor_labels = (
            AuditEvent.objects.filter(actor_id=user_id)
            .exclude(actor_label_salt="")
            .update(actor_label=AUDIT_ERASED_LABEL, actor_label_salt="")
        )
        target_labels = (
            AuditEvent.objects.filter(target_filter)
            .exclude(target_label_salt="")
            .update(target_label=AUDIT_ERASED_LABEL, target_label_salt="")
        )
        cursor.execute("SELECT set_config('tandem.audit_erasure', 'off', true)")
    audit_record(
        actor=by,
        action="audit.person_erased",
        data={"user_id": user_id, "actor_labels": actor_labels, "target_labels": target_labels},
    )
    return actor_labels + target_labels
