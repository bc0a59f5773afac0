"""Outgoing webhooks: partner endpoints receive signed POSTs when something happens to their work.

Events come from the audit trail, so no service knows about webhooks: every state change records an audit event,
audit_seal gives committed events a gapless `sequence` in commit order, and `webhooks_dispatch` (queued after each
sealing, and every minute from beat) reads the events after its cursor, turns the ones partners care about into a
webhook event for each organisation or freelancer involved, and creates one delivery per matching subscription.

Each delivery is POSTed by `webhook_delivery_attempt` with

    Tandem-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    Tandem-Event: <type>
    Tandem-Delivery: <delivery id>

A 2xx answer delivers it; anything else (or no answer within 10 s) schedules the next attempt 1, 2, 4, … minutes
later (at most an hour apart) until a day after the event, then it has failed. Receivers check the signature with
`webhook_signature_verify` (the partner documentation shows the same function).

URLs must be https and resolve only to public internet addresses, checked when subscribing and again before each
POST, which then connects to the address it checked (so DNS cannot be switched to an internal host in between).
settings.WEBHOOKS_ALLOW_PRIVATE_URLS lifts both rules for development and tests.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import (
    WEBHOOK_EVENT_TYPES,
    Membership,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatchCursor,
    WebhookSubscription,
)
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record

WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_RETRY_WINDOW = timedelta(hours=24)
WEBHOOK_FIRST_RETRY = timedelta(minutes=1)
WEBHOOK_MAX_RETRY_INTERVAL = timedelta(hours=1)
# A claimed attempt holds its delivery this long; if the worker dies mid-POST, the retry sweep takes it up after.
WEBHOOK_CLAIM_LEASE = timedelta(minutes=5)
WEBHOOK_URL_MAX_LENGTH = 2000
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DISPATCH_SEQUENCE_WINDOW = 2000  # audit events read per dispatch transaction
RESPONSE_READ_LIMIT = 4096
# Event ids are derived from the audit event, so every subscription (and every replay) sees the same id.
WEBHOOK_EVENT_NAMESPACE = uuid.UUID("6f1c1f9e-4d0b-4a57-9d38-0c5b8f1e7a21")

# Audit action → webhook event type.
ACTION_EVENT_TYPES = {
    "gig.published": "gig.published",
    "bid.created": "bid.created",
    "bid.accepted": "bid.accepted",
    "contract.activated": "contract.activated",
    "timesheet.submitted": "timesheet.submitted",
    "timesheet.approved": "timesheet.approved",
    "timesheet.auto_approved": "timesheet.approved",
    "milestone.released": "milestone.released",
    "invoice.issued": "invoice.issued",
    "payout.paid": "payout.paid",
    "sla.evaluated": "sla.breached",  # only when the evaluation found breaches
    "compliance_document.approved": "compliance.updated",
    "compliance_document.rejected": "compliance.updated",
    "compliance_document.expired": "compliance.updated",
    "screening_hit.cleared": "compliance.updated",
    "screening_hit.confirmed": "compliance.updated",
    "classification.signed_off": "compliance.updated",
    "classification.rejected": "compliance.updated",
}


# --- secrets and signatures ---------------------------------------------------------------------------------------


def _secret_encrypt(secret: str) -> str:
    # The same Fernet keys as tax ids (one key ring to configure and rotate; see webhook_secrets_rotate).
    from compliance.crypto import tax_id_encrypt

    return tax_id_encrypt(secret)


def webhook_secret(*, subscription: WebhookSubscription) -> str:
    """The subscription's signing secret, decrypted (for signing only; never shown after creation)."""
    from compliance.crypto import tax_id_decrypt

    return tax_id_decrypt(subscription.secret_encrypted)


def webhook_secrets_rotate() -> int:
    """Re-encrypt every signing secret not under the current key (run with compliance_rotate_keys, before the
    old key is dropped); returns how many changed."""
    from compliance.crypto import tax_id_is_current, tax_id_rotate

    changed = 0
    for subscription in WebhookSubscription.objects.only("pk", "secret_encrypted").iterator():
        if not tax_id_is_current(subscription.secret_encrypted):
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                secret_encrypted=tax_id_rotate(subscription.secret_encrypted)
            )
            changed += 1
    return changed


