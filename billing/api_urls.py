"""Routes of the billing API under /api/v1/ (views in the app's api module)."""

from django.urls import path

from billing import api

urlpatterns = [
    path("invoices/", api.InvoiceListApi.as_view(), name="api-invoice-list"),
    path("invoices/<int:invoice_id>/", api.InvoiceDetailApi.as_view(), name="api-invoice-detail"),
    path("invoices/<int:invoice_id>/pay-link/", api.InvoicePayLinkApi.as_view(), name="api-invoice-pay-link"),
    path("payouts/", api.PayoutListApi.as_view(), name="api-payout-list"),
]
