"""Billing reads, scoped to who asks: a client organisation's members see its payments and invoices; an issuer
(the freelancer, or members of the vendor firm) sees the invoices they issued and their payouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from accounts.models import Membership
from billing.models import Invoice, Payment, Payout

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
