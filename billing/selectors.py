"""Billing reads, scoped to who asks: a client organisation's members see its payments and invoices; an issuer
(the freelancer, or members of the vendor firm) sees the invoices they issued and their payouts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone as django_timezone

from accounts.models import Membership
from billing.models import Invoice, LedgerAccount, LedgerLine, LedgerTransaction, Payment, Payout

if TYPE_CHECKING:
    from accounts.models import User


def _organization_ids(user: User) -> QuerySet[Membership, int]:
    return Membership.objects.filter(user=user).values_list("organization_id", flat=True)


def payment_get(*, payment_id: int, user: User) -> Payment:
    """A payment, for members of the paying organisation (DoesNotExist for everyone else)."""
    return Payment.objects.select_related("organization", "milestone__contract", "invoice").get(
        pk=payment_id, organization_id__in=_organization_ids(user)
    )


def invoice_list_for_user(*, user: User) -> QuerySet[Invoice]:
    """Invoices the user's organisations received, and those the user (or their firm) issued."""
    if not user.is_authenticated:
        return Invoice.objects.none()
    orgs = _organization_ids(user)
    return Invoice.objects.filter(
        Q(organization_id__in=orgs) | Q(issuer_user=user) | Q(issuer_organization_id__in=orgs)
    ).select_related("organization", "issuer_user", "issuer_organization")


def invoice_get(*, invoice_id: int, user: User) -> Invoice:
    return invoice_list_for_user(user=user).get(pk=invoice_id)


def payout_list_for_user(*, user: User) -> QuerySet[Payout]:
    if not user.is_authenticated:
        return Payout.objects.none()
    firms = Membership.objects.filter(user=user, role__in=["owner", "admin", "finance"]).values("organization_id")
    return Payout.objects.filter(Q(user=user) | Q(organization_id__in=firms)).select_related("payout_account")


# --- Billing pages: lists, totals and series, scoped the same way ------------------------------------------------
# A payee is the user themselves (organization_id None) or a vendor firm they run (owner, admin or finance role).
PAYEE_ROLES = ("owner", "admin", "finance")


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return list(queryset)


def _payee_firm_ids(user: User, organization_id: int) -> QuerySet[Membership, int]:
    return Membership.objects.filter(
        user=user, organization_id=organization_id, organization__kind="vendor", role__in=PAYEE_ROLES
    ).values_list("organization_id", flat=True)


def payment_list_for_user(*, user: User, organization_ids: Iterable[int] | None = None) -> QuerySet[Payment]:
    """Payments of the user's organisations (optionally only some of them), newest first."""
    payments = Payment.objects.filter(organization_id__in=_organization_ids(user))
    if organization_ids is not None:
        payments = payments.filter(organization_id__in=list(organization_ids))
    return payments.select_related("organization", "invoice", "milestone").order_by("-created_at", "-id")


def invoice_outstanding_by_currency(*, invoices: QuerySet[Invoice]) -> list[dict[str, Any]]:
    """Per currency: what is still owed on issued invoices, and how much of it is past its due date."""
    today = django_timezone.localdate()
    due = F("total") - F("credited")
    return _rows(
        invoices.filter(status=Invoice.Status.ISSUED)
        .order_by()
        .values("currency")
        .annotate(
            outstanding=Sum(due),
            count=Count("id"),
            overdue=Sum(due, filter=Q(due_date__lt=today), default=Decimal(0)),
            overdue_count=Count("id", filter=Q(due_date__lt=today)),
        )
        .order_by("currency")
    )


def _spent(user: User, organization_ids: Iterable[int], since: datetime) -> QuerySet[Payment]:
    """What the client actually paid: succeeded payments (invoice payments and milestone funding) less refunds.
    A funded milestone's receipt invoice is not counted again."""
    return Payment.objects.filter(
        organization_id__in=_organization_ids(user),
        status=Payment.Status.SUCCEEDED,
        succeeded_at__gte=since,
    ).filter(organization_id__in=list(organization_ids))


def client_spend_by_month(*, user: User, organization_ids: Iterable[int], since: datetime) -> list[dict[str, Any]]:
    """(month, currency, amount) rows, oldest first, one query."""
    return _rows(
        _spent(user, organization_ids, since)
        .annotate(month=TruncMonth("succeeded_at"))
        .values("month", "currency")
        .annotate(amount=Sum(F("amount") - F("refunded_amount")))
        .order_by("month", "currency")
    )


