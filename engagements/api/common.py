"""What the engagements API modules share: their API key scope area, bulk writes that save all items or none (each
item's field errors come back at its index), the output shapes of the parties and the gig, and clock times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import ApplicationError

SCOPE = "engagements"
BULK_MAX_ITEMS = 200


def _all_or_nothing[Item, Result](
    items: Sequence[Item], save: Callable[[Item], Result], *, field: str, label: str
) -> list[Result]:
    """Save every item with `save` (a service call) in one transaction, or none of them. Field errors are
    collected for every item and reported by index, `{field: {"2": {"hours": [...]}}}` (the shape DRF gives a
    list's own validation errors), so the caller fixes them all at once. A refusal that names no field (not the
    caller's to do, or a conflict with the object's state) stops at once with its own status, naming the item."""
    saved: list[Result] = []
    errors: dict[str, dict[str, list[str]]] = {}
    with transaction.atomic():
        for index, item in enumerate(items):
            try:
                saved.append(save(item))  # the service's own atomic block is a savepoint: a refusal undoes it alone
            except ApplicationError as error:
                if not error.field_errors:
                    raise ApplicationError(
                        f"Nothing was saved. {label.capitalize()} {index}: {error.message}",
                        code=error.code,
                        status=error.status,
                    ) from error
                errors[str(index)] = error.field_errors
        if errors:
            raise serializers.ValidationError({field: errors})  # leaving the block undoes the saved items
    return saved


# --- shared output shapes -----------------------------------------------------------------------------------------


class EngagementOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class EngagementFreelancerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


class EngagementGigSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


# --- clock times --------------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time as "HH:MM" (JSON Schema's "time" format would demand a UTC offset)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)
