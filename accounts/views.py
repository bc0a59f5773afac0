"""Pages around the partner API: the API settings of an organisation (its owners and admins) or of a freelancer
(their own): API keys and webhook subscriptions; and the public developer documentation.

Sign-up, login, email and password pages are allauth's, styled by our templates. Every write here is one call of
accounts.services / accounts.webhooks; those decide who may, and their refusals become form errors or the error
page (core.middleware). Whose settings a page shows is the `owner` query parameter ("me" or "org:<id>"), one of the
owners the user manages; an organisation the user is no member of is a 404, one they are a plain member of a 403
that says who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts import services, webhooks
from accounts.forms import ApiKeyCreateForm, WebhookSubscriptionCreateForm
from accounts.models import (
    API_SCOPE_AREAS,
    API_SCOPES,
    WEBHOOK_EVENT_TYPES,
    ApiKey,
    Organization,
    WebhookDelivery,
    WebhookSubscription,
)
from accounts.selectors import (
    UserContext,
    api_key_get_for_manager,
    api_key_list_for_owner,
    user_context,
    user_is_freelancer,
    webhook_delivery_list_for_user,
    webhook_subscription_get,
    webhook_subscription_list_for_user,
)
from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest

ME = "me"


# --- whose settings --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiOwner:
    """Whose keys and webhooks a page manages: an organisation, or (organization None) the freelancer's own."""

    key: str  # "me", or "org:<id>"
    label: str
    organization: Organization | None

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization is not None else None

    @property
    def query(self) -> str:
        return urlencode({"owner": self.key})


def _owner_options(request: AuthenticatedHttpRequest, context: UserContext | None = None) -> list[ApiOwner]:
    """The organisations the user owns or administers, then their own freelance account."""
    context = context or user_context(user=request.user, session=request.session)
    options = [
        ApiOwner(f"org:{membership.organization_id}", membership.organization.name, membership.organization)
        for membership in context.memberships
        if membership.can_manage
    ]
    if user_is_freelancer(user=request.user):
        options.append(ApiOwner(ME, "Your freelance account", None))
    return options


def _refusal(organization: Organization | None) -> ApplicationError:
    """Why this user manages no API keys here, and what to do about it (a 403 page)."""
    if organization is not None:
        message = (
            f"Only owners and admins of {organization.name} manage its API keys and webhooks. Ask one of them to "
            "set up your integration."
        )
    else:
        message = (
            "API keys and webhooks belong to an organisation, or to a freelancer with a profile. Create your "
            "freelancer profile, or ask your organisation's owner to invite you."
        )
    return ApplicationError(message, code="permission_denied", status=403)


def _owner_and_options(request: AuthenticatedHttpRequest, requested: str) -> tuple[ApiOwner, list[ApiOwner]]:
    """The owner asked for (or the current organisation, or the first the user manages) and all the options;
    404 for an organisation the user is no member of, 403 with who may for one they are a plain member of."""
    context = user_context(user=request.user, session=request.session)
    options = _owner_options(request, context)
    if requested:
        chosen = next((option for option in options if option.key == requested), None)
        if chosen is not None:
            return chosen, options
        membership = next((m for m in context.memberships if f"org:{m.organization_id}" == requested), None)
        if membership is None:
            raise Organization.DoesNotExist  # not theirs: the same 404 as an organisation that does not exist
        raise _refusal(membership.organization)
    if not options:
        raise _refusal(context.memberships[0].organization if context.memberships else None)
    current = context.organization
    chosen = next((option for option in options if current is not None and option.organization == current), None)
    return chosen or options[0], options


def _owner_of(request: AuthenticatedHttpRequest, organization_id: int | None) -> ApiOwner | None:
    """The option for a row's organisation (None: the freelancer's own) among those the user manages."""
    return next((option for option in _owner_options(request) if option.organization_id == organization_id), None)


def _settings_url(owner: ApiOwner, name: str = "accounts:api_settings") -> str:
    return f"{reverse(name)}?{owner.query}"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _confirm(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    action_url: str,
    cancel_url: str,
    label: str,
    owner: ApiOwner | None = None,
) -> HttpResponse:
    """The no-JavaScript confirmation step of a destructive action (with htmx, hx-confirm asks instead)."""
    context = {
        "title": title,
        "message": message,
        "action_url": action_url,
        "cancel_url": cancel_url,
        "label": label,
        "owner": owner,
    }
    return render(request, "accounts/confirm.html", context)


