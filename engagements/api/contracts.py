"""Partner API of engagements: contracts and their milestones."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.types import api_user
from engagements.api.common import (
    SCOPE,
    EngagementFreelancerSerializer,
    EngagementGigSerializer,
    EngagementOrganizationSerializer,
)
from engagements.models import Contract, Milestone
from engagements.selectors import contract_get, contract_list_for_user
from engagements.services import (
    MilestoneInput,
    milestone_approve,
    milestone_create,
    milestone_release,
    milestone_request_changes,
    milestone_submit,
)

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
