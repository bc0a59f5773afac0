"""Partner API of engagements: statements of work, their service levels and SLA measurements."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from accounts.selectors import organization_get
from core.api import api_organization_id
from core.money import CURRENCY_CHOICES
from core.types import api_user
from engagements.api.common import BULK_MAX_ITEMS, SCOPE, EngagementOrganizationSerializer
from engagements.models import ServiceLevel, SLAMeasurement, StatementOfWork
from engagements.selectors import sla_measurement_list, sow_counterparty_list, sow_get, sow_list_for_user
from engagements.services import (
    MeasurementInput,
    ServiceLevelInput,
    SOWInput,
    service_level_set,
    sla_measurements_record,
    sow_create,
    sow_propose,
    sow_sign,
)
from engagements.services.sla import parse_period

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
        measurements = sla_measurements_record(
            sow_id=sow_id,
            measurements=[
                MeasurementInput(metric=row["metric"], period=row["period"], value=row["value"], note=row["note"])
                for row in serializer.validated_data["measurements"]
            ],
            source=SLAMeasurement.Source.API,
            by=api_user(request),
        )
        return Response({"measurements": SLAMeasurementOutputSerializer(measurements, many=True).data})
