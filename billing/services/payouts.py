"""Getting freelancers and vendor firms paid: their Stripe Connect (Express) payout account, the daily batch that
turns payable balances into Payout rows, and sending each payout as one Stripe transfer.

At most once: the transfer's Idempotency-Key is stored on the payout and sent on every attempt (Celery retries,
redelivery after a worker died mid-call, stripe-python's own network retries), so Stripe creates one transfer
however often we ask; the ledger moves only when Stripe has answered with the transfer (or its webhook says so).
Only a manual retry by finance staff after a definitive refusal uses a new key."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone as django_timezone

from accounts.models import Membership, Organization
from billing.models import LedgerAccount, LedgerTransaction, Payout, PayoutAccount
from billing.services.ledger import LedgerEntry, ledger_account, ledger_post
from billing.services.payments import stripe_api, stripe_error_message
from core.errors import ApplicationError
from core.money import to_minor_units
from core.services import audit_record

if TYPE_CHECKING:
    from accounts.models import User

Kind = LedgerAccount.Kind
PAYABLE = (Kind.WORKER_PAYABLE, Kind.VENDOR_PAYABLE)
MINIMUM_PAYOUT = Decimal("1.00")


def _hold() -> timedelta:
    return timedelta(hours=settings.PAYOUT_HOLD_HOURS)


def _payee(by: User, organization_id: int | None) -> tuple[User | None, Organization | None]:
    """Whose payout account `by` manages: their own (freelancer), or their vendor firm's (owner, admin, finance)."""
    if organization_id is None:
        return by, None
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=by, organization_id=organization_id, organization__kind=Organization.Kind.VENDOR)
        .first()
    )
    if membership is None:
        raise Organization.DoesNotExist
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.FINANCE):
        raise ApplicationError("Only an owner, admin or finance member can set up the firm's payouts.", status=403)
    return None, membership.organization


def payout_account_for(*, user: User | None = None, organization: Organization | None = None) -> PayoutAccount | None:
    if organization is not None:
        return PayoutAccount.objects.filter(organization=organization).first()
    return PayoutAccount.objects.filter(user=user).first()


def payout_account_onboarding_link(*, by: User, organization_id: int | None = None, site_url: str) -> str:
    """The Stripe-hosted onboarding page for the payee's Express account (created on first use)."""
    user, organization = _payee(by, organization_id)
    account = payout_account_for(user=user, organization=organization)
    api = stripe_api()
    try:
        if account is None:
            country = (organization.country if organization else getattr(by, "country", "")) or "US"
            owner_key = f"org-{organization.pk}" if organization else f"user-{by.pk}"
            created = api.v1.accounts.create(
                params={
                    "type": "express",
                    "country": country,
                    "email": by.email,
                    "capabilities": {"transfers": {"requested": True}},
                    "metadata": {"owner": owner_key},
                },
                options={"idempotency_key": f"payout-account-{owner_key}"},
            )
            with transaction.atomic():
                account, _ = PayoutAccount.objects.get_or_create(
                    stripe_account_id=created.id,
                    defaults={"user": user, "organization": organization, "country": country},
                )
                audit_record(actor=by, action="payout_account.created", target=account, organization=organization)
        path = reverse("billing:payout_account_return")
        link = api.v1.account_links.create(
            params={
                "account": account.stripe_account_id,
                "refresh_url": f"{site_url}{reverse('billing:payout_account_start')}",
                "return_url": f"{site_url}{path}",
                "type": "account_onboarding",
            }
        )
    except stripe.StripeError as error:
        raise ApplicationError(
            f"Stripe could not start onboarding: {stripe_error_message(error)} Please try again.", status=502
        ) from error
    return str(link.url)


