"""Partner API of the marketplace: gigs, bids, invitations, matches and micro-task batches and units.

Views translate: they read the request into a service's input, call that one service or selector, and write its
result out. Input serializers list exactly the fields a caller may set, so anything else in a body (status,
organization, amounts the platform computes) is ignored.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, Organization, User
from accounts.selectors import user_context
from billing.services.fees import Fees, fee_split, fees_for
from core.api import api_organization_id
from core.countries import TIMEZONE_CHOICES
from core.errors import ApplicationError
from core.types import api_user
from marketplace.models import Bid, BidTeamMember, Gig, Invitation, Match, TaskBatch, TaskUnit
from marketplace.selectors.bids import (
    bid_list_for_bidder,
    bid_list_for_gig,
    invitation_list_for_gig,
    invitation_list_for_invitee,
)
from marketplace.selectors.gigs import gig_get, gig_get_for_client, gig_list_for_client, gig_search
from marketplace.selectors.matching import match_list_for_client, match_list_for_gig
from marketplace.selectors.microtasks import (
    task_batch_get_for_client,
    task_batch_list_for_worker,
    task_batch_progress,
    task_unit_list_for_client,
)
from marketplace.services.bids import (
    MAX_COVER_LETTER,
    BidInput,
    bid_accept,
    bid_create,
    bid_decline,
    bid_shortlist,
    bid_withdraw,
    invitation_create,
)
from marketplace.services.gigs import GigInput, gig_cancel, gig_create, gig_publish, gig_update
from marketplace.services.matching import FACTOR_NAMES, match_refresh_request
from marketplace.services.microtask_import import IMPORT_MAX_ROWS, task_units_import
from marketplace.services.microtasks import (
    REASON_MAX_CHARS,
    TaskBatchInput,
    task_batch_close,
    task_batch_create,
    task_batch_open,
    task_batch_update,
    task_unit_accept,
    task_unit_claim_next,
    task_unit_reject,
    task_unit_submit,
)

# --- gigs ---------------------------------------------------------------------------------------------------------


class GigSkillSerializer(serializers.Serializer):
    skill_id = serializers.IntegerField(min_value=1)
    min_level = serializers.IntegerField(min_value=1, max_value=5, default=3)


class GigOutputSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    required_country = serializers.CharField(read_only=True, help_text="ISO country code, or empty for anywhere.")
    skills = serializers.SerializerMethodField()

    class Meta:
        model = Gig
        fields = [
            "id",
            "title",
            "description",
            "deliverables",
            "kind",
            "status",
            "visibility",
            "organization",
            "currency",
            "budget_amount",
            "hourly_rate_min",
            "hourly_rate_max",
            "estimated_hours",
            "deadline_date",
            "timezone",
            "required_country",
            "handles_personal_data",
            "is_healthcare",
            "is_finance",
            "screening_questions",
            "skills",
            "published_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_skills(self, gig: Gig) -> list[dict[str, Any]]:
        return [
            {"skill_id": gig_skill.skill_id, "name": gig_skill.skill.name, "min_level": gig_skill.min_level}
            for gig_skill in gig.gig_skills.all()
        ]


class GigInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=Gig.Kind.choices)
    currency = serializers.CharField(max_length=3, default="USD")
    deliverables = serializers.CharField(required=False, allow_blank=True, default="")
    budget_amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    hourly_rate_min = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    hourly_rate_max = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    estimated_hours = serializers.IntegerField(min_value=1, max_value=100000, required=False, allow_null=True)
    deadline_date = serializers.DateField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Gig.Visibility.choices, default=Gig.Visibility.PUBLIC)
    talent_pool_id = serializers.IntegerField(required=False, allow_null=True)
    timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES, default="UTC")
    required_country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    handles_personal_data = serializers.BooleanField(default=False)
    is_healthcare = serializers.BooleanField(default=False)
    is_finance = serializers.BooleanField(default=False)
    screening_questions = serializers.ListField(
        child=serializers.CharField(max_length=300), max_length=10, required=False, default=list
    )
    skills = GigSkillSerializer(many=True, required=False, default=list)

    def to_input(self) -> GigInput:
        data = dict(self.validated_data)
        skills = [(skill["skill_id"], skill["min_level"]) for skill in data.pop("skills")]
        return GigInput(**data, skills=skills)


class GigFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Gig.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Gig.Kind.choices)

    class Meta:
        model = Gig
        fields = ["status", "kind"]


def _gig_output(gig: Gig, user: Any) -> dict[str, Any]:
    fresh = gig_get(gig_id=gig.pk, user=user)  # re-read with its skills, as the caller may see it
    return GigOutputSerializer(fresh).data


class GigListCreateApi(generics.ListAPIView):
    """The organisation's own gigs (drafts included), newest first; POST creates a draft."""

    scope_area = "marketplace"
    serializer_class = GigOutputSerializer
    filterset_class = GigFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Gig]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return Gig.objects.none()
        return gig_list_for_client(user=api_user(self.request)).prefetch_related("gig_skills__skill")

    @extend_schema(request=GigInputSerializer, responses={201: GigOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = GigInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gig = gig_create(organization_id=api_organization_id(request), data=serializer.to_input(), by=api_user(request))
        return Response(_gig_output(gig, api_user(request)), status=status.HTTP_201_CREATED)


class GigSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    kind = serializers.ChoiceField(choices=Gig.Kind.choices, required=False)
    skill = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=15)
    min_budget = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    max_budget = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)