def webhook_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The Tandem-Signature header value for `payload` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(*, payload: bytes, header: str, secret: str, tolerance_seconds: int = 300) -> bool:
    """Did Tandem send this body? `payload` is the raw request body, `header` the Tandem-Signature header.

    True when one of the header's v1 signatures is the HMAC-SHA256 of "<t>.<body>" under the secret and t is
    within `tolerance_seconds` of now (an old, replayed request fails).
    """
    timestamp, signatures = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp.isdigit() or not signatures:
        return False
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    expected = webhook_signature(payload=payload, secret=secret, timestamp=int(timestamp)).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def webhook_body(*, delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed) for a delivery: compact JSON with sorted keys."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


# --- URL rules ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookTarget:
    """Where a POST goes: the URL's parts and, unless private URLs are allowed, the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str | None


def _url_refused(message: str) -> ApplicationError:
    return ApplicationError(message, code="webhook_url_refused", field_errors={"url": [message]})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def webhook_target(*, url: str) -> WebhookTarget:
    """Check `url` against the rules (module doc) and resolve it; ApplicationError with a `url` field error
    saying what to change otherwise."""
    allow_private = bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)
    url = url.strip()
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        raise _url_refused(f"Keep the URL under {WEBHOOK_URL_MAX_LENGTH} characters.")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise _url_refused("The URL's port must be a number from 1 to 65535.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _url_refused("Enter the full URL of your endpoint, starting with https://.")
    if parts.scheme != "https" and not allow_private:
        raise _url_refused("Webhook URLs must use https://, so events travel encrypted.")
    if parts.username or parts.password:
        raise _url_refused("Leave credentials out of the URL: check the Tandem-Signature header instead.")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if allow_private:
        return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, address=None)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _url_refused(f"{host} could not be found in DNS: check the URL's host name.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    private = [address for address in addresses if not _is_public(address)]
    if private or not addresses:
        raise _url_refused(
            f"{host} resolves to {private[0] if private else 'no address'}, which is private, loopback, link-local "
            "or reserved: webhooks are sent only to public internet addresses."
        )
    return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says by now."""

    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address or target.host

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is still verified for the URL's host name (SNI too)."""

    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address or target.host

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def _http_post(target: WebhookTarget, *, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST without following redirects; (status code, the start of the response body)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_READ_LIMIT).decode("utf-8", "replace")
        return response.status, text
    finally:
        connection.close()


# --- subscriptions ------------------------------------------------------------------------------------------------


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


def _enqueue_attempts(delivery_ids: Iterable[int]) -> None:
    from accounts.tasks import webhook_delivery_attempt as attempt_task

    for delivery_id in delivery_ids:
        attempt_task.delay(delivery_id=delivery_id)


# --- dispatch: audit events → deliveries ---------------------------------------------------------------------------


@dataclass
class _Event:
    """A webhook event about to be delivered: who it concerns and what it says."""

    type: str
    organization_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    data: dict[str, Any] = field(default_factory=dict)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _sides(contract: Any) -> tuple[set[int], set[int]]:
    """The organisations and users on both sides of a contract."""
    organizations = {contract.organization_id} | ({contract.vendor_id} if contract.vendor_id else set())
    return organizations, {contract.freelancer_id} if contract.freelancer_id else set()


def _party(obj: Any) -> tuple[set[int], set[int]]:
    """The organisation or the user an object belongs to (payouts, compliance documents, screening hits)."""
    return ({obj.organization_id} if obj.organization_id else set()), ({obj.user_id} if obj.user_id else set())


def _gig(gig: Any, audit: AuditEvent) -> _Event:
    return _Event(
        type="gig.published",
        organization_ids={gig.organization_id},
        data={
            "object": "gig",
            "id": gig.pk,
            "title": gig.title,
            "kind": gig.kind,
            "status": audit.to_state or gig.status,
            "currency": gig.currency,
            "budget_amount": _money(gig.budget_amount),
            "hourly_rate_min": _money(gig.hourly_rate_min),
            "hourly_rate_max": _money(gig.hourly_rate_max),
        },
    )


def _bid(bid: Any, audit: AuditEvent) -> _Event:
    event = _Event(
        type=ACTION_EVENT_TYPES[audit.action],
        organization_ids={bid.gig.organization_id},
        data={
            "object": "bid",
            "id": bid.pk,
            "gig_id": bid.gig_id,
            "status": audit.to_state or bid.status,
            "currency": bid.currency,
            "amount": _money(bid.amount),
            "hourly_rate": _money(bid.hourly_rate),
        },
    )
    if audit.action == "bid.accepted":  # the bidder learns it too
        event.organization_ids |= {bid.vendor_id} if bid.vendor_id else set()
        event.user_ids |= {bid.freelancer_id} if bid.freelancer_id else set()
        event.data["contract_id"] = audit.data.get("contract_id")
    return event


