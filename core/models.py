from __future__ import annotations

import hashlib
import hmac
import json
import operator
from datetime import UTC
from functools import reduce
from typing import Any, ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from core.errors import ApplicationError


def exactly_one_of(*field_names: str) -> models.Q:
    """A check-constraint condition: exactly one of these nullable fields is set (e.g. freelancer xor vendor)."""
    branches = [
        reduce(operator.and_, (models.Q(**{f"{name}__isnull": name != chosen}) for name in field_names))
        for chosen in field_names
    ]
    return reduce(operator.or_, branches)


class TimeStampedModel(models.Model):
    """Base for every domain model: when a row was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class StatefulModel(TimeStampedModel):
    """A model with a `status` lifecycle. Subclasses declare `TRANSITIONS = {from: {to, ...}}`."""

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {}
    status: models.CharField

    class Meta:
        abstract = True

    def can_transition_to(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, set())

    def transition_to(self, new_status: str) -> str:
        """Move to `new_status` if the lifecycle allows it; returns the previous status. Does not save."""
        if not self.can_transition_to(new_status):
            labels = dict(getattr(self._meta.get_field("status"), "choices", None) or [])
            raise ApplicationError(
                f"This {self._meta.verbose_name} is {labels.get(self.status, self.status)}; "
                f"it cannot become {labels.get(new_status, new_status)}.",
                code="invalid_transition",
                status=409,
            )
        previous = self.status
        self.status = new_status
        return previous


AUDIT_GENESIS_HASH = "0" * 64  # the previous_hash of the first event
AUDIT_ERASED_LABEL = "erased user"  # what an erased actor/target label becomes; the database trigger knows it too


def audit_label_digest(*, salt: str, label: str) -> str:
    """The digest the chain covers instead of a personal label (HMAC-SHA-256 keyed by the event's own salt).

    Erasure blanks the label and its salt; the digest stays, so the chain still verifies, and without the salt
    nobody can confirm a guessed email against it.
    """
    return hmac.new(bytes.fromhex(salt), label.encode(), hashlib.sha256).hexdigest()


def _canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _json_number(text: str) -> float | int:
    # jsonb prints a whole number without its ".0" (1e16 comes back as 10000000000000000, an int): store it so.
    number = float(text)
    return int(number) if number.is_integer() else number


def audit_data_normalize(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as it reads back from the jsonb column (Decimals and dates as strings, tuples as lists, whole floats
    as ints), so the hash computed at insert is the hash audit_verify recomputes from the stored row."""
    normalized: dict[str, Any] = json.loads(_canonical_json(data), parse_float=_json_number)
    return normalized


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous event's hash and the canonical JSON of this event's content.

    The one definition of an event's hash: audit_record computes it, audit_verify recomputes it (and the
    backfill migration uses it). Personal labels enter only as their digests, so erasing them keeps it valid.
    Accepts any object with AuditEvent's attributes (a historical model in a migration works too). Defined once
    the event has its place in the chain (`sequence` and `previous_hash`).
    """
    if event.sequence is None or event.previous_hash is None:
        raise ValueError("An audit event is hashed once audit_seal has given it its place in the chain.")
    content = {
        "sequence": event.sequence,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label_digest": event.actor_label_digest,
        "organization_id": event.organization_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label_digest": event.target_label_digest,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": event.data,
    }
    return hashlib.sha256((event.previous_hash + _canonical_json(content)).encode()).hexdigest()


class AuditEvent(models.Model):
    """Append-only, hash-chained record of a state change: who did what to which object, from which state to
    which, when.

    Recorded by core.services.audit_record / audit_record_many inside the transaction of the change, *pending*:
    without `sequence`, `previous_hash` and `hash`. After it commits, core.services.audit_seal chains pending
    events in one short transaction of its own (a Celery task queued on commit, and every minute by beat), so no
    business transaction ever waits for the chain. The database refuses an insert that is already chained, a
    chaining that does not extend the chain, and any other UPDATE or DELETE except audit_erase_person blanking
    personal labels (core/migrations/0002_audit_chain.py, 0003_audit_sealing.py).

    `actor` and `organization` keep their ids when the user or organisation goes (the hash covers them), so they
    have no database constraint; that also means writing an event never waits on a lock of those rows.
    """

    sequence = models.PositiveBigIntegerField(
        unique=True, null=True, blank=True, help_text="Position in the chain: 1, 2, 3, … no gaps; empty until chained."
    )
    previous_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(
        max_length=64, null=True, blank=True, help_text="SHA-256 of previous_hash and this event's content."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="Who acted, kept after erasure.")
    actor_label_salt = models.CharField(max_length=32, blank=True, help_text="Blank once the label is erased.")
    actor_label_digest = models.CharField(max_length=64)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    target_label_salt = models.CharField(max_length=32, blank=True, help_text="Blank once the label is erased.")
    target_label_digest = models.CharField(max_length=64)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]  # the order events were recorded in; the chain's order is `sequence`
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["organization", "-created_at"]),
            # What audit_seal looks for: a small partial index of the events waiting to be chained.
            models.Index(fields=["id"], condition=models.Q(sequence__isnull=True), name="core_auditevent_pending"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(sequence__isnull=True, previous_hash__isnull=True, hash__isnull=True)
                    | models.Q(
                        sequence__gte=1,
                        previous_hash__regex=r"^[0-9a-f]{64}$",
                        hash__regex=r"^[0-9a-f]{64}$",
                    )
                ),
                name="core_auditevent_pending_or_chained",
            ),
        ]

    def __str__(self) -> str:
        change = f" {self.from_state} → {self.to_state}" if self.from_state or self.to_state else ""
        place = f"#{self.sequence}" if self.sequence is not None else "(pending)"
        return f"{place} {self.action} {self.target_type}:{self.target_id}{change}"


class IdempotencyRecord(models.Model):
    """One POST to the API made with an Idempotency-Key, and the response it got (core.idempotency).

    Unique per caller and key: a retry with the same body gets the stored response, a different body gets 422,
    and a retry while the first is still running gets 409. Kept 24 hours."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"

    caller = models.CharField(max_length=64, help_text="SHA-256 of the API key, or user:<id> for a session.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_location = models.CharField(max_length=500, blank=True)
    response_body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="core_idempotency_caller_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