class GigSearchResultsSerializer(serializers.Serializer):
    results = GigOutputSerializer(many=True)


class GigSearchApi(APIView):
    """Open gigs the caller may see: the best 100 for the full-text query `q` (ranked) and the filters."""

    scope_area = "marketplace"

    @extend_schema(parameters=[GigSearchQuerySerializer], responses=GigSearchResultsSerializer)
    def get(self, request: Request) -> Response:
        given = {name: value for name, value in request.query_params.items() if value != ""}  # "x=" is no filter
        params = GigSearchQuerySerializer(data={**given, "skill": request.query_params.getlist("skill")})
        params.is_valid(raise_exception=True)
        found = params.validated_data
        gigs = gig_search(
            user=api_user(request),
            query=found["q"],
            kind=found.get("kind"),
            skill_ids=found.get("skill"),
            min_budget=found.get("min_budget"),
            max_budget=found.get("max_budget"),
        )[:100]
        return Response({"results": GigOutputSerializer(gigs, many=True).data})


class GigDetailApi(APIView):
    """One gig the caller may see; PATCH edits a draft or open gig of the caller's organisation."""

    scope_area = "marketplace"

    @extend_schema(responses=GigOutputSerializer)
    def get(self, request: Request, gig_id: int) -> Response:
        return Response(GigOutputSerializer(gig_get(gig_id=gig_id, user=api_user(request))).data)

    @extend_schema(request=GigInputSerializer, responses=GigOutputSerializer)
    def put(self, request: Request, gig_id: int) -> Response:
        serializer = GigInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gig = gig_update(gig_id=gig_id, data=serializer.to_input(), by=api_user(request))
        return Response(_gig_output(gig, api_user(request)))


class GigCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GigPublishApi(APIView):
    scope_area = "marketplace"

    @extend_schema(request=None, responses=GigOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        gig = gig_publish(gig_id=gig_id, by=api_user(request))
        return Response(_gig_output(gig, api_user(request)))


class GigCancelApi(APIView):
    scope_area = "marketplace"

    @extend_schema(request=GigCancelInputSerializer, responses=GigOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = GigCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gig = gig_cancel(gig_id=gig_id, by=api_user(request), reason=serializer.validated_data["reason"])
        return Response(_gig_output(gig, api_user(request)))


# --- bids ---------------------------------------------------------------------------------------------------------


class BidTeamMemberOutputSerializer(serializers.ModelSerializer):
    team_member_id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(source="team_member.full_name", read_only=True)
    rate = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = BidTeamMember
        fields = ["team_member_id", "full_name", "role", "rate", "currency"]
        read_only_fields = fields


class BidClientFeesSerializer(serializers.Serializer):
    """What the client pays for the bid's price (per hour for an hourly bid), as the bid comparison page shows it:
    the client's marketplace fee on top of the price. The bidder's own service fee is theirs and not shown."""

    price = serializers.DecimalField(max_digits=14, decimal_places=2, source="amount")
    client_fee_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    client_fee = serializers.DecimalField(max_digits=14, decimal_places=2)
    client_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    is_per_hour = serializers.BooleanField()


class BidMatchSummarySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=7, decimal_places=4)


class BidOutputSerializer(serializers.ModelSerializer):
    """A bid. The client's view (context `client_view`: `fees` of the gig's organisation and `matches`) adds the
    guardrail flag, what the client would pay and the bidder's match; for the bidder those fields are null."""

    gig_id = serializers.IntegerField(read_only=True)
    gig_title = serializers.CharField(source="gig.title", read_only=True)
    freelancer_id = serializers.IntegerField(read_only=True, allow_null=True)
    vendor_id = serializers.IntegerField(read_only=True, allow_null=True)
    bidder_name = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    hourly_rate = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    screening_answers = serializers.ListField(child=serializers.CharField(allow_blank=True), read_only=True)
    team = BidTeamMemberOutputSerializer(many=True, read_only=True)
    is_outside_guardrail = serializers.SerializerMethodField(help_text="Client's view only.")
    client_fees = serializers.SerializerMethodField(help_text="Client's view only.")
    match = serializers.SerializerMethodField(help_text="Client's view only: the bidder's rank, if ranked.")

    class Meta:
        model = Bid
        fields = [
            "id",
            "gig_id",
            "gig_title",
            "status",
            "freelancer_id",
            "vendor_id",
            "bidder_name",
            "currency",
            "amount",
            "hourly_rate",
            "estimated_hours",
            "cover_letter",
            "screening_answers",
            "team",
            "decided_at",
            "created_at",
            "is_outside_guardrail",
            "client_fees",
            "match",
        ]
        read_only_fields = fields

    def _client_view(self) -> dict[str, Any] | None:
        view: dict[str, Any] | None = self.context.get("client_view")
        return view

    def get_bidder_name(self, bid: Bid) -> str:
        if bid.vendor is not None:
            return bid.vendor.name
        return bid.freelancer.get_full_name() if bid.freelancer is not None else ""

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_outside_guardrail(self, bid: Bid) -> bool | None:
        return bid.is_outside_guardrail if self._client_view() is not None else None

    @extend_schema_field(BidClientFeesSerializer(allow_null=True))
    def get_client_fees(self, bid: Bid) -> dict[str, Any] | None:
        view = self._client_view()
        price = bid.amount if bid.amount is not None else bid.hourly_rate
        if view is None or price is None:
            return None
        fees: Fees = view["fees"]
        split = fee_split(amount=price, currency=bid.currency, fees=fees)
        row = {
            "amount": split.amount,
            "client_fee_percent": fees.client_fee_pct,
            "client_fee": split.client_fee,
            "client_total": split.client_total,
            "currency": split.currency,
            "is_per_hour": bid.amount is None,
        }
        return BidClientFeesSerializer(row).data

    @extend_schema_field(BidMatchSummarySerializer(allow_null=True))
    def get_match(self, bid: Bid) -> dict[str, Any] | None:
        view = self._client_view()
        match = view["matches"].get((bid.freelancer_id, bid.vendor_id)) if view is not None else None
        return BidMatchSummarySerializer(match).data if match is not None else None


class BidInputSerializer(serializers.Serializer):
    """A bid. Who bids follows from the caller: a vendor firm's key bids for the firm (and may propose its team),
    a freelancer's key bids as the freelancer."""

    cover_letter = serializers.CharField(max_length=MAX_COVER_LETTER)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="Total price (fixed-price gigs)."
    )
    hourly_rate = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="Hourly gigs."
    )
    estimated_hours = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True)
    screening_answers = serializers.ListField(
        child=serializers.CharField(max_length=5000, allow_blank=True), max_length=10, required=False, default=list
    )
    team_member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=50, required=False, default=list
    )

    def to_input(self, *, vendor_organization_id: int | None) -> BidInput:
        return BidInput(**self.validated_data, vendor_organization_id=vendor_organization_id)


class BidFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Bid.Status.choices)

    class Meta:
        model = Bid
        fields = ["status"]


class BidderBidFilter(BidFilter):
    gig = django_filters.NumberFilter(field_name="gig_id", help_text="Only bids on this gig.")

    class Meta:
        model = Bid
        fields = ["status", "gig"]


class BidAcceptOutputSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    bid_id = serializers.IntegerField()
    gig_id = serializers.IntegerField()


def _bidding_vendor_id(request: Request) -> int | None:
    """Who bids: an organisation's key bids for its organisation (the service refuses unless it is a vendor
    firm); a freelancer's key, or a signed-in person not acting for a vendor firm, bids as the freelancer."""
    if isinstance(request.auth, ApiKey):
        return request.auth.organization_id
    context = user_context(user=api_user(request), session=request.session)
    if context.role == Organization.Kind.VENDOR and context.organization is not None:
        return context.organization.pk
    return None


def _bids_of_bidder(user: User) -> QuerySet[Bid]:
    return (
        bid_list_for_bidder(user=user)
        .select_related("freelancer", "vendor")
        .prefetch_related(Prefetch("team", queryset=BidTeamMember.objects.select_related("team_member")))
    )


