"""Ops views of talent data. Derived fields (skill_ids, review and contract stats) are read-only here: the
services keep them right, and saving a profile's skills inline re-syncs `skill_ids` through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from talent.models import (
    EXPIRING_SOON_DAYS,
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
from talent.services import talent_profile_skill_ids_sync


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "slug", "profile_count")
    list_filter = ("category",)
    search_fields = ("name", "slug", "synonyms")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return super().get_queryset(request).annotate(profile_total=Count("profile_skills", distinct=True))

    @admin.display(description="Freelancers", ordering="profile_total")
    def profile_count(self, skill: Any) -> int:
        return skill.profile_total


class ProfileSkillInline(admin.TabularInline):
    model = ProfileSkill
    extra = 0
    autocomplete_fields = ("skill",)


class PortfolioItemInline(admin.StackedInline):
    model = PortfolioItem
    extra = 0
    fields = ("title", "url", "description")


class HasHourlyRateFilter(admin.SimpleListFilter):
    title = "hourly rate"
    parameter_name = "has_rate"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Set"), ("no", "Not set")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(hourly_rate__isnull=False)
        if self.value() == "no":
            return queryset.filter(hourly_rate__isnull=True)
        return queryset


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "headline",
        "country",
        "hourly_rate",
        "currency",
        "weekly_hours",
        "visibility",
        "created_at",
    )
    list_filter = ("visibility", HasHourlyRateFilter, "currency", "country")
    search_fields = ("user__email", "user__full_name", "headline")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    date_hierarchy = "created_at"
    inlines = (ProfileSkillInline, PortfolioItemInline)
    readonly_fields = (
        "skill_ids",
        "rating_sum",
        "rating_count",
        "completed_contracts",
        "on_time_contracts",
        "active_contracts",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("user", "headline", "bio", "visibility")}),
        ("Terms", {"fields": ("hourly_rate", "currency", "weekly_hours", "country", "timezone", "languages")}),
        (
            "Derived (kept by the services)",
            {
                "classes": ("collapse",),
                "fields": (
                    "skill_ids",
                    "rating_sum",
                    "rating_count",
                    "completed_contracts",
                    "on_time_contracts",
                    "active_contracts",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The inline may have changed the skills; matching reads the array, so bring it back in step.
        talent_profile_skill_ids_sync(profile_id=form.instance.pk)


@admin.register(PortfolioItem)
class PortfolioItemAdmin(admin.ModelAdmin):
    list_display = ("title", "profile", "url", "created_at")
    search_fields = ("title", "description", "url", "profile__user__email", "profile__user__full_name")
    list_select_related = ("profile__user",)
    autocomplete_fields = ("profile",)
    date_hierarchy = "created_at"


class VendorCapabilityInline(admin.TabularInline):
    model = VendorCapability
    extra = 0
    autocomplete_fields = ("skill",)


class VendorCertificationInline(admin.TabularInline):
    model = VendorCertification
    extra = 0
    fields = ("name", "issuer", "issued_date", "expires_date")


class RateCardEntryInline(admin.TabularInline):
    model = RateCardEntry
    extra = 0
    fields = ("role", "seniority", "rate", "currency", "unit")


class VendorTeamMemberInline(admin.TabularInline):
    model = VendorTeamMember
    extra = 0
    fields = ("full_name", "title", "rate_card_entry", "is_active")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "rate_card_entry":
            # Only the lines of the vendor being edited.
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = RateCardEntry.objects.filter(vendor_id=object_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(VendorProfile)
class VendorProfileAdmin(admin.ModelAdmin):
    list_display = ("organization", "headline", "headcount", "timezone", "updated_at")
    list_filter = ("organization__country", "vendor_capabilities__skill__category")
    search_fields = ("organization__name", "headline", "description", "service_lines")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    inlines = (VendorCapabilityInline, VendorCertificationInline, RateCardEntryInline, VendorTeamMemberInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[VendorProfile]:
        return super().get_queryset(request).distinct()


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("expired", "Expired"),
            ("soon", f"Expires within {EXPIRING_SOON_DAYS} days"),
            ("valid", "Valid"),
            ("none", "No expiry"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = timezone.localdate()
        soon = today + timedelta(days=EXPIRING_SOON_DAYS)
        match self.value():
            case "expired":
                return queryset.filter(expires_date__lt=today)
            case "soon":
                return queryset.filter(expires_date__gte=today, expires_date__lte=soon)
            case "valid":
                return queryset.filter(expires_date__gt=soon)
            case "none":
                return queryset.filter(expires_date__isnull=True)
        return queryset


@admin.register(VendorCertification)
class VendorCertificationAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "issuer", "issued_date", "expires_date")
    list_filter = (ExpiryFilter, "name")
    search_fields = ("name", "issuer", "vendor__organization__name")
    list_select_related = ("vendor__organization",)
    autocomplete_fields = ("vendor",)


@admin.register(RateCardEntry)
class RateCardEntryAdmin(admin.ModelAdmin):
    list_display = ("role", "seniority", "rate", "currency", "unit", "vendor")
    list_filter = ("seniority", "unit", "currency")
    search_fields = ("role", "vendor__organization__name")
    list_select_related = ("vendor__organization",)
    autocomplete_fields = ("vendor",)


@admin.register(VendorTeamMember)
class VendorTeamMemberAdmin(admin.ModelAdmin):
    list_display = ("full_name", "title", "vendor", "rate_card_entry", "is_active")
    list_filter = ("is_active", "rate_card_entry__seniority")
    search_fields = ("full_name", "title", "vendor__organization__name")
    list_select_related = ("vendor__organization", "rate_card_entry")
    autocomplete_fields = ("vendor", "skills")


class TalentPoolMemberInline(admin.TabularInline):
    model = TalentPoolMember
    extra = 0
    fields = ("freelancer", "vendor", "notes", "added_by", "created_at")
    readonly_fields = ("added_by", "created_at")
    autocomplete_fields = ("freelancer", "vendor")


@admin.register(TalentPool)
class TalentPoolAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "member_count", "created_at")
    list_filter = ("organization__country",)
    search_fields = ("name", "description", "organization__name")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)
    date_hierarchy = "created_at"
    inlines = (TalentPoolMemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TalentPool]:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, pool: Any) -> int:
        return pool.member_total


@admin.register(TalentPoolMember)
class TalentPoolMemberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "pool", "kind", "added_by", "created_at")
    list_filter = (("vendor", admin.EmptyFieldListFilter), ("freelancer", admin.EmptyFieldListFilter))
    search_fields = ("pool__name", "freelancer__email", "freelancer__full_name", "vendor__name", "notes")
    list_select_related = ("pool", "freelancer", "vendor", "added_by")
    autocomplete_fields = ("pool", "freelancer", "vendor")
    readonly_fields = ("added_by",)

    @admin.display(description="Kind")
    def kind(self, member: TalentPoolMember) -> str:
        return "Vendor firm" if member.vendor_id else "Freelancer"
