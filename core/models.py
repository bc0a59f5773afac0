from __future__ import annotations

import operator
from functools import reduce
from typing import ClassVar

from django.conf import settings
from django.db import models

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


class AuditEvent(models.Model):
    """Append-only record of a state change: who did what to which object, from which state to which, when."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="Who acted, kept after erasure.")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["organization", "-created_at"]),
        ]

    def __str__(self) -> str:
        change = f" {self.from_state} → {self.to_state}" if self.from_state or self.to_state else ""
        return f"{self.action} {self.target_type}:{self.target_id}{change}"
