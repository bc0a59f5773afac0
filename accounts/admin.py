"""Ops admin for accounts: users, organisations, memberships, and partner API keys.

API keys are never edited: ops create one for an organisation through the service (the full key is shown once,
on the page that answers the form), and revoke selected ones through the service. The stored hash is never shown.
Both need `accounts.add_apikey`, the permission the service checks for staff."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.forms import ApiKeyCreateForm
from accounts.models import ApiKey, Membership, Organization, User
from accounts.services import api_key_create, api_key_revoke
from core.errors import ApplicationError
from core.forms import form_add_application_error


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "country", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "country")
    search_fields = ("email", "full_name")
    readonly_fields = ("date_joined", "last_login", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "country", "timezone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    inlines = (MembershipInline,)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "created_at")
    list_filter = ("kind", "country")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization__kind")
    search_fields = ("user__email", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")


# --- partner API keys ----------------------------------------------------------------------------------------------
class ApiKeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now, revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ApiKeyAdminCreateForm(ApiKeyCreateForm):
    """Ops create an organisation's key (a freelancer creates their own on the settings page)."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(),
        widget=AutocompleteSelect(ApiKey._meta.get_field("organization"), admin.site),
        help_text="The key acts as a service account of this organisation, and sees nothing else.",
    )
    field_order = ["organization", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "acts_as",
        "prefix_display",
        "scopes_display",
        "last_used_at",
        "expires_at",
        "status_display",
        "created_at",
    )
    list_filter = (ApiKeyStatusFilter, "organization__kind", "created_at", "last_used_at")
    search_fields = ("name", "prefix", "organization__name", "user__email", "created_by__email")
    list_select_related = ("organization", "user")
    ordering = ("-created_at",)
    actions = ("revoke_selected_keys",)
    # Everything is read-only, and the hash is never shown.
    fields = (
        "name",
        "organization",
        "user",
        "prefix_display",
        "scopes",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # revoke instead: the audit trail and the service account stay

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.add_apikey")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.add_apikey")  # what api_key_revoke asks of staff

    @admin.display(description="Acts as", ordering="user__email")
    def acts_as(self, key: ApiKey) -> str:
        return "Service account" if key.organization_id else str(key.user)

    @admin.display(description="Prefix", ordering="prefix")
    def prefix_display(self, key: ApiKey) -> str:
        return format_html("<code>{}…</code>", key.display_prefix)

    @admin.display(description="Scopes")
    def scopes_display(self, key: ApiKey) -> str:
        return format_html_join(", ", "<code>{}</code>", ((scope,) for scope in key.scopes))

    @admin.display(description="Status")
    def status_display(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "Revoked"
        return "Active" if key.is_usable(now=timezone.now()) else "Expired"

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        by: User = request.user  # type: ignore[assignment]
        form = ApiKeyAdminCreateForm(request.POST or None, timezone_name=by.timezone)
        if request.method == "POST" and form.is_valid():
            try:
                key, raw_key = api_key_create(
                    by=by,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    organization_id=form.cleaned_data["organization"].pk,
                    expires_at=form.expires_at_datetime(),
                )
            except ApplicationError as error:
                form_add_application_error(form, error)
            else:
                self.message_user(
                    request,
                    f"Created the API key “{key.name}” for {key.organization}. Copy it now: it won’t be shown again.",
                    messages.SUCCESS,
                )
                response = self._page(
                    request, "accounts/admin/api_key_created.html", "API key created", key=key, raw_key=raw_key
                )
                response["Cache-Control"] = "no-store"
                return response
        return self._page(request, "accounts/admin/api_key_add.html", "Create an API key", form=form)

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke_selected_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> HttpResponse | None:
        selected = list(queryset.select_related("organization", "user").order_by("pk"))
        active = [key for key in selected if key.revoked_at is None]
        if "apply" not in request.POST:
            if not active:
                self.message_user(request, "The selected keys are already revoked.", messages.WARNING)
                return None
            return self._page(
                request,
                "accounts/admin/api_key_revoke.html",
                "Revoke API keys",
                keys=active,
                already=[key for key in selected if key.revoked_at is not None],
                action="revoke_selected_keys",
            )
        revoked = 0
        for key in active:
            try:
                api_key_revoke(key_id=key.pk, by=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{key}: {error.message}", messages.ERROR)
            else:
                revoked += 1
        if revoked:
            self.message_user(
                request, f"Revoked {revoked} API key(s); requests with them now get 401.", messages.SUCCESS
            )
        return None

    def _page(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context},
        )


from accounts import admin_webhooks  # noqa: E402, F401  # registers the webhook admin
