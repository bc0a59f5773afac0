"""Partner API of talent: freelancer profiles and vendor firms (search and detail), and a client's talent pools.

Views translate: they read the request into a selector's or service's input, make that one call, and write the
result out. Profiles and firms show only what their public pages show (never an email, tax data or a private
setting); who may see which profile is decided by talent.selectors.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from core.api import api_organization_id
from core.countries import COUNTRY_CHOICES
from core.money import CURRENCY_CHOICES
from core.types import api_user
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    RateCardEntry,
    Skill,
    TalentPool,
    TalentPoolMember,
    TalentProfile,
    VendorCapability,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)
from talent.selectors import (
    talent_pool_get,
    talent_pool_list_for_user,
    talent_pool_members,
    talent_profile_get_for_viewer,
    talent_profile_search,
    vendor_organization_get,
    vendor_profile_details,
    vendor_search,
)
from talent.services import talent_pool_create, talent_pool_member_add, talent_pool_member_remove

COUNTRY_HELP = "ISO 3166-1 alpha-2 code, or empty when not given."
MAX_ID = 2**63 - 1  # ids are 64-bit; a larger number is a 400, not a database error


def _query_params(request: Request, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The query string as a serializer's data; the names in `lists` may repeat (`?skill=1&skill=2`)."""
    return {**request.query_params.dict(), **{name: request.query_params.getlist(name) for name in lists}}


# --- freelancer profiles ------------------------------------------------------------------------------------------


class TalentProfileSkillSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="skill.name", read_only=True)

    class Meta:
        model = ProfileSkill
        fields = ["skill_id", "name", "level", "years"]
        read_only_fields = fields


class TalentPortfolioItemSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="A link to the work, or empty.")

    class Meta:
        model = PortfolioItem
        fields = ["id", "title", "description", "url"]
        read_only_fields = fields


class TalentProfileSerializer(serializers.ModelSerializer):
    """A freelancer's public profile. `freelancer_id` is the id talent pools, invitations and bids use."""

    freelancer_id = serializers.IntegerField(source="user_id", read_only=True)
    country = serializers.CharField(read_only=True, help_text=COUNTRY_HELP)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    member_since = serializers.DateTimeField(source="user.date_joined", read_only=True)
    rating = serializers.DecimalField(
        max_digits=3, decimal_places=2, read_only=True, allow_null=True, help_text="Average of 1–5; null before any."
    )
    on_time_rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True, help_text="Per cent of completed contracts."
    )
    skills = TalentProfileSkillSerializer(source="profile_skills", many=True, read_only=True)

    class Meta:
        model = TalentProfile
        fields = [
            "freelancer_id",
            "full_name",
            "headline",
            "bio",
            "hourly_rate",
            "currency",
            "weekly_hours",
            "country",
            "timezone",
            "languages",
            "skills",
            "rating",
            "rating_count",
            "completed_contracts",
            "on_time_rate",
            "member_since",
        ]
        read_only_fields = fields


class TalentProfileDetailSerializer(TalentProfileSerializer):
    portfolio = TalentPortfolioItemSerializer(source="portfolio_items", many=True, read_only=True)

    class Meta(TalentProfileSerializer.Meta):
        fields = [*TalentProfileSerializer.Meta.fields, "portfolio"]
        read_only_fields = fields


class TalentSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Words of the headline or bio, or a name.",
    )
    skill = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=15,
        help_text="Skill ids; a profile must have every one.",
    )
    country = serializers.ChoiceField(choices=COUNTRY_CHOICES, required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    min_rate = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    max_rate = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)