@transaction.atomic
def payout_account_apply(*, stripe_account: dict[str, Any]) -> PayoutAccount | None:
    """Bring a payout account up to date with Stripe's account object (from `account.updated` or a refresh).
    A change of bank details on an account that could already receive money starts a hold."""
    account = PayoutAccount.objects.select_for_update().filter(stripe_account_id=stripe_account.get("id")).first()
    if account is None:
        return None
    requirements = stripe_account.get("requirements") or {}
    external = stripe_account.get("external_accounts") or {}
    fingerprint = ",".join(sorted(str(item.get("id")) for item in external.get("data", []) if isinstance(item, dict)))
    was_enabled = account.payouts_enabled
    account.details_submitted = bool(stripe_account.get("details_submitted"))
    account.charges_enabled = bool(stripe_account.get("charges_enabled"))
    account.payouts_enabled = bool(stripe_account.get("payouts_enabled"))
    account.requirements_due = list(requirements.get("currently_due") or [])
    account.disabled_reason = str(requirements.get("disabled_reason") or "")[:120]
    if was_enabled and account.bank_accounts_fingerprint and fingerprint != account.bank_accounts_fingerprint:
        account.hold_until = django_timezone.now() + _hold()
    account.bank_accounts_fingerprint = fingerprint[:400]
    account.synced_at = django_timezone.now()
    account.save()
    audit_record(
        actor=None,
        action="payout_account.updated",
        target=account,
        organization=account.organization,
        data={"payouts_enabled": str(account.payouts_enabled)},
    )
    return account


def payout_account_refresh(*, by: User, organization_id: int | None = None) -> PayoutAccount | None:
    """Re-read the account from Stripe (when the payee comes back from onboarding)."""
    user, organization = _payee(by, organization_id)
    account = payout_account_for(user=user, organization=organization)
    if account is None:
        return None
    try:
        remote = stripe_api().v1.accounts.retrieve(account.stripe_account_id)
    except stripe.StripeError as error:
        raise ApplicationError(f"Stripe could not be reached: {stripe_error_message(error)}", status=502) from error
    return payout_account_apply(stripe_account=remote.to_dict())


def payout_hold_start(*, user: User) -> None:
    """The person's sign-in email changed: hold their payouts (and their firms') for the hold period."""
    until = django_timezone.now() + _hold()
    firms = Membership.objects.filter(user=user, role__in=["owner", "admin", "finance"]).values("organization_id")
    PayoutAccount.objects.filter(Q(user=user) | Q(organization_id__in=firms)).update(hold_until=until)


def payout_blockers(*, account: PayoutAccount | None, contract_payee: Any = None) -> list[str]:
    """Why money can't be sent to this payee now; empty when it can."""
    if account is None:
        return ["Connect a payout account (Stripe) to receive payments."]
    reasons = []
    if not account.details_submitted:
        reasons.append("Finish the payout account setup with Stripe.")
    elif not account.payouts_enabled:
        due = ", ".join(account.requirements_due) or account.disabled_reason or "details"
        reasons.append(f"Stripe needs more information before payouts can start ({due}).")
    if account.hold_until and account.hold_until > django_timezone.now():
        reasons.append(
            f"Payouts are on hold until {django_timezone.localtime(account.hold_until):%-d %b %Y %H:%M} after a "
            "change to your payout details or email."
        )
    from compliance.selectors import payout_blockers as compliance_blockers

    reasons += compliance_blockers(user=account.user, organization=account.organization)
    return reasons


def _in_flight(*, user_id: int | None, organization_id: int | None, currency: str) -> Decimal:
    payee: dict[str, Any] = {"user_id": user_id, "organization_id": organization_id}
    total = Payout.objects.filter(**payee, currency=currency, status=Payout.Status.PENDING).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal(0)


def payable_available(*, account: LedgerAccount) -> Decimal:
    """What may still be paid out of a payable account: its balance less payouts already on their way."""
    return account.balance - _in_flight(
        user_id=account.user_id, organization_id=account.organization_id, currency=account.currency
    )


