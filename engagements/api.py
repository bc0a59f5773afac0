"""Partner API of engagements: contracts, milestones, timesheets and time entries, statements of work, their
service levels and SLA measurements.

Views translate: they read the request into a service's input, call the service or selector the pages call, and
write its result out. Input serializers list exactly the fields a caller may set, so anything else in a body
(status, organization, amounts the platform computes) is ignored. Bulk writes (time entries, measurements) run
the one-item service for each item in a single transaction: all are saved, or none, and every item's field errors
come back at its index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from accounts.selectors import organization_get
from core.api import api_organization_id
from core.errors import ApplicationError
from core.money import CURRENCY_CHOICES
from core.types import api_user
from engagements.models import (
    Contract,
    Milestone,
    ServiceLevel,
    SLAMeasurement,
    StatementOfWork,
    TimeEntry,
    Timesheet,
)
from engagements.selectors import (
    contract_get,
    contract_list_for_user,
    sla_measurement_list,
    sow_counterparty_list,
    sow_get,
    sow_list_for_user,
    timesheet_get,
    timesheet_list_for_contract,
)
from engagements.services import (
    MilestoneInput,
    ServiceLevelInput,
    SOWInput,
    TimeEntryInput,
    milestone_approve,
    milestone_create,
    milestone_release,
    milestone_request_changes,
    milestone_submit,
    service_level_set,
    sla_measurement_record,
    sow_create,
    sow_propose,
    sow_sign,
    time_entry_add,
    timesheet_approve,
    timesheet_reject,
    timesheet_submit,
)
from engagements.services.sla import parse_period

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


# --- contracts ----------------------------------------------------------------------------------------------------


class ContractOutputSerializer(serializers.ModelSerializer):
    # A plain string, not an enum: "kind" names other choice sets elsewhere in the schema (gigs).
    kind = serializers.CharField(read_only=True, help_text="fixed, hourly or micro_task.")
    organization = EngagementOrganizationSerializer(read_only=True, help_text="The client organisation.")
    freelancer = EngagementFreelancerSerializer(
        read_only=True, allow_null=True, help_text="The freelancer doing the work (null for a vendor firm)."
    )
    vendor = EngagementOrganizationSerializer(
        read_only=True, allow_null=True, help_text="The vendor firm doing the work (null for a freelancer)."
    )
    gig = EngagementGigSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "kind",
            "status",
            "organization",
            "freelancer",
            "vendor",
            "gig",
            "currency",
            "fixed_amount",
            "hourly_rate",
            "weekly_hour_cap",
            "start_date",
            "end_date",
            "activated_at",
            "ended_at",
            "end_reason",
            "created_at",
        ]
        read_only_fields = fields


class ContractFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Contract.Kind.choices)

    class Meta:
        model = Contract
        fields = ["status", "kind"]


class ContractListApi(generics.ListAPIView):
    """Contracts the caller is a party to, on either side (client, freelancer or vendor firm), newest first."""

    scope_area = SCOPE
    serializer_class = ContractOutputSerializer
    filterset_class = ContractFilter
    ordering = "-id"
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Contract]:
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return contract_list_for_user(user=api_user(self.request))


class ContractDetailApi(APIView):
    scope_area = SCOPE

    @extend_schema(responses=ContractOutputSerializer)
    def get(self, request: Request, contract_id: int) -> Response:
        contract = contract_get(contract_id=contract_id, user=api_user(request))
        return Response(ContractOutputSerializer(contract).data)


# --- milestones ---------------------------------------------------------------------------------------------------


class MilestoneOutputSerializer(serializers.ModelSerializer):
    contract_id = serializers.IntegerField(read_only=True)
    remaining_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="In escrow, neither released nor refunded."
    )

    class Meta:
        model = Milestone
        fields = [
            "id",
            "contract_id",
            "title",
            "description",
            "status",
            "currency",
            "amount",
            "released_amount",
            "refunded_amount",
            "remaining_amount",
            "due_date",
            "submission_note",
            "change_request_note",
            "funded_at",
            "submitted_at",
            "approved_at",
            "released_at",
            "created_at",
        ]
        read_only_fields = fields


class MilestoneInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="In the contract's currency.")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class MilestoneFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Milestone.Status.choices)

    class Meta:
        model = Milestone
        fields = ["status"]


class ContractMilestoneListCreateApi(generics.ListAPIView):
    """A contract's milestones, oldest first; POST adds one (the client, on a fixed-price contract)."""

    scope_area = SCOPE
    serializer_class = MilestoneOutputSerializer
    filterset_class = MilestoneFilter
    ordering = "id"
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Milestone]:
        if getattr(self, "swagger_fake_view", False):
            return Milestone.objects.none()
        contract = contract_get(contract_id=self.kwargs["contract_id"], user=api_user(self.request))
        return contract.milestones.all()

    @extend_schema(request=MilestoneInputSerializer, responses={201: MilestoneOutputSerializer})
    def post(self, request: Request, contract_id: int) -> Response:
        serializer = MilestoneInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = milestone_create(
            contract_id=contract_id, data=MilestoneInput(**serializer.validated_data), by=api_user(request)
        )
        return Response(MilestoneOutputSerializer(milestone).data, status=status.HTTP_201_CREATED)


class MilestoneSubmitInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="What is handed in."
    )


class MilestoneChangesInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, allow_blank=True, help_text="What should change.")


class MilestoneReleaseInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Part of what remains, for a partial release; leave out (or null) to release all of it.",
    )


class MilestoneSubmitApi(APIView):
    """The freelancer or vendor hands in a funded milestone's work for review."""

    scope_area = SCOPE

    @extend_schema(request=MilestoneSubmitInputSerializer, responses=MilestoneOutputSerializer)
    def post(self, request: Request, milestone_id: int) -> Response:
        serializer = MilestoneSubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = milestone_submit(
            milestone_id=milestone_id, by=api_user(request), note=serializer.validated_data["note"]
        )
        return Response(MilestoneOutputSerializer(milestone).data)


class MilestoneApproveApi(APIView):
    """The client approves submitted work; the money is released separately."""

    scope_area = SCOPE

    @extend_schema(request=None, responses=MilestoneOutputSerializer)
    def post(self, request: Request, milestone_id: int) -> Response:
        milestone = milestone_approve(milestone_id=milestone_id, by=api_user(request))
        return Response(MilestoneOutputSerializer(milestone).data)


class MilestoneRequestChangesApi(APIView):
    """The client sends submitted work back with a note; the escrow stays funded."""

    scope_area = SCOPE

    @extend_schema(request=MilestoneChangesInputSerializer, responses=MilestoneOutputSerializer)
    def post(self, request: Request, milestone_id: int) -> Response:
        serializer = MilestoneChangesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = milestone_request_changes(
            milestone_id=milestone_id, by=api_user(request), note=serializer.validated_data["note"]
        )
        return Response(MilestoneOutputSerializer(milestone).data)


class MilestoneReleaseApi(APIView):
    """The client releases an approved milestone's money to the worker: all that remains, or a part of it."""

    scope_area = SCOPE

    @extend_schema(request=MilestoneReleaseInputSerializer, responses=MilestoneOutputSerializer)
    def post(self, request: Request, milestone_id: int) -> Response:
        serializer = MilestoneReleaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        milestone = milestone_release(
            milestone_id=milestone_id, by=api_user(request), amount=serializer.validated_data["amount"]
        )
        return Response(MilestoneOutputSerializer(milestone).data)


# --- timesheets and time entries ----------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time as "HH:MM" (JSON Schema's "time" format would demand a UTC offset)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


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
        by = api_user(request)
        entries = _all_or_nothing(
            serializer.validated_data["entries"],
            lambda row: time_entry_add(contract_id=contract_id, data=TimeEntryInput(**row), by=by),
            field="entries",
            label="entry",
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


# --- statements of work and service levels ------------------------------------------------------------------------


class ServiceLevelOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceLevel
        fields = ["id", "metric", "direction", "target", "stretch_target", "credit_pct", "bonus_pct"]
        read_only_fields = fields


class StatementOfWorkOutputSerializer(serializers.ModelSerializer):
    organization = EngagementOrganizationSerializer(read_only=True, help_text="The client organisation.")
    vendor = EngagementOrganizationSerializer(read_only=True, help_text="The vendor firm.")
    service_levels = ServiceLevelOutputSerializer(many=True, read_only=True)

    class Meta:
        model = StatementOfWork
        fields = [
            "id",
            "title",
            "status",
            "organization",
            "vendor",
            "scope",
            "deliverables",
            "start_date",
            "end_date",
            "pricing_model",
            "currency",
            "monthly_fee",
            "monthly_budget_cap",
            "credit_cap_pct",
            "bonus_cap_pct",
            "handles_personal_data",
            "is_healthcare",
            "is_finance",
            "proposed_at",
            "returned_note",
            "client_signed_at",
            "vendor_signed_at",
            "activated_at",
            "ended_at",
            "end_reason",
            "created_at",
            "service_levels",
        ]
        read_only_fields = fields


class StatementOfWorkInputSerializer(serializers.Serializer):
    counterparty_id = serializers.IntegerField(
        min_value=1, help_text="The other side: a vendor firm for a client's key, a client for a vendor's key."
    )
    title = serializers.CharField(max_length=160)
    scope = serializers.CharField(max_length=20000)
    deliverables = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    pricing_model = serializers.ChoiceField(choices=StatementOfWork.Pricing.choices)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, default="USD")
    monthly_fee = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Fixed monthly and outcome-based pricing.",
    )
    monthly_budget_cap = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Time and materials: the most billed in one month.",
    )
    credit_cap_pct = serializers.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20"))
    bonus_cap_pct = serializers.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"))


class StatementOfWorkFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=StatementOfWork.Status.choices)
    pricing_model = django_filters.ChoiceFilter(choices=StatementOfWork.Pricing.choices)

    class Meta:
        model = StatementOfWork
        fields = ["status", "pricing_model"]


def _sow_output(sow_id: int, request: Request) -> dict[str, Any]:
    return StatementOfWorkOutputSerializer(sow_get(sow_id=sow_id, user=api_user(request))).data


class StatementOfWorkListCreateApi(generics.ListAPIView):
    """Statements of work of the caller's organisation, on either side, with their service levels, newest
    first; POST drafts one with a counterparty the organisation can work with (as the page offers)."""

    scope_area = SCOPE
    serializer_class = StatementOfWorkOutputSerializer
    filterset_class = StatementOfWorkFilter
    ordering = "-id"
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[StatementOfWork]:
        if getattr(self, "swagger_fake_view", False):
            return StatementOfWork.objects.none()
        return sow_list_for_user(user=api_user(self.request)).prefetch_related("service_levels")

    @extend_schema(request=StatementOfWorkInputSerializer, responses={201: StatementOfWorkOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = StatementOfWorkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        by = api_user(request)
        terms = dict(serializer.validated_data)
        counterparty_id = terms.pop("counterparty_id")
        acting = organization_get(organization_id=api_organization_id(request), user=by)
        if not sow_counterparty_list(organization=acting).filter(pk=counterparty_id).exists():
            side = "vendor firm" if acting.kind == Organization.Kind.CLIENT else "client your firm works with"
            raise serializers.ValidationError({"counterparty_id": [f"Choose a {side}."]})
        sow = sow_create(organization_id=acting.pk, counterparty_id=counterparty_id, data=SOWInput(**terms), by=by)
        return Response(_sow_output(sow.pk, request), status=status.HTTP_201_CREATED)


class StatementOfWorkDetailApi(APIView):
    scope_area = SCOPE

    @extend_schema(responses=StatementOfWorkOutputSerializer)
    def get(self, request: Request, sow_id: int) -> Response:
        return Response(_sow_output(sow_id, request))


class StatementOfWorkProposeApi(APIView):
    """A draft goes to the other side for signature; its terms are frozen."""

    scope_area = SCOPE

    @extend_schema(request=None, responses=StatementOfWorkOutputSerializer)
    def post(self, request: Request, sow_id: int) -> Response:
        sow = sow_propose(sow_id=sow_id, by=api_user(request))
        return Response(_sow_output(sow.pk, request))


class StatementOfWorkSignApi(APIView):
    """The caller's side signs a proposed statement of work (an organisation key signs as an admin). Signed by
    both, it is signed, and active at once if its start date has come and compliance allows."""

    scope_area = SCOPE

    @extend_schema(request=None, responses=StatementOfWorkOutputSerializer)
    def post(self, request: Request, sow_id: int) -> Response:
        sow = sow_sign(sow_id=sow_id, by=api_user(request))
        return Response(_sow_output(sow.pk, request))


class ServiceLevelInputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=ServiceLevel.Metric.choices)
    target = serializers.DecimalField(max_digits=10, decimal_places=2)
    direction = serializers.ChoiceField(
        choices=ServiceLevel.Direction.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Leave out for the metric's natural direction.",
    )
    credit_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), help_text="% of the month's fee credited on a breach."
    )
    stretch_target = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, default=None
    )
    bonus_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Outcome-based pricing: % of the month's fee paid at the stretch target.",
    )


