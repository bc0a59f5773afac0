"""What the engagements API modules share: their API key scope area, bulk writes that save all items or none (each
item's field errors come back at its index), the output shapes of the parties and the gig, and clock times.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

SCOPE = "engagements"
BULK_MAX_ITEMS = 200


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