def payouts_create_due() -> list[int]:
    """Daily: one payout per payee and currency for what is payable and not already on its way, for payees who
    can receive it. Returns the new payout ids (each sent by its own task)."""
    created: list[int] = []
    candidates = LedgerAccount.objects.filter(kind__in=PAYABLE, balance__gte=MINIMUM_PAYOUT).values_list(
        "pk", flat=True
    )
    for account_id in candidates:
        with transaction.atomic():
            payable = LedgerAccount.objects.select_for_update().get(pk=account_id)
            available = payable_available(account=payable)
            if available < MINIMUM_PAYOUT:
                continue
            destination = payout_account_for(user=payable.user, organization=payable.organization)
            if payout_blockers(account=destination):
                continue
            assert destination is not None
            payout = Payout.objects.create(
                user=payable.user,
                organization=payable.organization,
                payout_account=destination,
                amount=available,
                currency=payable.currency,
                idempotency_key=f"pending-{uuid.uuid4()}",
            )
            payout.idempotency_key = f"payout-{payout.pk}"
            payout.save(update_fields=["idempotency_key"])
            audit_record(
                actor=None,
                action="payout.created",
                target=payout,
                organization=payable.organization,
                to_state=payout.status,
                data={"amount": str(available), "currency": payable.currency},
            )
            from billing.tasks import payout_send

            payout_send.delay_on_commit(payout_id=payout.pk)  # type: ignore[attr-defined]
            created.append(payout.pk)
    return created


def _mark_paid(payout: Payout, transfer_id: str) -> None:
    payable_kind = Kind.VENDOR_PAYABLE if payout.organization_id else Kind.WORKER_PAYABLE
    payable = ledger_account(
        kind=payable_kind, currency=payout.currency, organization=payout.organization, user=payout.user
    )
    ledger_post(
        kind=LedgerTransaction.Kind.PAYOUT_PAID,
        reference=f"payout:{payout.pk}",
        description=f"Payout {payout.pk} sent (Stripe transfer {transfer_id})",
        organization=payout.organization,
        entries=[
            LedgerEntry(payable, payout.amount),
            LedgerEntry(ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=payout.currency), -payout.amount),
        ],
    )
    previous = payout.transition_to(Payout.Status.PAID)
    payout.stripe_transfer_id = transfer_id
    payout.paid_at = django_timezone.now()
    payout.last_error = ""
    payout.save()
    audit_record(
        actor=None,
        action="payout.paid",
        target=payout,
        organization=payout.organization,
        from_state=previous,
        to_state=payout.status,
        data={"transfer": transfer_id},
    )


TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def payout_send(*, payout_id: int) -> Payout:
    """Send one payout as a Stripe transfer. Safe to run any number of times, concurrently too: the row lock
    queues concurrent runs, a paid payout is left alone, and the stored Idempotency-Key makes Stripe answer a
    repeated request with the transfer it already made. Transient errors are raised for the task to retry."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("payout_account").get(pk=payout_id)
        if payout.status != Payout.Status.PENDING:
            return payout
        blockers = payout_blockers(account=payout.payout_account)
        if blockers:
            return _fail(payout, " ".join(blockers))
        try:
            transfer = stripe_api().v1.transfers.create(
                params={
                    "amount": to_minor_units(payout.amount, payout.currency),
                    "currency": payout.currency.lower(),
                    "destination": payout.payout_account.stripe_account_id,
                    "transfer_group": f"payout-{payout.pk}",
                    "metadata": {"payout_id": str(payout.pk)},
                },
                options={"idempotency_key": payout.idempotency_key},
            )
        except TRANSIENT as error:
            # Stripe may have made the transfer and lost the answer: the payout stays pending, and the task's
            # retry sends the same key (Stripe answers it with that transfer). The attempt is recorded while
            # the row is still locked: written after the lock was released, it overwrote what a concurrent run
            # had recorded meanwhile (a paid payout showed "Stripe did not answer", and attempts were lost).
            error_text = stripe_error_message(error)
            payout.attempts += 1
            payout.last_error = f"Stripe did not answer: {error_text}"[:2000]
            payout.save(update_fields=["attempts", "last_error", "updated_at"])
        except stripe.StripeError as error:
            return _fail(payout, stripe_error_message(error))
        else:
            payout.attempts += 1
            _mark_paid(payout, transfer.id)
            return payout
    raise ConnectionError(error_text)


def _fail(payout: Payout, reason: str) -> Payout:
    previous = payout.transition_to(Payout.Status.FAILED)
    payout.attempts += 1
    payout.last_error = reason[:2000]
    payout.save()
    audit_record(
        actor=None,
        action="payout.failed",
        target=payout,
        organization=payout.organization,
        from_state=previous,
        to_state=payout.status,
        data={"reason": reason[:300]},
    )
    return payout


@transaction.atomic
def payout_apply_transfer(*, transfer: dict[str, Any]) -> Payout | None:
    """A `transfer.created` event: if our call's answer was lost (the worker died after Stripe made the
    transfer), the event completes the payout; otherwise nothing happens."""
    payout_id = (transfer.get("metadata") or {}).get("payout_id")
    if not payout_id or not str(payout_id).isdigit():
        return None
    payout = Payout.objects.select_for_update().filter(pk=int(payout_id)).first()
    if payout is None or payout.status != Payout.Status.PENDING:
        return payout
    _mark_paid(payout, str(transfer.get("id")))
    return payout


@transaction.atomic
def payout_retry(*, payout_id: int, by: User) -> Payout:
    """Finance staff send a failed payout again (after the payee fixed their account), with a new key."""
    payout = Payout.objects.select_for_update().get(pk=payout_id)
    if payout.status != Payout.Status.FAILED:
        raise ApplicationError("Only a failed payout can be retried.", status=409)
    payable_kind = Kind.VENDOR_PAYABLE if payout.organization_id else Kind.WORKER_PAYABLE
    payable = LedgerAccount.objects.select_for_update().get(
        pk=ledger_account(
            kind=payable_kind, currency=payout.currency, organization=payout.organization, user=payout.user
        ).pk
    )
    if payable_available(account=payable) < payout.amount:
        raise ApplicationError(
            "The payee's payable balance no longer covers this payout; cancel it instead.", status=409
        )
    try:  # a new key could move the money twice if Stripe had made the transfer after all: ask first
        made = stripe_api().v1.transfers.list(params={"transfer_group": f"payout-{payout.pk}", "limit": 1})
    except stripe.StripeError as error:
        raise ApplicationError(
            f"Stripe could not be asked about this payout: {stripe_error_message(error)}", status=502
        ) from error
    if made.data:
        raise ApplicationError(
            f"Stripe already made transfer {made.data[0].id} for this payout; reconcile it instead of retrying.",
            code="transfer_exists",
            status=409,
        )
    previous = payout.transition_to(Payout.Status.PENDING)
    payout.manual_retries += 1
    payout.idempotency_key = f"payout-{payout.pk}-retry-{payout.manual_retries}"
    payout.save()
    audit_record(actor=by, action="payout.retried", target=payout, from_state=previous, to_state=payout.status)
    from billing.tasks import payout_send as send

    send.delay_on_commit(payout_id=payout.pk)  # type: ignore[attr-defined]
    return payout


@transaction.atomic
def payout_cancel(*, payout_id: int, by: User, reason: str) -> Payout:
    payout = Payout.objects.select_for_update().get(pk=payout_id)
    if payout.status != Payout.Status.FAILED:
        raise ApplicationError("Only a failed payout can be canceled; a queued one may be sending.", status=409)
    previous = payout.transition_to(Payout.Status.CANCELED)
    payout.last_error = reason.strip()[:2000] or payout.last_error
    payout.save()
    audit_record(actor=by, action="payout.canceled", target=payout, from_state=previous, to_state=payout.status)
    return payout