# --- API keys --------------------------------------------------------------------------------------------------------
def _keys_context(request: AuthenticatedHttpRequest, owner: ApiOwner, **extra: Any) -> dict[str, Any]:
    # The owner is one the user manages: _owner_and_options checked it.
    keys = api_key_list_for_owner(user=request.user, organization_id=owner.organization_id)
    return {"owner": owner, "keys": list(keys), "now": timezone.now(), **extra}


@login_required
@require_GET
def api_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    owner, options = _owner_and_options(request, request.GET.get("owner", ""))
    return render(request, "accounts/api_settings.html", {**_keys_context(request, owner), "owners": options})


@never_cache  # the response to a successful POST holds the full key: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def api_key_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    owner, _ = _owner_and_options(request, request.POST.get("owner") or request.GET.get("owner", ""))
    status = 200
    if request.method == "POST":
        form = ApiKeyCreateForm(request.POST, timezone_name=request.user.timezone)
        status = 400
        if form.is_valid():
            try:
                key, raw_key = services.api_key_create(
                    by=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    organization_id=owner.organization_id,
                    expires_at=form.expires_at_datetime(),
                )
            except ApplicationError as error:
                form_add_application_error(form, error)
                status = error.status
            else:
                # Shown this once, in the answer to the POST itself: the key is never stored, nor put in a session.
                return render(
                    request, "accounts/api_key_created.html", {"owner": owner, "key": key, "raw_key": raw_key}
                )
    else:
        form = ApiKeyCreateForm(timezone_name=request.user.timezone)
    return render(request, "accounts/api_key_form.html", {"owner": owner, "form": form}, status=status)


def _managed_key(request: AuthenticatedHttpRequest, key_id: int) -> tuple[ApiKey, ApiOwner]:
    """A key of one of the owners the user manages, with that owner; ApiKey.DoesNotExist (→ 404) for any other."""
    key = api_key_get_for_manager(key_id=key_id, user=request.user)
    owner = next(option for option in _owner_options(request) if option.organization_id == key.organization_id)
    return key, owner


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: AuthenticatedHttpRequest, key_id: int) -> HttpResponse:
    if request.method == "GET":
        key, key_owner = _managed_key(request, key_id)
        return _confirm(
            request,
            title=f"Revoke the API key “{key.name}”?",
            message=(
                f"Systems using {key.display_prefix}… get 401 Unauthorized from their next request on. "
                "A revoked key can't be restored; create a new one if you need access again."
            ),
            action_url=reverse("accounts:api_key_revoke", args=[key.pk]),
            cancel_url=_settings_url(key_owner),
            label="Revoke key",
        )
    # The service decides: another organisation's key is a 404, a plain member's attempt a 403 with who may.
    key = services.api_key_revoke(key_id=key_id, by=request.user)
    owner = _owner_of(request, key.organization_id)
    notice = f"The API key “{key.name}” ({key.display_prefix}…) is revoked; requests with it now get 401."
    if owner is None:  # ops staff revoking from outside: nothing of theirs to show
        messages.success(request, notice)
        return redirect("core:dashboard")
    if _is_htmx(request):
        return render(request, "accounts/api_settings.html#keys", _keys_context(request, owner, notice=notice))
    messages.success(request, notice)
    return redirect(_settings_url(owner))


# --- webhooks --------------------------------------------------------------------------------------------------------
RECENT_DELIVERIES = 10  # per subscription, on the settings page


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: WebhookSubscription
    deliveries: list[WebhookDelivery]


def _webhooks_context(request: AuthenticatedHttpRequest, owner: ApiOwner, **extra: Any) -> dict[str, Any]:
    """The owner's subscriptions, each with its latest deliveries and their attempt log, in a fixed number of
    queries however many there are."""
    subscriptions = list(
        webhook_subscription_list_for_user(user=request.user, organization_id=owner.organization_id).select_related(
            "created_by"
        )
    )
    recent = webhook_delivery_list_for_user(user=request.user, organization_id=owner.organization_id).annotate(
        recency=Window(RowNumber(), partition_by=[F("subscription_id")], order_by=F("id").desc())
    )
    by_subscription: dict[int, list[WebhookDelivery]] = {}
    for delivery in recent.filter(recency__lte=RECENT_DELIVERIES):
        by_subscription.setdefault(delivery.subscription_id, []).append(delivery)
    rows = [SubscriptionRow(subscription, by_subscription.get(subscription.pk, [])) for subscription in subscriptions]
    return {"owner": owner, "subscriptions": rows, "event_types": WEBHOOK_EVENT_TYPES, **extra}


