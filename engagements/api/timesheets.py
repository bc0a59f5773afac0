"""Partner API of engagements: timesheets and time entries."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.types import api_user
from engagements.api.common import BULK_MAX_ITEMS, SCOPE, ClockTimeField
from engagements.models import TimeEntry, Timesheet
from engagements.selectors import contract_get, timesheet_get, timesheet_list_for_contract
from engagements.services import TimeEntryInput, time_entries_add, timesheet_approve, timesheet_reject, timesheet_submit


class TimeEntryOutputSerializer(serializers.ModelSerializer):
    timesheet_id = serializers.IntegerField(read_only=True)
    start_time = ClockTimeField(read_only=True)
    evidence_url = serializers.CharField(read_only=True, help_text="A ticket, commit or document, or empty.")

    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "timesheet_id",
            "work_date",
            "start_time",
            "hours",
            "description",
            "evidence_url",
            "created_at",
        ]
        read_only_fields = fields


class TimesheetOutputSerializer(serializers.ModelSerializer):
    contract_id = serializers.IntegerField(read_only=True)
    entries = TimeEntryOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Timesheet
        fields = [
            "id",
            "contract_id",
            "week_start",
            "status",
            "total_hours",
            "submitted_at",
            "decided_at",
            "is_auto_approved",
            "rejection_reason",
            "entries",
        ]
        read_only_fields = fields


class TimesheetFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Timesheet.Status.choices)

    class Meta:
        model = Timesheet
        fields = ["status"]


class ContractTimesheetListApi(generics.ListAPIView):
    """A contract's weeks with their entries, latest week first."""

    scope_area = SCOPE
    serializer_class = TimesheetOutputSerializer
    filterset_class = TimesheetFilter
    ordering = "-week_start"  # one week per contract: unique, as the cursor needs
    ordering_fields = ["week_start"]

    def get_queryset(self) -> QuerySet[Timesheet]:
        if getattr(self, "swagger_fake_view", False):
            return Timesheet.objects.none()
        contract = contract_get(contract_id=self.kwargs["contract_id"], user=api_user(self.request))
        return timesheet_list_for_contract(contract=contract)


class TimesheetDetailApi(APIView):
    scope_area = SCOPE

    @extend_schema(responses=TimesheetOutputSerializer)
    def get(self, request: Request, timesheet_id: int) -> Response:
        timesheet = timesheet_get(timesheet_id=timesheet_id, user=api_user(request))
        return Response(TimesheetOutputSerializer(timesheet).data)


class TimeEntryInputSerializer(serializers.Serializer):
    work_date = serializers.DateField()
    start_time = serializers.TimeField(help_text="On the quarter-hour, e.g. 09:15.")
    hours = serializers.DecimalField(max_digits=4, decimal_places=2, help_text="Quarter-hours, 0.25 to 24.")
    description = serializers.CharField(max_length=500, allow_blank=True, help_text="What was worked on.")
    evidence_url = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A ticket, commit or document."
    )


class TimeEntriesInputSerializer(serializers.Serializer):
    entries = serializers.ListField(child=TimeEntryInputSerializer(), min_length=1, max_length=BULK_MAX_ITEMS)


class TimeEntriesOutputSerializer(serializers.Serializer):
    entries = TimeEntryOutputSerializer(many=True, read_only=True)


class TimeEntryBulkCreateApi(APIView):
    """The worker logs several entries on an hourly contract at once: all are saved, or none. Each entry is
    checked by the same rules as one logged on the page (quarter-hours, no overlaps, the weekly cap, …); errors
    come back at the entry's index in `errors.entries`."""

    scope_area = SCOPE

    @extend_schema(request=TimeEntriesInputSerializer, responses={201: TimeEntriesOutputSerializer})
    def post(self, request: Request, contract_id: int) -> Response:
        serializer = TimeEntriesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries = time_entries_add(
            contract_id=contract_id,
            entries=[TimeEntryInput(**row) for row in serializer.validated_data["entries"]],
            by=api_user(request),
        )
        return Response({"entries": TimeEntryOutputSerializer(entries, many=True).data}, status=status.HTTP_201_CREATED)


class TimesheetRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, help_text="What to correct.")


def _timesheet_output(timesheet: Timesheet, request: Request) -> dict[str, Any]:
    return TimesheetOutputSerializer(timesheet_get(timesheet_id=timesheet.pk, user=api_user(request))).data


class TimesheetSubmitApi(APIView):
    """The worker submits the week; the client has 5 days to decide before it is approved automatically."""

    scope_area = SCOPE

    @extend_schema(request=None, responses=TimesheetOutputSerializer)
    def post(self, request: Request, timesheet_id: int) -> Response:
        timesheet = timesheet_submit(timesheet_id=timesheet_id, by=api_user(request))
        return Response(_timesheet_output(timesheet, request))


class TimesheetApproveApi(APIView):
    scope_area = SCOPE

    @extend_schema(request=None, responses=TimesheetOutputSerializer)
    def post(self, request: Request, timesheet_id: int) -> Response:
        timesheet = timesheet_approve(timesheet_id=timesheet_id, by=api_user(request))
        return Response(_timesheet_output(timesheet, request))


class TimesheetRejectApi(APIView):
    """The client sends the week back with a reason; the worker corrects it and submits it again."""

    scope_area = SCOPE

    @extend_schema(request=TimesheetRejectInputSerializer, responses=TimesheetOutputSerializer)
    def post(self, request: Request, timesheet_id: int) -> Response:
        serializer = TimesheetRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        timesheet = timesheet_reject(
            timesheet_id=timesheet_id, by=api_user(request), reason=serializer.validated_data["reason"]
        )
        return Response(_timesheet_output(timesheet, request))
