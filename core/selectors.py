"""Shared reads: the audit trail, scoped to who asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

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
