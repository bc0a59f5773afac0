"""Partner API of the marketplace: the freelancers and vendor firms ranked for a gig."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.types import api_user
from marketplace.models import Match
from marketplace.selectors.bids import invitation_list_for_gig
from marketplace.selectors.matching import match_list_for_client
from marketplace.services.matching import FACTOR_NAMES, match_refresh_request


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