def _client_bid_context(gig: Gig) -> dict[str, Any]:
    """What the client's view of bids shows beside each bid: the client's fees and each bidder's match."""
    matches = {(match.freelancer_id, match.vendor_id): match for match in match_list_for_gig(gig=gig)}
    return {"client_view": {"fees": fees_for(client=gig.organization), "matches": matches}}


def _client_bid_output(bid: Bid, user: User) -> dict[str, Any]:
    gig = gig_get_for_client(gig_id=bid.gig_id, user=user)
    fresh = bid_list_for_gig(gig=gig).get(pk=bid.pk)
    return BidOutputSerializer(fresh, context=_client_bid_context(gig)).data


def _bidder_bid_output(bid: Bid, user: User) -> dict[str, Any]:
    return BidOutputSerializer(_bids_of_bidder(user).get(pk=bid.pk)).data


class GigBidListCreateApi(generics.ListAPIView):
    """GET: the bids on the caller's own gig, to compare (with the client's fees and each bidder's match).
    POST: a freelancer's or vendor firm's key bids on a gig it may see."""

    scope_area = "marketplace"
    serializer_class = BidOutputSerializer
    filterset_class = BidFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Bid]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return Bid.objects.none()
        self.gig = gig_get_for_client(gig_id=self.kwargs["gig_id"], user=api_user(self.request))
        return bid_list_for_gig(gig=self.gig)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        gig = getattr(self, "gig", None)
        if gig is not None:
            context.update(_client_bid_context(gig))
        return context

    @extend_schema(request=BidInputSerializer, responses={201: BidOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = BidInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.to_input(vendor_organization_id=_bidding_vendor_id(request))
        bid = bid_create(gig_id=gig_id, data=data, by=api_user(request))
        return Response(_bidder_bid_output(bid, api_user(request)), status=status.HTTP_201_CREATED)


class BidListApi(generics.ListAPIView):
    """The caller's own bids: as a freelancer, and for the vendor firms the caller acts for."""

    scope_area = "marketplace"
    serializer_class = BidOutputSerializer
    filterset_class = BidderBidFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Bid]:
        if getattr(self, "swagger_fake_view", False):
            return Bid.objects.none()
        return _bids_of_bidder(api_user(self.request))


class BidWithdrawApi(APIView):
    """The bidder withdraws a submitted or shortlisted bid."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=BidOutputSerializer)
    def post(self, request: Request, bid_id: int) -> Response:
        bid = bid_withdraw(bid_id=bid_id, by=api_user(request))
        return Response(_bidder_bid_output(bid, api_user(request)))


class BidShortlistApi(APIView):
    """The client shortlists a bid on its open gig."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=BidOutputSerializer)
    def post(self, request: Request, bid_id: int) -> Response:
        bid = bid_shortlist(bid_id=bid_id, by=api_user(request))
        return Response(_client_bid_output(bid, api_user(request)))


class BidDeclineApi(APIView):
    """The client declines a bid on its open gig."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=BidOutputSerializer)
    def post(self, request: Request, bid_id: int) -> Response:
        bid = bid_decline(bid_id=bid_id, by=api_user(request))
        return Response(_client_bid_output(bid, api_user(request)))


class BidAcceptApi(APIView):
    """The client hires: the bid is accepted, the gig's other live bids are declined, and a contract is created
    (waiting for compliance until the checks pass)."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses={201: BidAcceptOutputSerializer})
    def post(self, request: Request, bid_id: int) -> Response:
        contract = bid_accept(bid_id=bid_id, by=api_user(request))
        return Response(BidAcceptOutputSerializer(contract).data, status=status.HTTP_201_CREATED)


# --- invitations --------------------------------------------------------------------------------------------------


class InvitationOutputSerializer(serializers.ModelSerializer):
    gig_id = serializers.IntegerField(read_only=True)
    gig_title = serializers.CharField(source="gig.title", read_only=True)
    organization = serializers.CharField(source="gig.organization.name", read_only=True)
    freelancer_id = serializers.IntegerField(read_only=True, allow_null=True)
    vendor_id = serializers.IntegerField(read_only=True, allow_null=True)
    invitee_name = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "gig_id",
            "gig_title",
            "organization",
            "freelancer_id",
            "vendor_id",
            "invitee_name",
            "message",
            "status",
            "created_at",
        ]
        read_only_fields = fields

    def get_invitee_name(self, invitation: Invitation) -> str:
        if invitation.vendor is not None:
            return invitation.vendor.name
        return invitation.freelancer.get_full_name() if invitation.freelancer is not None else ""