class TalentSearchApi(generics.ListAPIView):
    """Freelancers' profiles the caller may see, newest first, filtered by text, skills, country and rate."""

    scope_area = "talent"
    queryset = TalentProfile.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = TalentProfileSerializer
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TalentProfile]:
        params = TalentSearchQuerySerializer(data=_query_params(self.request, lists=("skill",)))
        params.is_valid(raise_exception=True)
        found = params.validated_data
        return talent_profile_search(
            viewer=api_user(self.request),
            query=found["q"],
            skill_ids=found.get("skill"),
            country=found.get("country"),
            currency=found.get("currency"),
            min_rate=found.get("min_rate"),
            max_rate=found.get("max_rate"),
        )

    @extend_schema(parameters=[TalentSearchQuerySerializer], responses=TalentProfileSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class TalentDetailApi(APIView):
    """One freelancer's public profile with their portfolio, if the caller may see it (404 otherwise)."""

    scope_area = "talent"

    @extend_schema(responses=TalentProfileDetailSerializer)
    def get(self, request: Request, freelancer_id: int) -> Response:
        profile = talent_profile_get_for_viewer(user_id=freelancer_id, viewer=api_user(request))
        return Response(TalentProfileDetailSerializer(profile).data)


# --- vendor firms -------------------------------------------------------------------------------------------------


class VendorCapabilitySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="skill.name", read_only=True)

    class Meta:
        model = VendorCapability
        fields = ["skill_id", "name", "level"]
        read_only_fields = fields


class VendorCertificationSerializer(serializers.ModelSerializer):
    expiry_status = serializers.ChoiceField(
        choices=["valid", "expiring", "expired", "no_expiry"], read_only=True, help_text="As of today."
    )

    class Meta:
        model = VendorCertification
        fields = ["name", "issuer", "issued_date", "expires_date", "expiry_status"]
        read_only_fields = fields


class VendorRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = RateCardEntry
        fields = ["id", "role", "seniority", "rate", "currency", "unit"]
        read_only_fields = fields


class VendorTeamMemberSerializer(serializers.ModelSerializer):
    rate_card_entry_id = serializers.IntegerField(read_only=True, allow_null=True)
    skills = serializers.SlugRelatedField[Skill](slug_field="name", many=True, read_only=True)

    class Meta:
        model = VendorTeamMember
        fields = ["id", "full_name", "title", "rate_card_entry_id", "skills"]
        read_only_fields = fields


class VendorProfileSerializer(serializers.ModelSerializer):
    capabilities = VendorCapabilitySerializer(source="vendor_capabilities", many=True, read_only=True)

    class Meta:
        model = VendorProfile
        fields = [
            "headline",
            "description",
            "service_lines",
            "headcount",
            "countries_served",
            "timezone",
            "capabilities",
        ]
        read_only_fields = fields


class VendorProfileDetailSerializer(VendorProfileSerializer):
    certifications = VendorCertificationSerializer(many=True, read_only=True)
    rate_card = VendorRateSerializer(many=True, read_only=True)
    team = VendorTeamMemberSerializer(source="team_members", many=True, read_only=True)

    class Meta(VendorProfileSerializer.Meta):
        fields = [*VendorProfileSerializer.Meta.fields, "certifications", "rate_card", "team"]
        read_only_fields = fields


class VendorSerializer(serializers.ModelSerializer):
    """A vendor firm; `profile` is null until the firm fills in its profile."""

    country = serializers.CharField(read_only=True, help_text="Where the firm is based: " + COUNTRY_HELP)
    website = serializers.CharField(read_only=True, help_text="The firm's web address, or empty.")
    profile = VendorProfileSerializer(source="vendor_profile", read_only=True, allow_null=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "country", "website", "profile"]
        read_only_fields = fields


class VendorDetailSerializer(VendorSerializer):
    profile = VendorProfileDetailSerializer(source="vendor_profile", read_only=True, allow_null=True)

    class Meta(VendorSerializer.Meta):
        pass


class VendorSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Part of the name or the profile."
    )
    skill = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=15,
        help_text="Skill ids; a firm must have every one as a capability.",
    )
    country = serializers.ChoiceField(choices=COUNTRY_CHOICES, required=False, help_text="Where the firm is based.")
    serves_country = serializers.ChoiceField(
        choices=COUNTRY_CHOICES, required=False, help_text="A country the firm serves."
    )


