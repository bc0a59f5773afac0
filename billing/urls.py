from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("billing/", views.client_billing, name="client_billing"),
    path("billing/invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("billing/invoices/<int:invoice_id>/print/", views.invoice_print, name="invoice_print"),
    path("billing/invoices/<int:invoice_id>/pay/", views.invoice_pay, name="invoice_pay"),
    path("billing/invoices/<int:invoice_id>/credit/", views.invoice_credit, name="invoice_credit"),
    path("billing/earnings/", views.earnings, name="earnings"),
    # Both names are part of the Stripe onboarding links billing.services.payouts builds.
    path("billing/payout-account/start/", views.payout_account_start, name="payout_account_start"),
    path("billing/payout-account/return/", views.payout_account_return, name="payout_account_return"),
    path("billing/fees/gigs/<int:gig_id>/", views.fee_preview, name="fee_preview"),
    path("billing/payments/<int:payment_id>/pay/", views.payment_pay, name="payment_pay"),
    path("billing/payments/<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