class InvitationInputSerializer(serializers.Serializer):
    """Invite either a freelancer (their user id, as in matches) or a vendor firm (its organisation id)."""

    freelancer_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    vendor_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class InvitationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invitation.Status.choices)

    class Meta:
        model = Invitation
        fields = ["status"]


class GigInvitationListCreateApi(generics.ListAPIView):
    """GET: who was invited to bid on the caller's own gig. POST: invite a freelancer or a vendor firm."""

    scope_area = "marketplace"
    serializer_class = InvitationOutputSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitation_list_for_gig(gig_id=self.kwargs["gig_id"], user=api_user(self.request))

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = InvitationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = invitation_create(gig_id=gig_id, by=api_user(request), **serializer.validated_data)
        fresh = invitation_list_for_gig(gig_id=gig_id, user=api_user(request)).get(pk=invitation.pk)
        return Response(InvitationOutputSerializer(fresh).data, status=status.HTTP_201_CREATED)


class InvitationListApi(generics.ListAPIView):
    """Invitations to bid sent to the caller (as a freelancer, or to the vendor firm the key belongs to)."""

    scope_area = "marketplace"
    serializer_class = InvitationOutputSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitation_list_for_invitee(user=api_user(self.request))


# --- matches ------------------------------------------------------------------------------------------------------


class MatchFactorSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="skills, rate, availability, timezone, rating, relevance, compliance")
    value = serializers.DecimalField(max_digits=7, decimal_places=4, help_text="How well the candidate fits, 0–1.")
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="The factor's weight in the score.")


class MatchOutputSerializer(serializers.ModelSerializer):
    """A ranked candidate with why: score = Σ value × weight + newcomer boost − exposure penalty."""

    freelancer_id = serializers.IntegerField(read_only=True, allow_null=True)
    vendor_id = serializers.IntegerField(read_only=True, allow_null=True)
    name = serializers.SerializerMethodField()
    headline = serializers.SerializerMethodField()
    score = serializers.DecimalField(max_digits=7, decimal_places=4, read_only=True)
    factors = serializers.SerializerMethodField()
    newcomer_boost = serializers.SerializerMethodField()
    exposure_penalty = serializers.SerializerMethodField()
    is_invited = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = [
            "rank",
            "score",
            "freelancer_id",
            "vendor_id",
            "name",
            "headline",
            "factors",
            "newcomer_boost",
            "exposure_penalty",
            "is_invited",
            "invited_at",
            "computed_at",
        ]
        read_only_fields = fields

    def get_name(self, match: Match) -> str:
        if match.vendor is not None:
            return match.vendor.name
        return match.freelancer.get_full_name() if match.freelancer is not None else ""

    def get_headline(self, match: Match) -> str:
        if match.vendor is not None:
            profile = getattr(match.vendor, "vendor_profile", None)
        else:
            profile = getattr(match.freelancer, "talent_profile", None)
        return profile.headline if profile is not None else ""

    @extend_schema_field(MatchFactorSerializer(many=True))
    def get_factors(self, match: Match) -> list[Any]:
        factors = {name: factor for name, factor in match.factors.items() if isinstance(factor, dict)}
        order = [name for name in FACTOR_NAMES if name in factors] + sorted(set(factors) - set(FACTOR_NAMES))
        rows = [{"name": name, "value": factors[name]["value"], "weight": factors[name]["weight"]} for name in order]
        return list(MatchFactorSerializer(rows, many=True).data)

    def _adjustment(self, match: Match, name: str) -> str:
        return str(Decimal(str(match.factors.get(name, "0"))).quantize(Decimal("0.0001")))

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=4))
    def get_newcomer_boost(self, match: Match) -> str:
        return self._adjustment(match, "newcomer_boost")

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=4))
    def get_exposure_penalty(self, match: Match) -> str:
        return self._adjustment(match, "exposure_penalty")

    def get_is_invited(self, match: Match) -> bool:
        return (match.freelancer_id, match.vendor_id) in self.context.get("invited", set())


