"""Partner API of the marketplace: bids on gigs and invitations to bid."""

from __future__ import annotations

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
from core.types import api_user
from marketplace.models import Bid, BidTeamMember, Gig, Invitation
from marketplace.selectors.bids import (
    bid_list_for_bidder,
    bid_list_for_gig,
    invitation_list_for_gig,
    invitation_list_for_invitee,
)
from marketplace.selectors.gigs import gig_get_for_client
from marketplace.selectors.matching import match_list_for_gig
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
