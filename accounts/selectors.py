"""Reads scoped by membership: a user sees the organisations they belong to, and nothing of the others.

Other apps scope their own querysets with `scope_to_member_organizations(queryset, user=...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import Model, Prefetch, Q, QuerySet

from accounts.models import (
    ApiKey,
    Membership,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"

M = TypeVar("M", bound=Model)


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_get(*, organization_id: int, user: User) -> Organization:
    """The organisation if `user` is a member; Organization.DoesNotExist (→ 404) otherwise."""
    return organization_list_for_user(user=user).get(pk=organization_id)


def membership_get(*, organization_id: int, user: User) -> Membership:
    return Membership.objects.select_related("organization").get(organization_id=organization_id, user=user)


def membership_list_for_organization(*, organization_id: int, user: User) -> QuerySet[Membership]:
    """Members of an organisation `user` belongs to (raises Organization.DoesNotExist otherwise)."""
    organization = organization_get(organization_id=organization_id, user=user)
    return Membership.objects.filter(organization=organization).select_related("user").order_by("created_at")


def scope_to_member_organizations[M: Model](
    queryset: QuerySet[M], *, user: User, field_name: str = "organization", roles: set[str] | None = None
) -> QuerySet[M]:
    """Restrict `queryset` to rows whose `field_name` organisation has `user` as a member (optionally in `roles`)."""
    if not user.is_authenticated:
        return queryset.none()
    memberships = Membership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return queryset.filter(**{f"{field_name}__in": memberships.values("organization_id")})


@dataclass(frozen=True)
class UserContext:
    """Who the user is acting as right now: the navigation and the dashboard are built from it."""

    role: str | None  # "client" | "vendor" | "freelancer" | "staff" | None
    organization: Organization | None
    membership: Membership | None
    memberships: list[Membership] = field(default_factory=list)


def user_context(*, user: User, session: Mapping[str, Any] | None = None) -> UserContext:
    """The organisation chosen in the session (or the first one); freelancer or staff when there is none."""
    memberships = list(Membership.objects.filter(user=user).select_related("organization").order_by("created_at"))
    chosen_id = (session or {}).get(ACTIVE_ORGANIZATION_SESSION_KEY)
    membership = next((m for m in memberships if m.organization_id == chosen_id), None)
    if membership is None and memberships:
        membership = memberships[0]
    if membership is not None:
        return UserContext(membership.organization.kind, membership.organization, membership, memberships)
    if user_is_freelancer(user=user):
        return UserContext("freelancer", None, None, memberships)
    if user.is_staff:
        return UserContext("staff", None, None, memberships)
    return UserContext(None, None, None, memberships)


def user_is_freelancer(*, user: User) -> bool:
    from talent.selectors import talent_profile_exists

    return talent_profile_exists(user=user)


def dashboard_context(*, user: User, session: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for the user's current role, in a fixed number of queries."""
    from talent.selectors import talent_profile_for_user

    context = user_context(user=user, session=session)
    members: list[Membership] = []
    profile = None
    if context.organization is not None:
        members = list(membership_list_for_organization(organization_id=context.organization.pk, user=user))
    elif context.role == "freelancer":
        profile = talent_profile_for_user(user=user)
    steps = _next_steps(user=user, context=context, profile=profile)
    return {
        "role": context.role,
        "organization": context.organization,
        "membership": context.membership,
        "members": members,
        "profile": profile,
        "next_steps": steps,
        "steps_done": sum(1 for step in steps if step["done"]),
        "setup_complete": all(step["done"] for step in steps),
    }


def _next_steps(*, user: User, context: UserContext, profile: Any) -> list[dict[str, Any]]:
    """Onboarding steps for the role, each done-state read from the data (one query per step, bounded)."""
    from django.urls import reverse

    from marketplace.models import Bid, Gig

    if context.role == "client" and context.organization is not None:
        gigs = Gig.objects.filter(organization=context.organization)
        return [
            {
                "title": "Post your first gig",
                "description": "Describe the work, the skills and the budget. It stays a draft until you publish.",
                "done": gigs.exists(),
                "url": reverse("marketplace:gig_create"),
                "action": "Post a gig",
            },
            {
                "title": "Publish it and review your matches",
                "description": "We rank freelancers and vendor firms for it and invite the top five.",
                "done": gigs.exclude(status=Gig.Status.DRAFT).exists(),
                "url": reverse("marketplace:gig_list_mine"),
                "action": "Your gigs",
            },
        ]
    if context.role == "vendor" and context.organization is not None:
        return [
            {
                "title": "Bid as a team",
                "description": "Find open gigs and propose your people at your rate-card rates.",
                "done": Bid.objects.filter(vendor=context.organization).exists(),
                "url": reverse("marketplace:gig_search"),
                "action": "Find work",
            }
        ]
    if context.role == "freelancer":
        return [
            {
                "title": "Place your first bid",
                "description": "Clients see your profile, your rate and your match score with every bid.",
                "done": Bid.objects.filter(freelancer=user).exists(),
                "url": reverse("marketplace:gig_search"),
                "action": "Find work",
            }
        ]
    return []


