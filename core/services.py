"""Shared write operations: the audit trail, an append-only hash chain.

Each event stores its place in the chain (`sequence`, 1, 2, 3, … without gaps), the hash of the event before it
and its own hash (core.models.audit_event_hash); `manage.py audit_verify` recomputes them. Appending takes one
PostgreSQL advisory lock (transaction-scoped) so that concurrent transactions append one after another; the
database refuses an event that does not extend the chain, and any UPDATE or DELETE (core/migrations/0002).

The rule for services, because of that lock: **record audit events after taking your row locks.** From its first
audit event until it commits, a transaction holds the chain's lock; if it then waited for a row lock held by
another transaction that is itself waiting to record an event, the two would deadlock (PostgreSQL would abort
one). So lock (select_for_update, or UPDATE/DELETE rows another transaction may have locked) first, record last,
and do nothing slow (HTTP calls) after recording: every audited write in the system waits for this commit.
"""

from __future__ import annotations

import operator
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

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

# The key of the advisory lock that serialises appends to the chain ("audit_ch"); nothing else may use it.
AUDIT_CHAIN_LOCK_ID = 0x61756469745F6368


def _audit_chain_lock() -> tuple[int, str]:
    """Take the chain's lock until the current transaction ends; return the last event's (sequence, hash).

    Two statements on purpose: under READ COMMITTED the SELECT takes its snapshot after the lock is granted, so it
    sees the event the previous holder committed (one statement would read the snapshot from before the wait).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_ID])
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return last if last is not None else (0, AUDIT_GENESIS_HASH)


@transaction.atomic(savepoint=False)
def audit_record_many(*, events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """Append unsaved events to the chain in one INSERT (the bulk form of audit_record; for example a periodic
    job recording one event per row it changed). Set the content fields (actor, actor_label, organization, action,
    target_*, from/to state, data); this fills in the time, the chain fields and the label digests.
    Call it inside the transaction of the change, after taking that change's row locks (see the module doc)."""
    if not events:
        return []
    sequence, previous_hash = _audit_chain_lock()
    now = timezone.now()  # after the lock: the chain's order is also the order of its times
    for event in events:
        sequence += 1
        event.sequence, event.previous_hash, event.created_at = sequence, previous_hash, now
        event.data = audit_data_normalize(event.data or {})
        event.actor_label_salt, event.target_label_salt = secrets.token_hex(16), secrets.token_hex(16)
        event.actor_label_digest = audit_label_digest(salt=event.actor_label_salt, label=event.actor_label)
        event.target_label_digest = audit_label_digest(salt=event.target_label_salt, label=event.target_label)
        event.hash = previous_hash = audit_event_hash(event)
    return AuditEvent.objects.bulk_create(events)


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
    """Append one audit event to the chain. Call it inside the same transaction as the change it records, after
    that transaction has taken its row locks: from here to its commit it holds the chain's lock (module doc)."""
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