class VendorSearchApi(generics.ListAPIView):
    """Vendor firms, newest first, filtered by text, capabilities and countries."""

    scope_area = "talent"
    queryset = Organization.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = VendorSerializer
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Organization]:
        params = VendorSearchQuerySerializer(data=_query_params(self.request, lists=("skill",)))
        params.is_valid(raise_exception=True)
        found = params.validated_data
        return vendor_search(
            user=api_user(self.request),
            query=found["q"],
            skill_ids=found.get("skill"),
            country=found.get("country"),
            serves_country=found.get("serves_country"),
        )

    @extend_schema(parameters=[VendorSearchQuerySerializer], responses=VendorSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class VendorDetailApi(APIView):
    """One vendor firm with its capabilities, certifications, rate card and active team."""

    scope_area = "talent"

    @extend_schema(responses=VendorDetailSerializer)
    def get(self, request: Request, vendor_id: int) -> Response:
        organization = vendor_organization_get(organization_id=vendor_id, user=api_user(request))
        profile = getattr(organization, "vendor_profile", None)  # None until the firm fills in its profile
        if profile is not None:
            vendor_profile_details(vendor=profile, active_team_only=True)
        return Response(VendorDetailSerializer(organization).data)


# --- talent pools -------------------------------------------------------------------------------------------------


class TalentPoolSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True)
    freelancer_count = serializers.IntegerField(read_only=True)
    vendor_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = TalentPool
        fields = ["id", "name", "description", "organization_id", "freelancer_count", "vendor_count", "created_at"]
        read_only_fields = fields


class TalentPoolInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TalentPoolMemberSerializer(serializers.ModelSerializer):
    """A freelancer (`freelancer_id`) or a vendor firm (`vendor_id`) in the pool; the other id is null."""

    kind = serializers.SerializerMethodField(help_text="freelancer or vendor")
    name = serializers.SerializerMethodField()
    freelancer_id = serializers.IntegerField(read_only=True, allow_null=True)
    vendor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = TalentPoolMember
        fields = ["id", "kind", "freelancer_id", "vendor_id", "name", "notes", "created_at"]
        read_only_fields = fields

    def get_kind(self, member: TalentPoolMember) -> str:
        return "freelancer" if member.freelancer_id is not None else "vendor"

    def get_name(self, member: TalentPoolMember) -> str:
        return str(member)


class TalentPoolMemberInputSerializer(serializers.Serializer):
    """Exactly one of `freelancer_id` (a freelancer's id, as in /talent/) and `vendor_id` (a firm's id)."""

    freelancer_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None
    )
    vendor_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class TalentPoolListCreateApi(generics.ListAPIView):
    """The pools of the caller's client organisation, with member counts; POST creates one."""

    scope_area = "talent"
    queryset = TalentPool.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = TalentPoolSerializer
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TalentPool]:
        return talent_pool_list_for_user(user=api_user(self.request))

    @extend_schema(request=TalentPoolInputSerializer, responses={201: TalentPoolSerializer})
    def post(self, request: Request) -> Response:
        serializer = TalentPoolInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pool = talent_pool_create(
            organization_id=api_organization_id(request), by=api_user(request), **serializer.validated_data
        )
        fresh = talent_pool_get(pool_id=pool.pk, user=api_user(request))  # with its member counts
        return Response(TalentPoolSerializer(fresh).data, status=status.HTTP_201_CREATED)


class TalentPoolDetailApi(APIView):
    scope_area = "talent"

    @extend_schema(responses=TalentPoolSerializer)
    def get(self, request: Request, pool_id: int) -> Response:
        return Response(TalentPoolSerializer(talent_pool_get(pool_id=pool_id, user=api_user(request))).data)


class TalentPoolMemberListCreateApi(generics.ListAPIView):
    """The pool's members, newest first; POST adds a freelancer or a vendor firm."""

    scope_area = "talent"
    queryset = TalentPoolMember.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = TalentPoolMemberSerializer
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TalentPoolMember]:
        user = api_user(self.request)
        pool = talent_pool_get(pool_id=self.kwargs["pool_id"], user=user)  # 404 for a pool the caller can't see
        return talent_pool_members(pool_id=pool.pk, user=user)

    @extend_schema(request=TalentPoolMemberInputSerializer, responses={201: TalentPoolMemberSerializer})
    def post(self, request: Request, pool_id: int) -> Response:
        serializer = TalentPoolMemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = talent_pool_member_add(pool_id=pool_id, by=api_user(request), **serializer.validated_data)
        return Response(TalentPoolMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class TalentPoolMemberDeleteApi(APIView):
    scope_area = "talent"

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pool_id: int, member_id: int) -> Response:
        talent_pool_member_remove(pool_id=pool_id, member_id=member_id, by=api_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
