"""Shared write operations: the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from core.models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import Organization, User


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
    """Write one audit event. Call it inside the same transaction as the change it records."""
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
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