class ServiceLevelListSetApi(generics.ListAPIView):
    """A statement of work's service levels; POST sets the one for a metric (adds it, or changes the existing
    one) while the statement of work is a draft."""

    scope_area = SCOPE
    serializer_class = ServiceLevelOutputSerializer
    ordering = "id"
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[ServiceLevel]:
        if getattr(self, "swagger_fake_view", False):
            return ServiceLevel.objects.none()
        return sow_get(sow_id=self.kwargs["sow_id"], user=api_user(self.request)).service_levels.all()

    @extend_schema(request=ServiceLevelInputSerializer, responses=ServiceLevelOutputSerializer)
    def post(self, request: Request, sow_id: int) -> Response:
        serializer = ServiceLevelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        level = service_level_set(
            sow_id=sow_id, data=ServiceLevelInput(**serializer.validated_data), by=api_user(request)
        )
        return Response(ServiceLevelOutputSerializer(level).data)


# --- SLA measurements ---------------------------------------------------------------------------------------------


class SLAMeasurementOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SLAMeasurement
        fields = ["id", "metric", "period", "value", "source", "note", "created_at", "updated_at"]
        read_only_fields = fields


class SLAMeasurementInputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=ServiceLevel.Metric.choices)
    period = serializers.CharField(max_length=10, help_text="The month, as YYYY-MM (or any day of it, YYYY-MM-DD).")
    value = serializers.DecimalField(max_digits=10, decimal_places=2)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate_period(self, value: str) -> Any:
        month = parse_period(value)
        if month is None:
            raise serializers.ValidationError("Give the month as YYYY-MM.")
        return month


class SLAMeasurementsInputSerializer(serializers.Serializer):
    measurements = serializers.ListField(child=SLAMeasurementInputSerializer(), min_length=1, max_length=BULK_MAX_ITEMS)

    def validate_measurements(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first: dict[tuple[str, Any], int] = {}
        errors: dict[str, dict[str, list[str]]] = {}
        for index, row in enumerate(rows):
            key = (row["metric"], row["period"])
            if key in first:
                errors[str(index)] = {
                    "period": [f"{row['metric']} for {row['period']:%Y-%m} is already measurement {first[key]}."]
                }
            else:
                first[key] = index
        if errors:
            raise serializers.ValidationError(errors)
        return rows


class SLAMeasurementsOutputSerializer(serializers.Serializer):
    measurements = SLAMeasurementOutputSerializer(many=True, read_only=True)


class SLAMeasurementFilter(django_filters.FilterSet):
    metric = django_filters.ChoiceFilter(choices=ServiceLevel.Metric.choices)
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", label="Months from (YYYY-MM-DD)")
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", label="Months to (YYYY-MM-DD)")

    class Meta:
        model = SLAMeasurement
        fields = ["metric", "period_from", "period_to"]


class SLAMeasurementListRecordApi(generics.ListAPIView):
    """A statement of work's monthly measurements, newest first. POST records several at once (each a month's
    value of a metric, or a correction of one until the month is evaluated): all are saved, or none, with every
    row's errors at its index in `errors.measurements`."""

    scope_area = SCOPE
    serializer_class = SLAMeasurementOutputSerializer
    filterset_class = SLAMeasurementFilter
    ordering = "-id"
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[SLAMeasurement]:
        if getattr(self, "swagger_fake_view", False):
            return SLAMeasurement.objects.none()
        sow = sow_get(sow_id=self.kwargs["sow_id"], user=api_user(self.request))
        return sla_measurement_list(sow=sow)

    @extend_schema(request=SLAMeasurementsInputSerializer, responses=SLAMeasurementsOutputSerializer)
    def post(self, request: Request, sow_id: int) -> Response:
        serializer = SLAMeasurementsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        by = api_user(request)
        measurements = _all_or_nothing(
            serializer.validated_data["measurements"],
            lambda row: sla_measurement_record(
                sow_id=sow_id,
                metric=row["metric"],
                period=row["period"],
                value=row["value"],
                note=row["note"],
                source=SLAMeasurement.Source.API,
                by=by,
            ),
            field="measurements",
            label="measurement",
        )
        return Response({"measurements": SLAMeasurementOutputSerializer(measurements, many=True).data})