def client_spend_by_work(*, user: User, organization_ids: Iterable[int], since: datetime) -> list[dict[str, Any]]:
    """Spend per gig or statement of work (currency, sow_id/sow_title or gig_id/gig_title, amount), largest
    first, one query. Work with neither (micro-task weeks) comes back with both empty."""
    return _rows(
        _spent(user, organization_ids, since)
        .annotate(
            work_sow_id=F("invoice__sow_id"),
            work_sow_title=F("invoice__sow__title"),
            work_gig_id=Coalesce("invoice__contract__gig_id", "milestone__contract__gig_id"),
            work_gig_title=Coalesce("invoice__contract__gig__title", "milestone__contract__gig__title"),
        )
        .values("currency", "work_sow_id", "work_sow_title", "work_gig_id", "work_gig_title")
        .annotate(amount=Sum(F("amount") - F("refunded_amount")))
        .order_by("-amount", "currency", "work_gig_title", "work_sow_title")
    )


def payee_ledger_accounts(*, user: User, organization_id: int | None = None) -> list[LedgerAccount]:
    """The payee's pending and payable accounts (every currency)."""
    if organization_id is None:
        owner = Q(user=user, kind__in=[LedgerAccount.Kind.WORKER_PENDING, LedgerAccount.Kind.WORKER_PAYABLE])
    else:
        owner = Q(
            organization_id__in=_payee_firm_ids(user, organization_id),
            kind__in=[LedgerAccount.Kind.VENDOR_PENDING, LedgerAccount.Kind.VENDOR_PAYABLE],
        )
    return list(LedgerAccount.objects.filter(owner).order_by("currency", "kind"))


def payee_payout_list(*, user: User, organization_id: int | None = None) -> QuerySet[Payout]:
    payouts = payout_list_for_user(user=user)
    if organization_id is None:
        return payouts.filter(user=user).order_by("-created_at", "-id")
    return payouts.filter(organization_id__in=_payee_firm_ids(user, organization_id)).order_by("-created_at", "-id")


def payee_payout_totals(*, user: User, organization_id: int | None = None) -> dict[str, dict[str, Decimal]]:
    """Per currency: paid and queued payout totals (one query)."""
    rows = (
        payee_payout_list(user=user, organization_id=organization_id)
        .order_by()
        .values("currency")
        .annotate(
            paid=Sum("amount", filter=Q(status=Payout.Status.PAID), default=Decimal(0)),
            queued=Sum("amount", filter=Q(status=Payout.Status.PENDING), default=Decimal(0)),
        )
    )
    return {row["currency"]: {"paid": row["paid"], "queued": row["queued"]} for row in rows}


def payee_invoice_list(*, user: User, organization_id: int | None = None) -> QuerySet[Invoice]:
    """Invoices the payee issued, each with `issuer_receives`: the work less the service fee and less the
    issuer's share of any credit notes."""
    invoices = invoice_list_for_user(user=user)
    if organization_id is None:
        invoices = invoices.filter(issuer_user=user)
    else:
        invoices = invoices.filter(issuer_organization_id__in=_payee_firm_ids(user, organization_id))
    return invoices.order_by("-issued_at", "-id").annotate(
        issuer_receives=F("subtotal")
        - F("worker_fee")
        - Coalesce(Sum("credit_notes__worker_net_part"), Value(Decimal(0)), output_field=DecimalField())
    )


def payee_earnings_by_week(*, accounts: Iterable[LedgerAccount], since: datetime) -> list[dict[str, Any]]:
    """(week, currency, amount) rows, oldest first: what was credited to the given payable accounts (released
    escrow, paid invoices) each week; reversals are not earnings."""
    return _rows(
        LedgerLine.objects.filter(
            account__in=[account.pk for account in accounts],
            account__kind__in=[LedgerAccount.Kind.WORKER_PAYABLE, LedgerAccount.Kind.VENDOR_PAYABLE],
            amount__lt=0,
            transaction__posted_at__gte=since,
        )
        .exclude(transaction__kind=LedgerTransaction.Kind.REVERSAL)
        .annotate(week=TruncWeek("transaction__posted_at"))
        .values("week", "currency")
        .annotate(credited=Sum("amount"))
        .order_by("week", "currency")
    )


def payout_totals_by_status(*, user: Any) -> list[dict[str, Any]]:
    """(status, currency, count, amount) rows over every payout, for the ops overview: one grouped query,
    ordered by status then currency. Staff who may view payouts only (PermissionDenied for anyone else)."""
    if not (user.is_staff and user.has_perm("billing.view_payout")):
        raise PermissionDenied("Payout totals are for finance staff.")
    rows = (
        Payout.objects.order_by()
        .values("status", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("status", "currency")
    )
    return [dict(row) for row in rows]