def _contract(contract: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(contract)
    data = {
        "object": "contract",
        "id": contract.pk,
        "kind": contract.kind,
        "status": audit.to_state or contract.status,
        "gig_id": contract.gig_id,
        "currency": contract.currency,
        "fixed_amount": _money(contract.fixed_amount),
        "hourly_rate": _money(contract.hourly_rate),
    }
    return _Event(type="contract.activated", organization_ids=organizations, user_ids=users, data=data)


def _timesheet(timesheet: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(timesheet.contract)
    data = {
        "object": "timesheet",
        "id": timesheet.pk,
        "contract_id": timesheet.contract_id,
        "week_start": timesheet.week_start.isoformat(),
        "status": audit.to_state or timesheet.status,
        "total_hours": f"{timesheet.total_hours:.2f}",
        "is_auto_approved": audit.action == "timesheet.auto_approved",
    }
    return _Event(type=ACTION_EVENT_TYPES[audit.action], organization_ids=organizations, user_ids=users, data=data)


def _milestone(milestone: Any, audit: AuditEvent) -> _Event:
    organizations, users = _sides(milestone.contract)
    data = {
        "object": "milestone",
        "id": milestone.pk,
        "contract_id": milestone.contract_id,
        "status": audit.to_state or milestone.status,
        "currency": milestone.currency,
        "amount": _money(milestone.amount),
        "released_amount": audit.data.get("amount"),
    }
    return _Event(type="milestone.released", organization_ids=organizations, user_ids=users, data=data)


def _invoice(invoice: Any, audit: AuditEvent) -> _Event:
    issuer_organizations = {invoice.issuer_organization_id} if invoice.issuer_organization_id else set()
    data = {
        "object": "invoice",
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": audit.to_state or invoice.status,
        "contract_id": invoice.contract_id,
        "sow_id": invoice.sow_id,
        "currency": invoice.currency,
        "total": _money(invoice.total),
        "due_date": invoice.due_date.isoformat(),
    }
    return _Event(
        type="invoice.issued",
        organization_ids={invoice.organization_id} | issuer_organizations,
        user_ids={invoice.issuer_user_id} if invoice.issuer_user_id else set(),
        data=data,
    )


def _payout(payout: Any, audit: AuditEvent) -> _Event:
    organizations, users = _party(payout)
    data = {
        "object": "payout",
        "id": payout.pk,
        "status": audit.to_state or payout.status,
        "currency": payout.currency,
        "amount": _money(payout.amount),
    }
    return _Event(type="payout.paid", organization_ids=organizations, user_ids=users, data=data)


def _sla_evaluation(evaluation: Any, audit: AuditEvent) -> _Event | None:
    breaches = list(evaluation.breaches.all())
    if not breaches:
        return None
    data = {
        "object": "sla_evaluation",
        "id": evaluation.pk,
        "sow_id": evaluation.sow_id,
        "period": evaluation.period.isoformat(),
        "levels_met": evaluation.levels_met,
        "levels_total": evaluation.levels_total,
        "currency": evaluation.currency,
        "credit_total": _money(evaluation.credit_total),
        "breaches": [
            {
                "service_level_id": breach.service_level_id,
                "metric": breach.metric,
                "direction": breach.direction,
                "target": f"{breach.target:.2f}",
                "measured_value": None if breach.measured_value is None else f"{breach.measured_value:.2f}",
                "credit_amount": _money(breach.credit_amount),
            }
            for breach in sorted(breaches, key=lambda breach: breach.pk)
        ],
    }
    organizations = {evaluation.sow.organization_id, evaluation.sow.vendor_id}
    return _Event(type="sla.breached", organization_ids=organizations, data=data)


def _compliance(subject: str) -> Callable[[Any, AuditEvent], _Event]:
    def build(obj: Any, audit: AuditEvent) -> _Event:
        if subject == "classification":
            organizations, users = _sides(obj.contract)
        else:
            organizations, users = _party(obj)
        data: dict[str, Any] = {"object": subject, "id": obj.pk, "status": audit.to_state or obj.status}
        if subject == "document":
            data["requirement"] = obj.requirement.code
        elif subject == "classification":
            data |= {"contract_id": obj.contract_id, "risk": obj.risk}
        return _Event(type="compliance.updated", organization_ids=organizations, user_ids=users, data=data)

    return build


def _loaders() -> dict[str, tuple[Any, Callable[[Any, AuditEvent], _Event | None]]]:
    """Per audit target type: the queryset its objects are read with (one query per type and batch) and the
    function turning an object and its audit event into a webhook event."""
    from billing.models import Invoice, Payout
    from compliance.models import ClassificationAssessment, ComplianceDocument, ScreeningHit
    from engagements.models import Contract, Milestone, SLAEvaluation, Timesheet
    from marketplace.models import Bid, Gig

    return {
        "marketplace.gig": (Gig.objects.all(), _gig),
        "marketplace.bid": (Bid.objects.select_related("gig"), _bid),
        "engagements.contract": (Contract.objects.all(), _contract),
        "engagements.timesheet": (Timesheet.objects.select_related("contract"), _timesheet),
        "engagements.milestone": (Milestone.objects.select_related("contract"), _milestone),
        "billing.invoice": (Invoice.objects.all(), _invoice),
        "billing.payout": (Payout.objects.all(), _payout),
        "engagements.slaevaluation": (
            SLAEvaluation.objects.select_related("sow").prefetch_related("breaches"),
            _sla_evaluation,
        ),
        "compliance.compliancedocument": (
            ComplianceDocument.objects.select_related("requirement"),
            _compliance("document"),
        ),
        "compliance.screeninghit": (ScreeningHit.objects.all(), _compliance("screening")),
        "compliance.classificationassessment": (
            ClassificationAssessment.objects.select_related("contract"),
            _compliance("classification"),
        ),
    }


def _webhook_events(audits: list[AuditEvent]) -> list[tuple[AuditEvent, _Event]]:
    loaders = _loaders()
    ids_by_type: dict[str, set[int]] = {}
    for audit in audits:
        if audit.target_type in loaders and audit.target_id.isdigit():
            ids_by_type.setdefault(audit.target_type, set()).add(int(audit.target_id))
    objects = {target_type: loaders[target_type][0].in_bulk(sorted(ids)) for target_type, ids in ids_by_type.items()}
    found = []
    for audit in audits:
        obj = objects.get(audit.target_type, {}).get(int(audit.target_id)) if audit.target_id.isdigit() else None
        if obj is None:
            continue  # gone since (or not an object we describe): nothing to say
        event = loaders[audit.target_type][1](obj, audit)
        if event is not None:
            found.append((audit, event))
    return found


def _cursor_for_update() -> WebhookDispatchCursor:
    cursor, _ = WebhookDispatchCursor.objects.select_for_update().get_or_create(pk=1)
    return cursor


def webhooks_dispatch() -> int:
    """Turn sealed audit events after the cursor into deliveries; returns how many deliveries were created.

    Idempotent and safe to run concurrently: each window of events is one transaction holding the cursor's row
    lock, and a delivery is unique per subscription and audit event. Only events recorded after a subscription
    was created reach it. The new deliveries' first attempts are queued when the transaction commits.
    """
    created = 0
    while True:
        with transaction.atomic():
            cursor = _cursor_for_update()
            # The head first, then the events up to it: every sequence up to a sealed head has committed.
            head = (
                AuditEvent.objects.filter(sequence__isnull=False)
                .order_by("-sequence")
                .values_list("sequence", flat=True)
                .first()
            ) or 0
            if head <= cursor.last_sequence:
                return created
            upper = min(head, cursor.last_sequence + DISPATCH_SEQUENCE_WINDOW)
            if WebhookSubscription.objects.filter(is_active=True).exists():
                audits = list(
                    AuditEvent.objects.filter(
                        sequence__gt=cursor.last_sequence, sequence__lte=upper, action__in=list(ACTION_EVENT_TYPES)
                    ).order_by("sequence")
                )
                created += _deliveries_create(_webhook_events(audits))
            cursor.last_sequence = upper
            cursor.save(update_fields=["last_sequence", "updated_at"])
        if upper == head:
            return created


def _deliveries_create(events: list[tuple[AuditEvent, _Event]]) -> int:
    """One delivery per event and subscription concerned; their first attempts are queued on commit."""
    if not events:
        return 0
    organization_ids = set().union(*(event.organization_ids for _, event in events))
    user_ids = set().union(*(event.user_ids for _, event in events))
    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True).filter(
            Q(organization_id__in=organization_ids) | Q(organization__isnull=True, user_id__in=user_ids)
        )
    )
    existing = set(
        WebhookDelivery.objects.filter(audit_event_id__in=[audit.pk for audit, _ in events]).values_list(
            "subscription_id", "audit_event_id"
        )
    )
    deliveries = []
    for audit, event in events:
        event_id = uuid.uuid5(WEBHOOK_EVENT_NAMESPACE, f"{audit.pk}:{event.type}")
        payload = {
            "id": str(event_id),
            "type": event.type,
            "created": audit.created_at.astimezone(UTC).isoformat(),
            "data": event.data,
        }
        for subscription in subscriptions:
            concerned = (
                subscription.organization_id in event.organization_ids
                if subscription.organization_id is not None
                else subscription.user_id in event.user_ids
            )
            if (
                concerned
                and event.type in subscription.events
                and subscription.created_at <= audit.created_at
                and (subscription.pk, audit.pk) not in existing
            ):
                deliveries.append(
                    WebhookDelivery(
                        subscription=subscription,
                        event_type=event.type,
                        event_id=event_id,
                        audit_event_id=audit.pk,
                        payload=payload,
                        next_attempt_at=timezone.now(),
                    )
                )
    if not deliveries:
        return 0
    # The cursor's lock makes `existing` exact; ignore_conflicts keeps dispatch idempotent should it not be.
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    new_ids = list(
        WebhookDelivery.objects.filter(
            audit_event_id__in={delivery.audit_event_id for delivery in deliveries},
            subscription_id__in={delivery.subscription_id for delivery in deliveries},
            attempts=0,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    transaction.on_commit(partial(_enqueue_attempts, new_ids))
    return len(deliveries)


# --- delivery -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt (counted now; leased so no other worker sends it meanwhile)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        now = timezone.now()
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        if not delivery.subscription.is_active:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + WEBHOOK_CLAIM_LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def _send(delivery: WebhookDelivery) -> _Outcome:
    from compliance.crypto import InvalidToken

    body = webhook_body(delivery=delivery)
    attempted_at, started = timezone.now(), time.monotonic()
    status_code, error = None, ""
    try:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tandem-Webhooks/1.0",
            "Tandem-Signature": webhook_signature(
                payload=body, secret=webhook_secret(subscription=delivery.subscription), timestamp=int(time.time())
            ),
            "Tandem-Event": delivery.event_type,
            "Tandem-Delivery": str(delivery.pk),
        }
        target = webhook_target(url=delivery.subscription.url)  # again: DNS may point elsewhere by now
        status_code, text = _http_post(target, body=body, headers=headers)
        if not 200 <= status_code < 300:
            error = f"The endpoint answered HTTP {status_code}: {text[:300]}".strip().rstrip(":")
    except ApplicationError as exc:
        error = exc.message
    except InvalidToken:
        error = "The signing secret cannot be decrypted with the configured keys (see webhook_secrets_rotate)."
    except TimeoutError:
        error = f"No answer within {WEBHOOK_TIMEOUT_SECONDS} seconds."
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _Outcome(attempted_at=attempted_at, status_code=status_code, error=error, duration_ms=duration_ms)


def _next_attempt_at(delivery: WebhookDelivery, *, now: datetime) -> datetime | None:
    """1, 2, 4, … minutes after this attempt, at most an hour apart; None once past the day after the event."""
    exponent = min(max(delivery.attempts - 1, 0), 16)
    interval = min(WEBHOOK_FIRST_RETRY * (2**exponent), WEBHOOK_MAX_RETRY_INTERVAL)
    due = now + interval
    return due if due <= delivery.created_at + WEBHOOK_RETRY_WINDOW else None


@transaction.atomic
def _record(delivery_id: int, outcome: _Outcome) -> WebhookDelivery | None:
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        return None  # the subscription was deleted while the POST was under way
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=outcome.attempted_at,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
    )
    now = timezone.now()
    delivery.last_status_code = outcome.status_code
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, now, None
    else:
        delivery.next_attempt_at = _next_attempt_at(delivery, now=now)
        if delivery.next_attempt_at is None:
            delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code"])
    return delivery


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """POST a due delivery once and log the attempt (module doc for headers and retries). A delivery that is not
    due, already settled or being sent by another worker is returned as it is; DoesNotExist if it is gone."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return WebhookDelivery.objects.get(pk=delivery_id)
    # No transaction is open while the POST waits on the partner's endpoint.
    recorded = _record(delivery.pk, _send(delivery))
    if recorded is None:
        raise WebhookDelivery.DoesNotExist
    return recorded


def webhook_deliveries_due(*, limit: int = 1000) -> list[int]:
    """Ids of pending deliveries whose next attempt is due (the retry sweep queues an attempt for each)."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