class GigMatchListApi(generics.ListAPIView):
    """The freelancers and vendor firms ranked for the caller's own gig, best first, each with the factors of its
    score. Ranking runs in the background when a gig is published and every night."""

    scope_area = "marketplace"
    serializer_class = MatchOutputSerializer
    filterset_class = None
    ordering = "rank"
    ordering_fields = ["rank"]

    def get_queryset(self) -> QuerySet[Match]:
        if getattr(self, "swagger_fake_view", False):
            return Match.objects.none()
        return match_list_for_client(gig_id=self.kwargs["gig_id"], user=api_user(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            invitations = invitation_list_for_gig(gig_id=self.kwargs["gig_id"], user=api_user(self.request))
            context["invited"] = set(invitations.values_list("freelancer_id", "vendor_id"))
        return context


class GigMatchRefreshApi(APIView):
    """Re-rank the caller's open gig now; the ranking runs in the background (read the matches again shortly)."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request, gig_id: int) -> Response:
        match_refresh_request(gig_id=gig_id, by=api_user(request))
        return Response(status=status.HTTP_202_ACCEPTED)


# --- micro-task batches -------------------------------------------------------------------------------------------


class TaskBatchProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    leased = serializers.IntegerField()
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    gold = serializers.IntegerField()
    gold_answered = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    earned = serializers.DecimalField(max_digits=14, decimal_places=2)


class TaskBatchOutputSerializer(serializers.ModelSerializer):
    """A gig's micro-task batch and its progress (needs `progress` from task_batch_progress in the context)."""

    gig_id = serializers.IntegerField(read_only=True)
    answer_options = serializers.ListField(child=serializers.CharField(), read_only=True)
    payload_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = TaskBatch
        fields = [
            "id",
            "gig_id",
            "status",
            "instructions",
            "answer_options",
            "payload_columns",
            "unit_price",
            "currency",
            "time_limit_minutes",
            "min_accuracy",
            "opened_at",
            "closed_at",
            "created_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(TaskBatchProgressSerializer)
    def get_progress(self, batch: TaskBatch) -> dict[str, Any]:
        return TaskBatchProgressSerializer(self.context["progress"]).data


class TaskBatchInputSerializer(serializers.Serializer):
    instructions = serializers.CharField(max_length=20_000)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Paid per accepted unit.")
    time_limit_minutes = serializers.IntegerField(min_value=1, max_value=TaskBatch.TIME_LIMIT_MAX_MINUTES, default=10)
    min_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
    )
    answer_options = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=20, required=False, default=list
    )

    def to_input(self) -> TaskBatchInput:
        return TaskBatchInput(**self.validated_data)


def _batch_output(batch: TaskBatch) -> dict[str, Any]:
    return TaskBatchOutputSerializer(batch, context={"progress": task_batch_progress(batch_id=batch.pk)}).data


class TaskBatchApi(APIView):
    """The micro-task batch of the caller's own gig (of kind micro_task): read it with its progress, create it
    (POST, once per gig) or change its settings (PUT)."""

    scope_area = "marketplace"

    @extend_schema(responses=TaskBatchOutputSerializer)
    def get(self, request: Request, gig_id: int) -> Response:
        return Response(_batch_output(task_batch_get_for_client(gig_id=gig_id, user=api_user(request))))

    @extend_schema(request=TaskBatchInputSerializer, responses={201: TaskBatchOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = TaskBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_create(gig_id=gig_id, data=serializer.to_input(), by=api_user(request))
        return Response(_batch_output(batch), status=status.HTTP_201_CREATED)

    @extend_schema(request=TaskBatchInputSerializer, responses=TaskBatchOutputSerializer)
    def put(self, request: Request, gig_id: int) -> Response:
        serializer = TaskBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        batch = task_batch_update(batch_id=batch.pk, data=serializer.to_input(), by=api_user(request))
        return Response(_batch_output(batch))


class TaskBatchOpenApi(APIView):
    """Open the batch to qualified workers (the gig must be open and have units to work on)."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskBatchOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        return Response(_batch_output(task_batch_open(batch_id=batch.pk, by=api_user(request))))


class TaskBatchCloseApi(APIView):
    """Stop new claims; units already claimed can still be submitted until their lease runs out."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskBatchOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        return Response(_batch_output(task_batch_close(batch_id=batch.pk, by=api_user(request))))


# --- micro-task units: the client's side --------------------------------------------------------------------------


class TaskUnitOutputSerializer(serializers.ModelSerializer):
    """A unit: its data, the worker's result and the review. Whether it is a gold unit, its known answer and
    whether the answer matched are the client's to see (context `client_view`); for the worker they are null."""

    batch_id = serializers.IntegerField(read_only=True)
    payload = serializers.DictField(read_only=True)
    is_gold = serializers.SerializerMethodField(help_text="Client's view only.")
    gold_answer = serializers.SerializerMethodField(help_text="Client's view only.")
    is_gold_correct = serializers.SerializerMethodField(help_text="Client's view only.")
    result = serializers.JSONField(read_only=True, allow_null=True)
    worker_id = serializers.IntegerField(source="claimed_by_id", read_only=True, allow_null=True)
    worker_name = serializers.SerializerMethodField()
    earned_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    currency = serializers.CharField(source="batch.currency", read_only=True)

    class Meta:
        model = TaskUnit
        fields = [
            "id",
            "batch_id",
            "external_id",
            "payload",
            "is_gold",
            "gold_answer",
            "status",
            "worker_id",
            "worker_name",
            "leased_until",
            "result",
            "submitted_at",
            "is_gold_correct",
            "reviewed_at",
            "rejection_reason",
            "earned_amount",
            "currency",
        ]
        read_only_fields = fields

    def _is_client_view(self) -> bool:
        return bool(self.context.get("client_view"))

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_gold(self, unit: TaskUnit) -> bool | None:
        return unit.is_gold if self._is_client_view() else None

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_gold_answer(self, unit: TaskUnit) -> Any:
        return unit.gold_answer if self._is_client_view() else None

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_gold_correct(self, unit: TaskUnit) -> bool | None:
        return unit.is_gold_correct if self._is_client_view() else None

    def get_worker_name(self, unit: TaskUnit) -> str | None:
        return unit.claimed_by.get_full_name() if unit.claimed_by is not None else None


_CLIENT_VIEW = {"client_view": True}


def _storable_json(value: Any) -> Any:
    """JSON that PostgreSQL's jsonb can hold: no NUL character in any text or key."""
    if isinstance(value, str) and "\x00" in value:
        raise serializers.ValidationError("Text may not contain NUL characters.")
    if isinstance(value, dict):
        for key, item in value.items():
            _storable_json(key)
            _storable_json(item)
    elif isinstance(value, list):
        for item in value:
            _storable_json(item)
    return value


PAYLOAD_KEY_MAX_LENGTH = 200  # the batch keeps the payload's keys as its columns, each up to 200 characters


class TaskUnitInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=TaskUnit.EXTERNAL_ID_MAX_LENGTH, help_text="Your own id for the unit.")
    payload = serializers.DictField(help_text="What the worker sees: one key per column (names up to 200 characters).")
    gold_answer = serializers.JSONField(
        required=False, allow_null=True, help_text="A known answer makes this a gold unit that scores accuracy."
    )

    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        if any(len(key) > PAYLOAD_KEY_MAX_LENGTH for key in payload):
            raise serializers.ValidationError(f"Name each key in at most {PAYLOAD_KEY_MAX_LENGTH} characters.")
        return dict(_storable_json(payload))

    def validate_gold_answer(self, gold_answer: Any) -> Any:
        return _storable_json(gold_answer)


class TaskUnitsImportInputSerializer(serializers.Serializer):
    units = serializers.ListField(child=TaskUnitInputSerializer(), allow_empty=False, max_length=IMPORT_MAX_ROWS)


class TaskUnitsImportOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    gold = serializers.IntegerField()


class TaskUnitRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS, help_text="The worker sees it.")


class TaskUnitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TaskUnit.Status.choices)
    is_gold = django_filters.BooleanFilter()

    class Meta:
        model = TaskUnit
        fields = ["status", "is_gold"]


