"""Billing emails, each sent once (the row's timestamp, set under its lock, is the guard)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone as django_timezone

from accounts.models import Membership
from billing.models import Invoice


def invoice_issued_email_send(*, invoice_id: int) -> bool:
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(pk=invoice_id, emailed_at__isnull=True)
            .first()
        )
        if invoice is None:
            return False
        recipients = sorted(
            set(
                Membership.objects.filter(
                    organization_id=invoice.organization_id,
                    role__in=["owner", "admin", "finance"],
                    user__is_active=True,
                    user__is_service_account=False,
                ).values_list("user__email", flat=True)
            )
        )
        if recipients:
            context = {"invoice": invoice, "lines": list(invoice.lines.all())}
            send_mail(
                f"Invoice {invoice.number} from {invoice.issuer_name}: {invoice.total} {invoice.currency}",
                render_to_string("billing/email/invoice_issued.txt", context),
                None,
                recipients,
            )
        invoice.emailed_at = django_timezone.now()
        invoice.save(update_fields=["emailed_at", "updated_at"])
    return bool(recipients)
