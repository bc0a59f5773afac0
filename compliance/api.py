"""Partner API of compliance (read only): the caller's checklist, the requirement catalogue, and what keeps one
contract from starting.

Whose checklist: an organisation key's vendor firm, a freelancer key's freelancer; a signed-in person's vendor
firm chosen in their session, else themselves as a freelancer. The gate (compliance.gate through
compliance.selectors) decides what applies and what blocks, exactly as on the checklist and contract pages.
Documents are described by their review status only: never their files or tax data.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Organization
from accounts.selectors import user_context
from compliance.gate import Party, RequirementState
from compliance.models import ComplianceDocument, Requirement
from compliance.selectors import (
    checklist_for,
    compliance_party_for,
    contract_activation_blockers,
    payout_blockers,
    requirement_list,
)
from core.types import api_user
from engagements.models import Contract
from engagements.selectors import contract_get

STATES = {
    "met": "Approved (or nothing to sign off).",
    "missing": "Nothing uploaded yet.",
    "submitted": "Uploaded, waiting for review.",
    "rejected": "Rejected: upload a corrected one or appeal.",
    "expired": "The approval expired: upload a current one.",
    "assessment_pending": "The engagement needs a classification sign-off.",
    "assessment_rejected": "The classification was not signed off.",
}


class ComplianceRequirementSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True, help_text="Why it is needed.")
    countries = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Applies only in these countries (empty: all)."
    )
    excluded_countries = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Never applies in these countries."
    )
    engagement_kinds = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Applies only to these engagements: fixed, hourly, micro_task, sow (empty: any, and payouts).",
    )
    engagement_flags = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Applies only to gigs or SOWs with one of these flags: handles_personal_data, is_healthcare, "
        "is_finance.",
    )

    class Meta:
        model = Requirement
        fields = [
            "id",
            "code",
            "name",
            "description",
            "evidence",
            "party",
            "countries",
            "excluded_countries",
            "engagement_kinds",
            "engagement_flags",
            "min_weekly_hours",
            "min_duration_weeks",
            "blocks_activation",
            "blocks_payout",
            "validity_days",
        ]
        read_only_fields = fields


class ComplianceDocumentStatusSerializer(serializers.ModelSerializer):
    uploaded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ComplianceDocument
        fields = ["id", "status", "uploaded_at", "reviewed_at", "expires_at", "rejection_reason", "appealed_at"]
        read_only_fields = fields


class ComplianceItemSerializer(serializers.Serializer):
    requirement = ComplianceRequirementSerializer()
    state = serializers.ChoiceField(
        choices=list(STATES.items()), help_text="Where the requirement stands for the caller."
    )
    is_met = serializers.BooleanField()
    message = serializers.CharField(help_text="What is missing and what to do, in one sentence.")
    document = ComplianceDocumentStatusSerializer(allow_null=True, help_text="The latest document for it, if any.")


class CompliancePartySerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="freelancer or vendor")
    id = serializers.IntegerField(help_text="The freelancer's id, or the vendor firm's.")
    name = serializers.CharField()


class ComplianceStatusSerializer(serializers.Serializer):
    party = CompliancePartySerializer()
    items = ComplianceItemSerializer(many=True, help_text="Each requirement that applies, and its state.")
    activation_blocked_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="Unmet requirements that keep contracts from starting (they may also depend on each contract).",
    )
    payout_blockers = serializers.ListField(
        child=serializers.CharField(), help_text="Why payouts are held: one sentence each (empty: they are not)."
    )


def _party(request: Request) -> Party:
    """An organisation key acts for its organisation; a freelancer key, or a person with no vendor firm chosen,
    for the freelancer."""
    user = api_user(request)
    if isinstance(request.auth, ApiKey):
        return compliance_party_for(user=user, organization_id=request.auth.organization_id)
    organization = user_context(user=user, session=request.session).organization
    vendor_id = organization.pk if organization is not None and organization.kind == Organization.Kind.VENDOR else None
    return compliance_party_for(user=user, organization_id=vendor_id)


def _item(state: RequirementState) -> dict[str, Any]:
    return {
        "requirement": state.requirement,
        "state": state.state,
        "is_met": state.is_met,
        "message": state.message,
        "document": state.document,
    }


class ComplianceStatusApi(APIView):
    """The caller's compliance checklist: every requirement that applies (in general and to their live contracts
    and statements of work), why, its state, and what it blocks."""

    scope_area = "compliance"

    @extend_schema(responses=ComplianceStatusSerializer)
    def get(self, request: Request) -> Response:
        party = _party(request)
        states = checklist_for(party=party)
        if party.organization is not None:
            owner = {"kind": party.kind, "id": party.organization.pk, "name": party.organization.name}
        else:
            user = api_user(request)
            owner = {"kind": party.kind, "id": user.pk, "name": user.get_full_name()}
        body = {
            "party": owner,
            "items": [_item(state) for state in states],
            "activation_blocked_by": [
                state.message for state in states if state.requirement.blocks_activation and not state.is_met
            ],
            "payout_blockers": payout_blockers(user=party.user, organization=party.organization),
        }
        return Response(ComplianceStatusSerializer(body).data)


class RequirementFilter(django_filters.FilterSet):
    party = django_filters.ChoiceFilter(choices=Requirement.Party.choices)
    evidence = django_filters.ChoiceFilter(choices=Requirement.Evidence.choices)

    class Meta:
        model = Requirement
        fields = ["party", "evidence"]


class ComplianceRequirementListApi(generics.ListAPIView):
    """The requirement catalogue: what may be asked of freelancers and vendor firms, where and for which work."""

    scope_area = "compliance"
    queryset = Requirement.objects.none()  # the model, for the schema; get_queryset reads the catalogue
    serializer_class = ComplianceRequirementSerializer
    filterset_class = RequirementFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Requirement]:
        return requirement_list()


class ContractComplianceSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField()
    status = serializers.CharField(help_text="The contract's status.")
    is_waiting_for_compliance = serializers.BooleanField()
    blockers = serializers.ListField(
        child=serializers.CharField(),
        help_text="While the contract waits for compliance: each unmet requirement, in one sentence (else empty).",
    )


class ContractComplianceApi(APIView):
    """What keeps one contract (of the caller, either side) from starting, as the contract page shows it."""

    scope_area = "compliance"

    @extend_schema(responses=ContractComplianceSerializer)
    def get(self, request: Request, contract_id: int) -> Response:
        contract = contract_get(contract_id=contract_id, user=api_user(request))
        waiting = contract.status == Contract.Status.PENDING_COMPLIANCE
        body = {
            "contract_id": contract.pk,
            "status": contract.status,
            "is_waiting_for_compliance": waiting,
            "blockers": contract_activation_blockers(contract=contract) if waiting else [],
        }
        return Response(ContractComplianceSerializer(body).data)
