"""Shared reads: the audit trail, scoped to who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, QuerySet

from core.models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import User


def audit_event_list_for_organization(*, organization_id: int, user: User) -> QuerySet[AuditEvent]:
    """The organisation's own audit events; raises Organization.DoesNotExist unless `user` is a member."""
    from accounts.selectors import organization_get

    organization = organization_get(organization_id=organization_id, user=user)
    return AuditEvent.objects.filter(organization=organization).select_related("actor")


def audit_event_list_for_actor(*, user: User) -> QuerySet[AuditEvent]:
    """The events `user` performed themselves (a freelancer's own trail), whichever organisation they concern."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(actor_id=user.pk)


@dataclass(frozen=True)
class AuditChainHealth:
    """Events recorded but not yet chained by audit_seal, and where the chain has got to."""

    pending_count: int
    oldest_pending_at: datetime | None
    newest_sequence: int | None
    newest_sequenced_at: datetime | None  # when the newest chained event was recorded


def audit_chain_health(*, user: Any) -> AuditChainHealth:
    """The audit chain at a glance, for the ops overview: two small queries, one on the partial index of pending
    events, one on the unique sequence index. Staff who may read the trail only (PermissionDenied otherwise)."""
    if not (user.is_staff and user.has_perm("core.view_auditevent")):
        raise PermissionDenied("The audit chain's health is for ops staff.")
    pending = AuditEvent.objects.filter(sequence__isnull=True).aggregate(count=Count("id"), oldest_at=Min("created_at"))
    newest = (
        AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").values("sequence", "created_at").first()
    )
    return AuditChainHealth(
        pending_count=pending["count"],
        oldest_pending_at=pending["oldest_at"],
        newest_sequence=newest["sequence"] if newest else None,
        newest_sequenced_at=newest["created_at"] if newest else None,
    )