# --- API keys -----------------------------------------------------------------------------------------------------


def api_key_list_for_owner(*, user: User, organization_id: int | None = None) -> QuerySet[ApiKey]:
    """The API keys of `organization_id` if `user` owns or administers it, or, without an organisation, the
    user's own (a freelancer's); newest first, with who created and revoked each. Nothing for anyone else."""
    keys = ApiKey.objects.select_related("created_by", "revoked_by").order_by("-created_at", "-pk")
    if organization_id is not None:
        managed = Membership.objects.filter(
            user=user, organization_id=organization_id, role__in=Membership.MANAGER_ROLES
        ).values("organization_id")
        return keys.filter(organization_id__in=managed)
    return keys.filter(organization__isnull=True, user=user)


def api_key_get_for_manager(*, key_id: int, user: User) -> ApiKey:
    """A key of an organisation `user` owns or administers, or the user's own if they are a freelancer;
    ApiKey.DoesNotExist (→ 404) for any other."""
    managed = Membership.objects.filter(user=user, role__in=Membership.MANAGER_ROLES).values("organization_id")
    mine = Q(organization_id__in=managed)
    if user_is_freelancer(user=user):
        mine |= Q(organization__isnull=True, user=user)
    return ApiKey.objects.filter(mine).get(pk=key_id)


# --- outgoing webhooks --------------------------------------------------------------------------------------------


def _webhook_subscriptions_visible(*, user: User) -> QuerySet[WebhookSubscription]:
    """Subscriptions of the organisations `user` owns or administers, and the user's own (a freelancer's)."""
    if not user.is_authenticated:
        return WebhookSubscription.objects.none()
    managed = Membership.objects.filter(user=user, role__in=Membership.MANAGER_ROLES).values("organization_id")
    return WebhookSubscription.objects.filter(Q(organization_id__in=managed) | Q(organization__isnull=True, user=user))


def webhook_subscription_list_for_user(
    *, user: User, organization_id: int | None = None
) -> QuerySet[WebhookSubscription]:
    """The webhook subscriptions of `organization_id` (empty unless `user` owns or administers it) or, without an
    organisation, the user's own; newest first."""
    visible = _webhook_subscriptions_visible(user=user)
    if organization_id is None:
        return visible.filter(organization__isnull=True).order_by("-id")
    return visible.filter(organization_id=organization_id).order_by("-id")


def webhook_subscription_get(*, subscription_id: int, user: User) -> WebhookSubscription:
    """The subscription if `user` may manage it; WebhookSubscription.DoesNotExist (→ 404) otherwise."""
    return _webhook_subscriptions_visible(user=user).get(pk=subscription_id)


def _deliveries_with_log(queryset: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
    log = Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("id"))
    return queryset.select_related("subscription").prefetch_related(log).order_by("-id")


def webhook_delivery_list_for_subscription(*, subscription_id: int, user: User) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first, each with its attempt log (`attempt_log`, oldest first);
    WebhookSubscription.DoesNotExist (→ 404) if `user` may not manage it."""
    subscription = webhook_subscription_get(subscription_id=subscription_id, user=user)
    return _deliveries_with_log(WebhookDelivery.objects.filter(subscription=subscription))


def webhook_delivery_list_for_user(*, user: User, organization_id: int | None = None) -> QuerySet[WebhookDelivery]:
    """Deliveries of every subscription webhook_subscription_list_for_user returns, newest first, with their log."""
    subscriptions = webhook_subscription_list_for_user(user=user, organization_id=organization_id)
    return _deliveries_with_log(WebhookDelivery.objects.filter(subscription__in=subscriptions.values("pk")))


def webhook_delivery_get(*, delivery_id: int, user: User) -> WebhookDelivery:
    """One delivery with its log if `user` may manage its subscription; WebhookDelivery.DoesNotExist otherwise."""
    visible = _webhook_subscriptions_visible(user=user).values("pk")
    return _deliveries_with_log(WebhookDelivery.objects.filter(subscription__in=visible)).get(pk=delivery_id)
