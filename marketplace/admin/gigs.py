"""Admin for gigs, bids, invitations, matches and reviews: ops read and filter; changes go through services."""

from django.contrib import admin
from django.http import HttpRequest

from marketplace.models import Bid, BidTeamMember, Gig, GigSkill, Invitation, Match, Review


class ReadOnlyMixin:
    """Lifecycle changes happen through services (with audit events), not by editing rows in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class GigSkillInline(ReadOnlyMixin, admin.TabularInline):
    model = GigSkill
    extra = 0


@admin.register(Gig)
class GigAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("title", "organization", "kind", "status", "visibility", "currency", "published_at", "created_at")
    list_filter = ("status", "kind", "visibility", "handles_personal_data", "is_healthcare", "is_finance", "currency")
    search_fields = ("title", "description", "organization__name")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    exclude = ("search_vector",)
    inlines = (GigSkillInline,)


class BidTeamMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = BidTeamMember
    extra = 0


@admin.register(Bid)
class BidAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "gig",
        "freelancer",
        "vendor",
        "status",
        "amount",
        "hourly_rate",
        "currency",
        "is_outside_guardrail",
        "created_at",
    )
    list_filter = ("status", "is_outside_guardrail", "currency")
    search_fields = ("gig__title", "freelancer__email", "freelancer__full_name", "vendor__name")
    list_select_related = ("gig", "freelancer", "vendor")
    inlines = (BidTeamMemberInline,)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("gig", "freelancer", "vendor", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("gig__title", "freelancer__email", "vendor__name")
    list_select_related = ("gig", "freelancer", "vendor")


@admin.register(Match)
class MatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("gig", "rank", "freelancer", "vendor", "score", "invited_at", "computed_at")
    list_filter = (("invited_at", admin.EmptyFieldListFilter),)
    search_fields = ("gig__title", "freelancer__email", "vendor__name")
    list_select_related = ("gig", "freelancer", "vendor")


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("contract", "side", "author", "rating", "revealed_at", "created_at")
    list_filter = ("side", "rating", ("revealed_at", admin.EmptyFieldListFilter))
    search_fields = ("author__email", "comment")
    list_select_related = ("contract", "author")