def _units_as_json_lines(units: list[dict[str, Any]]) -> io.BytesIO:
    """The units as the JSON lines file the upload page takes, so both go through the same import: row N of
    its errors is the N-th unit of the list."""
    lines = []
    for unit in units:
        line = {"id": unit["id"], "payload": unit["payload"]}
        if unit.get("gold_answer") is not None:
            line["gold_answer"] = unit["gold_answer"]
        lines.append(json.dumps(line))
    file = io.BytesIO("\n".join(lines).encode())
    file.name = "units.jsonl"
    return file


class GigTaskUnitListCreateApi(generics.ListAPIView):
    """GET: every unit of the caller's own gig's batch with its result, filtered by status or gold. POST: add
    units in bulk. All or nothing: one bad unit means none is added, and each problem names its unit as
    “Row N” (the N-th unit of the list)."""

    scope_area = "marketplace"
    serializer_class = TaskUnitOutputSerializer
    filterset_class = TaskUnitFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TaskUnit]:
        if getattr(self, "swagger_fake_view", False):
            return TaskUnit.objects.none()
        return task_unit_list_for_client(gig_id=self.kwargs["gig_id"], user=api_user(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_CLIENT_VIEW}

    @extend_schema(request=TaskUnitsImportInputSerializer, responses={201: TaskUnitsImportOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = TaskUnitsImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        file = _units_as_json_lines(serializer.validated_data["units"])
        try:
            result = task_units_import(batch_id=batch.pk, file=file, by=api_user(request))
        except ApplicationError as error:  # the import names the file; here the units came as `units`
            if "file" in error.field_errors:
                error.field_errors = {"units": error.field_errors.pop("file"), **error.field_errors}
            raise
        return Response(TaskUnitsImportOutputSerializer(result).data, status=status.HTTP_201_CREATED)


class TaskUnitAcceptApi(APIView):
    """Accept a submitted unit of the caller's batch: the worker earns the batch's unit price."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        unit = task_unit_accept(unit_id=unit_id, by=api_user(request))
        return Response(TaskUnitOutputSerializer(unit, context=_CLIENT_VIEW).data)


class TaskUnitRejectApi(APIView):
    """Reject a submitted unit of the caller's batch, with a reason the worker sees; it earns nothing."""

    scope_area = "marketplace"

    @extend_schema(request=TaskUnitRejectInputSerializer, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        serializer = TaskUnitRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = task_unit_reject(unit_id=unit_id, by=api_user(request), reason=serializer.validated_data["reason"])
        return Response(TaskUnitOutputSerializer(unit, context=_CLIENT_VIEW).data)


# --- micro-task units: the worker's side --------------------------------------------------------------------------


class WorkerTaskBatchOutputSerializer(serializers.ModelSerializer):
    """An open batch the freelancer qualifies for, with their own record in it."""

    gig_id = serializers.IntegerField(read_only=True)
    gig_title = serializers.CharField(source="gig.title", read_only=True)
    organization = serializers.CharField(source="gig.organization.name", read_only=True)
    answer_options = serializers.ListField(child=serializers.CharField(), read_only=True)
    payload_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    remaining_units = serializers.IntegerField(read_only=True)
    my_gold_answered = serializers.IntegerField(read_only=True)
    my_gold_correct = serializers.IntegerField(read_only=True)
    my_accepted_units = serializers.IntegerField(read_only=True)
    my_earnings = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    my_lease_until = serializers.DateTimeField(read_only=True, allow_null=True)
    is_accuracy_blocked = serializers.BooleanField(read_only=True)

    class Meta:
        model = TaskBatch
        fields = [
            "id",
            "gig_id",
            "gig_title",
            "organization",
            "instructions",
            "answer_options",
            "payload_columns",
            "unit_price",
            "currency",
            "time_limit_minutes",
            "min_accuracy",
            "remaining_units",
            "my_gold_answered",
            "my_gold_correct",
            "my_accepted_units",
            "my_earnings",
            "my_lease_until",
            "is_accuracy_blocked",
        ]
        read_only_fields = fields


class TaskUnitSubmitInputSerializer(serializers.Serializer):
    result = serializers.JSONField(help_text="The answer: one of the batch's answer options, or free text or JSON.")

    def validate_result(self, result: Any) -> Any:
        return _storable_json(result)


class WorkerTaskBatchListApi(generics.ListAPIView):
    """Open micro-task batches the calling freelancer qualifies for."""

    scope_area = "marketplace"
    serializer_class = WorkerTaskBatchOutputSerializer
    filterset_class = None
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TaskBatch]:
        if getattr(self, "swagger_fake_view", False):
            return TaskBatch.objects.none()
        return task_batch_list_for_worker(worker=api_user(self.request))


class TaskUnitClaimApi(APIView):
    """Lease the next open unit of the batch to the calling freelancer (or give back the one they hold).
    204 when no unit is left."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses={200: TaskUnitOutputSerializer, 204: None})
    def post(self, request: Request, batch_id: int) -> Response:
        unit = task_unit_claim_next(batch_id=batch_id, worker=api_user(request))
        if unit is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TaskUnitOutputSerializer(unit).data)


class TaskUnitSubmitApi(APIView):
    """Hand in the result of the unit the calling freelancer holds a live lease on."""

    scope_area = "marketplace"

    @extend_schema(request=TaskUnitSubmitInputSerializer, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        serializer = TaskUnitSubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = task_unit_submit(unit_id=unit_id, worker=api_user(request), result=serializer.validated_data["result"])
        return Response(TaskUnitOutputSerializer(unit).data)
