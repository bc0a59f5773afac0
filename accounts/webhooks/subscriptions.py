"""Webhook subscriptions: creating one (its URL checked, its signing secret shown once), deleting it, and replaying
one of its deliveries; owners and admins manage an organisation's, a freelancer their own.
"""

from __future__ import annotations

import secrets
from functools import partial
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from accounts.models import WEBHOOK_EVENT_TYPES, Membership, Organization, User, WebhookDelivery, WebhookSubscription
from accounts.webhooks.delivery import _enqueue_attempts
from accounts.webhooks.signing import _secret_encrypt
from accounts.webhooks.targets import webhook_target
from core.errors import ApplicationError
from core.services import audit_record

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def _managed_organization(*, by: User, organization_id: int) -> Organization:
    membership = Membership.objects.select_related("organization").filter(organization_id=organization_id, user=by)
    found = membership.first()
    if found is None:
        raise Organization.DoesNotExist
    if not found.can_manage:
        raise ApplicationError(
            f"Only owners and admins of {found.organization.name} can manage its webhooks.",
            code="permission_denied",
            status=403,
        )
    return found.organization


def _may_manage(*, by: User, subscription: WebhookSubscription, staff_permission: str | None = None) -> None:
    """Owners and admins manage their organisation's subscriptions, a freelancer their own; anyone else gets the
    404 of something they cannot see (a plain member: a 403 saying who may)."""
    if staff_permission is not None and by.is_staff and by.has_perm(staff_permission):
        return
    if subscription.organization_id is not None:
        try:
            _managed_organization(by=by, organization_id=subscription.organization_id)
        except Organization.DoesNotExist:
            raise WebhookSubscription.DoesNotExist from None
    elif subscription.user_id != by.pk:
        raise WebhookSubscription.DoesNotExist


def webhook_subscription_create(
    *, by: User, url: str, events: list[str], organization_id: int | None = None
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `events` for an organisation (its owners and admins) or, without one, for the calling
    freelancer. Returns the subscription and its signing secret, which is shown this once."""
    from accounts.selectors import user_is_freelancer

    organization = None
    if organization_id is not None:
        organization = _managed_organization(by=by, organization_id=organization_id)
    elif not user_is_freelancer(user=by):
        raise ApplicationError(
            "Webhooks belong to an organisation, or to a freelancer with a profile: choose the organisation.",
            code="organization_required",
        )
    errors: dict[str, list[str]] = {}
    chosen = sorted(set(events))
    unknown = [event for event in chosen if event not in WEBHOOK_EVENT_TYPES]
    if unknown:
        errors["events"] = [
            f"Unknown event type(s): {', '.join(unknown)}. Choose from {', '.join(WEBHOOK_EVENT_TYPES)}."
        ]
    elif not chosen:
        errors["events"] = ["Choose at least one event to receive."]
    try:
        target = webhook_target(url=url)  # resolves the host: outside any transaction
    except ApplicationError as refused:
        errors |= refused.field_errors
    if errors:
        raise ApplicationError("The webhook could not be created; see the fields.", field_errors=errors)
    secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            organization=organization,
            user=None if organization is not None else by,
            url=url.strip(),
            events=chosen,
            secret_encrypted=_secret_encrypt(secret),
            created_by=by,
        )
        audit_record(
            actor=by,
            action="webhook_subscription.created",
            target=subscription,
            organization=organization,
            data={"host": target.host, "events": chosen},
        )
    return subscription, secret


@transaction.atomic
def webhook_subscription_delete(*, subscription_id: int, by: User) -> None:
    """Delete a subscription with its deliveries and their log; nothing more is sent to it."""
    subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
    if subscription is None:
        raise WebhookSubscription.DoesNotExist
    _may_manage(by=by, subscription=subscription)
    audit_record(
        actor=by,
        action="webhook_subscription.deleted",
        target=subscription,
        organization=subscription.organization,
        data={"host": urlsplit(subscription.url).hostname or ""},
    )
    subscription.delete()


@transaction.atomic
def webhook_delivery_replay(*, delivery_id: int, by: User) -> WebhookDelivery:
    """Send a delivery again now (whatever became of it), as one more attempt in the worker; retries after a
    failure continue only within the day after the event."""
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise WebhookDelivery.DoesNotExist
    try:
        _may_manage(by=by, subscription=delivery.subscription, staff_permission="accounts.change_webhookdelivery")
    except WebhookSubscription.DoesNotExist:
        raise WebhookDelivery.DoesNotExist from None
    if not delivery.subscription.is_active:
        raise ApplicationError("This webhook is switched off; nothing is sent to it.", code="inactive", status=409)
    previous = delivery.status
    delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    audit_record(
        actor=by,
        action="webhook_delivery.replayed",
        target=delivery,
        organization=delivery.subscription.organization,
        from_state=previous,
        to_state=delivery.status,
    )
    transaction.on_commit(partial(_enqueue_attempts, [delivery.pk]))
    return delivery
