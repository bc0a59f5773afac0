"""Partner API of core (read only): the organisation's own audit trail.

An organisation's key (or a signed-in member, for the organisation chosen in their session) reads the events of
that organisation; a freelancer's key (or a person with no organisation) reads the events they performed. Never
another organisation's. Events are listed newest first by a cursor; `sequence` is null while an event waits to
be chained (core.services.audit_seal chains it within a minute).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework import generics, serializers

from accounts.models import ApiKey
from core.models import AuditEvent
from core.selectors import audit_event_list_for_actor, audit_event_list_for_organization
from core.types import api_user


class AuditEventSerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Position in the hash chain; null until the event is chained."
    )
    actor_label = serializers.CharField(read_only=True, help_text="Who acted (an email, or “system”).")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "sequence",
            "created_at",
            "action",
            "actor_label",
            "target_type",
            "target_id",
            "from_state",
            "to_state",
            "data",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(
        lookup_expr="startswith",
        max_length=100,
        help_text="Actions starting with this, e.g. “invoice.” or “bid.accepted”.",
    )
    target_type = django_filters.CharFilter(max_length=100, help_text="e.g. “marketplace.gig”.")
    created_at = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="`created_at_after` / `created_at_before`: ISO 8601 date-times, both inclusive."
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "target_type", "created_at"]


class AuditEventListApi(generics.ListAPIView):
    """The caller's organisation's audit events (a freelancer's: their own actions), newest first."""

    scope_area = "audit"
    queryset = AuditEvent.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        from accounts.selectors import user_context

        user = api_user(self.request)
        if isinstance(self.request.auth, ApiKey):
            organization_id = self.request.auth.organization_id
        else:
            organization = user_context(user=user, session=self.request.session).organization
            organization_id = organization.pk if organization is not None else None
        if organization_id is None:
            return audit_event_list_for_actor(user=user)
        return audit_event_list_for_organization(organization_id=organization_id, user=user)