def _webhooks_response(request: AuthenticatedHttpRequest, owner: ApiOwner | None, notice: str) -> HttpResponse:
    """After a delete or a replay: htmx gets the list back with the notice; a page load goes back to the list."""
    if owner is None:  # ops staff acting from outside: nothing of theirs to show
        messages.success(request, notice)
        return redirect("core:dashboard")
    if _is_htmx(request):
        return render(
            request, "accounts/webhook_settings.html#subscriptions", _webhooks_context(request, owner, notice=notice)
        )
    messages.success(request, notice)
    return redirect(_settings_url(owner, "accounts:webhook_settings"))


@login_required
@require_GET
def webhook_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    owner, options = _owner_and_options(request, request.GET.get("owner", ""))
    return render(request, "accounts/webhook_settings.html", {**_webhooks_context(request, owner), "owners": options})


@never_cache  # the response to a successful POST holds the signing secret: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    owner, _ = _owner_and_options(request, request.POST.get("owner") or request.GET.get("owner", ""))
    status = 200
    if request.method == "POST":
        form = WebhookSubscriptionCreateForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                subscription, secret = webhooks.webhook_subscription_create(
                    by=request.user,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    organization_id=owner.organization_id,
                )
            except ApplicationError as error:
                form_add_application_error(form, error)
                status = error.status
            else:
                context = {"owner": owner, "subscription": subscription, "secret": secret}
                return render(request, "accounts/webhook_created.html", context)
    else:
        form = WebhookSubscriptionCreateForm()
    return render(request, "accounts/webhook_form.html", {"owner": owner, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: AuthenticatedHttpRequest, subscription_id: int) -> HttpResponse:
    if request.method == "GET":
        subscription = webhook_subscription_get(subscription_id=subscription_id, user=request.user)
        owner = _owner_of(request, subscription.organization_id)
        return _confirm(
            request,
            title=f"Delete the webhook to {subscription.url}?",
            message=(
                "Nothing more is sent to this endpoint, and its delivery log is deleted with it. "
                "To receive events again, add the endpoint anew (it gets a new signing secret)."
            ),
            action_url=reverse("accounts:webhook_delete", args=[subscription.pk]),
            cancel_url=_settings_url(owner, "accounts:webhook_settings") if owner else reverse("core:dashboard"),
            label="Delete webhook",
            owner=owner,
        )
    # The service decides: another organisation's subscription is a 404, a plain member's attempt a 403.
    webhooks.webhook_subscription_delete(subscription_id=subscription_id, by=request.user)
    owner, _ = _owner_and_options(request, request.POST.get("owner", ""))  # the list the request came from
    return _webhooks_response(request, owner, "The webhook is deleted; nothing more is sent to its endpoint.")


@login_required
@require_http_methods(["POST"])
def webhook_delivery_replay(request: AuthenticatedHttpRequest, delivery_id: int) -> HttpResponse:
    delivery = webhooks.webhook_delivery_replay(delivery_id=delivery_id, by=request.user)
    notice = f"The {delivery.event_type} delivery #{delivery.pk} is queued to be sent again now."
    return _webhooks_response(request, _owner_of(request, delivery.subscription.organization_id), notice)


# --- developer documentation -----------------------------------------------------------------------------------------
@require_safe
def developers(request: HttpRequest) -> HttpResponse:
    """How partners use the API: public, so a partner's developer reads it before anyone gives them a key."""
    scopes = dict(API_SCOPES)
    scope_rows = [
        {
            "area": area,
            "description": description,
            "read": f"{area}:read",
            "write": f"{area}:write" if f"{area}:write" in scopes else None,
        }
        for area, description in API_SCOPE_AREAS.items()
    ]
    return render(
        request,
        "accounts/developers.html",
        {
            "api_base": request.build_absolute_uri("/api/v1/"),
            "scope_rows": scope_rows,
            "rate_limit": settings.API_RATE_LIMIT,
            "webhook_events": WEBHOOK_EVENT_TYPES,
        },
    )
