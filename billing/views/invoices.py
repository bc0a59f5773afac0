"""An invoice, for the client side (pay it) and the issuer side (credit it), and its printable document."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from billing import services
from billing.forms import CreditNoteForm
from billing.models import Invoice, InvoiceLine, Payment
from billing.selectors import invoice_get
from billing.views.common import query_string
from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest

CLIENT, ISSUER = "client", "issuer"


def _invoice_side(invoice: Invoice, request: AuthenticatedHttpRequest) -> str:
    """The client side (members of the billed organisation) or the issuer side; invoice_get showed no one else."""
    if Membership.objects.filter(user=request.user, organization_id=invoice.organization_id).exists():
        return CLIENT
    return ISSUER


def _invoice_back_url(invoice: Invoice, side: str) -> str:
    if side == CLIENT:
        return f"{reverse('billing:client_billing')}?{query_string(organization=invoice.organization_id)}"
    payee = f"org:{invoice.issuer_organization_id}" if invoice.issuer_organization_id else "me"
    return f"{reverse('billing:earnings')}?{query_string(payee=payee)}"


def _invoice_context(request: AuthenticatedHttpRequest, invoice_id: int, **extra: Any) -> dict[str, Any]:
    invoice = invoice_get(invoice_id=invoice_id, user=request.user)
    side = _invoice_side(invoice, request)
    lines = list(invoice.lines.all())
    credit_notes = list(invoice.credit_notes.select_related("created_by"))
    payments = list(invoice.payments.order_by("-created_at", "-id"))
    is_open = invoice.status == Invoice.Status.ISSUED
    context: dict[str, Any] = {
        "invoice": invoice,
        "side": side,
        "work_lines": [line for line in lines if line.kind != InvoiceLine.Kind.MARKETPLACE_FEE],
        "fee_lines": [line for line in lines if line.kind == InvoiceLine.Kind.MARKETPLACE_FEE],
        "credit_notes": credit_notes,
        "payments": payments,
        "live_payment": next(
            (p for p in payments if p.status in (Payment.Status.REQUIRES_PAYMENT, Payment.Status.PROCESSING)), None
        ),
        "is_overdue": is_open and invoice.due_date < django_timezone.localdate(),
        "can_pay": side == CLIENT and is_open and invoice.amount_due > 0,
        "can_credit": side == ISSUER and is_open and invoice.amount_due > 0,
        "worker_fee_pct": (invoice.worker_fee * 100 / invoice.subtotal).quantize(Decimal("0.01"))
        if invoice.subtotal
        else Decimal(0),
        "issuer_credited": sum((note.worker_net_part for note in credit_notes), Decimal(0)),
        "issuer_net": invoice.worker_net - sum((note.worker_net_part for note in credit_notes), Decimal(0)),
        "amount_settled": invoice.total - invoice.credited,
        "today": django_timezone.localdate(),
        "back_url": _invoice_back_url(invoice, side),
    }
    if context["can_credit"] and "credit_form" not in extra:
        context["credit_form"] = CreditNoteForm(amount_due=invoice.amount_due, currency=invoice.currency)
    context.update(extra)
    return context


@login_required
@require_GET
def invoice_detail(request: AuthenticatedHttpRequest, invoice_id: int) -> HttpResponse:
    return render(request, "billing/invoice_detail.html", _invoice_context(request, invoice_id))


@login_required
@require_GET
def invoice_print(request: AuthenticatedHttpRequest, invoice_id: int) -> HttpResponse:
    return render(request, "billing/invoice_print.html", _invoice_context(request, invoice_id))


@login_required
@require_POST
def invoice_pay(request: AuthenticatedHttpRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_get(invoice_id=invoice_id, user=request.user)
    payment = services.payment_start_for_invoice(invoice_id=invoice.pk, by=request.user)
    return redirect("billing:payment_pay", payment_id=payment.pk)


@login_required
@require_POST
def invoice_credit(request: AuthenticatedHttpRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_get(invoice_id=invoice_id, user=request.user)
    form = CreditNoteForm(request.POST, amount_due=invoice.amount_due, currency=invoice.currency)
    if form.is_valid():
        try:
            note = services.invoice_credit(
                invoice_id=invoice.pk,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            issued = f"Credit note {note.number} issued: {note.amount} {note.currency} off invoice {invoice.number}."
            messages.success(request, issued)
            return redirect("billing:invoice_detail", invoice_id=invoice.pk)
    context = _invoice_context(request, invoice_id, credit_form=form)
    return render(request, "billing/invoice_detail.html", context, status=400)
