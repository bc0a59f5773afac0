"""Partner API of the marketplace: gigs (the organisation's own, search, detail, publish and cancel)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import api_organization_id
from core.countries import TIMEZONE_CHOICES
from core.types import api_user
from marketplace.models import Gig
from marketplace.selectors.gigs import gig_get, gig_list_for_client, gig_search
from marketplace.services.gigs import GigInput, gig_cancel, gig_create, gig_publish, gig_update


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
