"""Paying (a milestone's escrow or an invoice) and following a payment until Stripe confirms it; the Stripe
webhook endpoint."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import services
from billing.models import Payment
from billing.selectors import payment_get
from billing.services.payments import TEST_PAYMENT_METHODS
from billing.stripe_client import uses_standin
from core.errors import ApplicationError
from core.types import AuthenticatedHttpRequest


def _back_url(payment: Payment) -> str:
    if payment.milestone_id is not None and payment.milestone is not None:
        return reverse("engagements:contract_detail", args=[payment.milestone.contract_id])
    return reverse("billing:invoice_detail", args=[payment.invoice_id])


def _test_mode() -> bool:
    from django.conf import settings

    return uses_standin() or settings.STRIPE_SECRET_KEY.startswith("sk_test_")


@login_required
@require_http_methods(["GET", "POST"])
def payment_pay(request: AuthenticatedHttpRequest, payment_id: int) -> HttpResponse:
    payment = payment_get(payment_id=payment_id, user=request.user)
    if payment.status == Payment.Status.SUCCEEDED:
        return redirect("billing:payment_detail", payment_id=payment.pk)
    error = ""
    if request.method == "POST":
        method = request.POST.get("payment_method", "")
        if method not in TEST_PAYMENT_METHODS or not _test_mode():
            error = "Choose a card."
        else:
            try:
                services.payment_confirm(payment_id=payment.pk, payment_method=method, by=request.user)
            except ApplicationError as refusal:
                if refusal.code != "card_declined":
                    raise
                error = refusal.message
            else:
                return redirect("billing:payment_detail", payment_id=payment.pk)
    context = {
        "payment": payment,
        "back_url": _back_url(payment),
        "test_mode": _test_mode(),
        "cards": TEST_PAYMENT_METHODS.items(),
        "error": error,
    }
    return render(request, "billing/payment_pay.html", context, status=400 if error else 200)


@login_required
@require_GET
def payment_detail(request: AuthenticatedHttpRequest, payment_id: int) -> HttpResponse:
    payment = payment_get(payment_id=payment_id, user=request.user)
    context = {"payment": payment, "back_url": _back_url(payment)}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "billing/payment_detail.html#status", context)
    return render(request, "billing/payment_detail.html", context)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe calls this; the signature is the authentication. 400 tells Stripe (and anyone probing) why a
    request was refused; 200 acknowledges a stored event, or a duplicate of one."""
    try:
        event = services.stripe_event_record(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except ApplicationError as error:
        return JsonResponse({"error": error.message, "code": error.code}, status=400)
    return JsonResponse({"received": True, "duplicate": event is None})
