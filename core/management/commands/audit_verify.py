"""`manage.py audit_verify`: walk the audit chain and report any event that was edited, deleted or moved.

It first chains the events still pending (core.services.audit_seal, as the sealing task would), so the whole
trail up to now is verified; with --no-seal it leaves them and says how many there are.

For each event in sequence order it checks that the sequence has no gap, that `previous_hash` is the hash of the
event before, that `hash` is what core.models.audit_event_hash computes from the event's content, and that each
label still matches the digest the hash covers (or was erased by audit_erase_person). Prints OK with the count and
the chain's last hash (keep it elsewhere: a chain rewritten from some event on, or cut short at its end, verifies
by itself; comparing with a head recorded earlier shows it), or every problem, and then exits with status 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from core.models import AUDIT_ERASED_LABEL, AUDIT_GENESIS_HASH, AuditEvent, audit_event_hash, audit_label_digest
from core.services import audit_seal


def _label_problem(event: AuditEvent, which: str) -> str | None:
    label, salt, digest = (getattr(event, f"{which}_label{suffix}") for suffix in ("", "_salt", "_digest"))
    if salt == "":
        if label == AUDIT_ERASED_LABEL:
            return None
        return f"event {event.sequence} was edited: its {which} label has no salt but is not '{AUDIT_ERASED_LABEL}'"
    if audit_label_digest(salt=salt, label=label) != digest:
        return f"event {event.sequence} was edited: its {which} label does not match the digest its hash covers"
    return None


@dataclass
class ChainWalk:
    """How far a walk got: events checked and the last one's sequence and hash."""

    checked: int = 0
    head_sequence: int = 0
    head_hash: str = AUDIT_GENESIS_HASH


def audit_chain_problems(*, walk: ChainWalk, chunk_size: int = 2000) -> Iterator[str]:
    """Every problem in the chain, in sequence order; `walk` follows along."""
    expected_sequence = 1
    chained = AuditEvent.objects.filter(sequence__isnull=False).order_by("sequence")
    for event in chained.iterator(chunk_size=chunk_size):
        sequence, stored_hash = cast(int, event.sequence), cast(str, event.hash)  # a chained event has both
        walk.checked += 1
        if sequence > expected_sequence:
            first, last = expected_sequence, sequence - 1
            missing = f"event {first} is" if first == last else f"events {first} to {last} are"
            yield f"{missing} missing (deleted) before event {event.sequence}"
        elif sequence < expected_sequence:  # only possible if the unique constraint was dropped too
            yield f"event {event.sequence} is a duplicate in the sequence"
        elif event.previous_hash != walk.head_hash:
            before = f"event {sequence - 1}" if sequence > 1 else "the start of the chain"
            yield f"chain break at event {event.sequence}: its previous hash is not the hash of {before}"
        if audit_event_hash(event) != stored_hash:
            yield f"event {event.sequence} was edited: its hash does not match its content"
        for which in ("actor", "target"):
            problem = _label_problem(event, which)
            if problem:
                yield problem
        # Go on from what is stored, so one edited event is reported once, not once per later event.
        expected_sequence, walk.head_sequence, walk.head_hash = sequence + 1, sequence, stored_hash


class Command(BaseCommand):
    help = "Verify the audit log's hash chain: no gaps, every link, every event's hash. Exits 1 on a problem."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000, help="Events read per round trip.")
        parser.add_argument(
            "--no-seal", action="store_true", help="Do not chain pending events first; only report how many wait."
        )

    def handle(self, *args: Any, chunk_size: int, no_seal: bool, **options: Any) -> None:
        if not no_seal:
            sealed = audit_seal()
            if sealed:
                self.stdout.write(f"Chained {sealed} pending audit event(s) first.")
        walk, problems = ChainWalk(), 0
        # In a transaction the server-side cursor streams the rows (outside one they are materialised WITH HOLD).
        with transaction.atomic():
            for problem in audit_chain_problems(walk=walk, chunk_size=chunk_size):
                problems += 1
                self.stdout.write(problem)
        if problems:
            raise CommandError(f"Audit chain verification failed: {problems} problem(s) in {walk.checked} events.")
        ending = f"; the chain ends at event {walk.head_sequence} with hash {walk.head_hash}" if walk.checked else ""
        self.stdout.write(self.style.SUCCESS(f"OK: {walk.checked} audit events verified{ending}."))
        if no_seal:
            pending = AuditEvent.objects.filter(sequence__isnull=True)
            oldest = pending.order_by("id").values_list("created_at", flat=True).first()
            if oldest is not None:
                age = int((timezone.now() - oldest).total_seconds())
                self.stdout.write(f"{pending.count()} event(s) wait to be chained; the oldest was recorded {age}s ago.")
