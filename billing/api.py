"""Partner API of billing: invoices (list, detail with lines and credit notes, a link where a person pays one) and
payouts.

Views translate: they read the request, call the one selector or service the billing pages call, and write the
result out. An invoice is seen from one of two sides: the client organisation it bills (`side` "client"), or its
issuer, the freelancer or vendor firm (`side` "issuer"); the service fee kept from the issuer's earnings is shown
to the issuer only, as on the invoice page.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organization_list_for_user
from billing.models import CreditNote, Invoice, InvoiceLine, Payment, Payout
from billing.selectors import invoice_get, invoice_list_for_user, payout_list_for_user
from billing.services import payment_start_for_invoice
from core.types import api_user

CLIENT, ISSUER = "client", "issuer"

# --- invoices -----------------------------------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="work, sla_credit, sla_bonus or marketplace_fee")

    class Meta:
        model = InvoiceLine
        fields = ["kind", "description", "quantity", "unit", "unit_price", "amount"]
        read_only_fields = fields


class InvoiceCreditNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNote
        fields = ["id", "number", "amount", "currency", "reason", "created_at"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice as its caller's side sees it, with its lines and credit notes."""

    side = serializers.SerializerMethodField(help_text="client (the caller's organisation is billed) or issuer")
    kind = serializers.CharField(read_only=True, help_text="hourly_week, milestone, micro_task_week or sow_month")
    organization_id = serializers.IntegerField(read_only=True, help_text="The client organisation billed.")
    contract_id = serializers.IntegerField(read_only=True, allow_null=True)
    sow_id = serializers.IntegerField(read_only=True, allow_null=True)
    amount_due = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    worker_fee = serializers.SerializerMethodField(
        help_text="The service fee kept from the issuer's earnings: shown to the issuer only (null for the client)."
    )
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = InvoiceCreditNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "side",
            "kind",
            "status",
            "organization_id",
            "bill_to_name",
            "issuer_name",
            "contract_id",
            "sow_id",
            "period_start",
            "period_end",
            "currency",
            "subtotal",
            "client_fee",
            "total",
            "credited",
            "amount_due",
            "worker_fee",
            "issued_at",
            "due_date",
            "paid_at",
            "lines",
            "credit_notes",
        ]
        read_only_fields = fields

    def _side(self, invoice: Invoice) -> str:
        return CLIENT if invoice.organization_id in self.context["organization_ids"] else ISSUER

    def get_side(self, invoice: Invoice) -> str:
        return self._side(invoice)

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_worker_fee(self, invoice: Invoice) -> Any:
        if self._side(invoice) == CLIENT:
            return None
        return serializers.DecimalField(max_digits=14, decimal_places=2).to_representation(invoice.worker_fee)


def _invoice_context(request: Request) -> dict[str, Any]:
    """Which side of each invoice the caller is on: the organisations they belong to (one query)."""
    ids = set(organization_list_for_user(user=api_user(request)).values_list("pk", flat=True))
    return {"request": request, "organization_ids": ids}


def _details() -> list[Prefetch[Any]]:
    """An invoice's lines in their order and its credit notes, oldest first (one query each for a whole page)."""
    return [
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")),
        Prefetch("credit_notes", queryset=CreditNote.objects.order_by("created_at", "id")),
    ]


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices)

    class Meta:
        model = Invoice
        fields = ["status"]


class InvoiceListApi(generics.ListAPIView):
    """Invoices the caller's organisation received, and those the caller (a freelancer) or their firm issued."""

    scope_area = "billing"
    queryset = Invoice.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Invoice]:
        return invoice_list_for_user(user=api_user(self.request)).prefetch_related(*_details())

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_invoice_context(self.request)}


class InvoiceDetailApi(APIView):
    scope_area = "billing"

    @extend_schema(responses=InvoiceSerializer)
    def get(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(invoice_id=invoice_id, user=api_user(request))
        prefetch_related_objects([invoice], *_details())
        return Response(InvoiceSerializer(invoice, context=_invoice_context(request)).data)


class InvoicePayLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The page where a signed-in member of the organisation pays with a card.")
    payment_id = serializers.IntegerField()
    payment_status = serializers.ChoiceField(choices=Payment.Status.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()


class InvoicePayLinkApi(APIView):
    """Start paying an issued invoice (or reuse the payment already started): the link of its payment page, the one
    the invoice page's Pay button leads to. A member of the billed organisation opens it and pays there."""

    scope_area = "billing"

    @extend_schema(request=None, responses=InvoicePayLinkSerializer)
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(invoice_id=invoice_id, user=api_user(request))
        payment = payment_start_for_invoice(invoice_id=invoice.pk, by=api_user(request))
        body = {
            "url": request.build_absolute_uri(reverse("billing:payment_pay", args=[payment.pk])),
            "payment_id": payment.pk,
            "payment_status": payment.status,
            "amount": payment.amount,
            "currency": payment.currency,
        }
        return Response(InvoicePayLinkSerializer(body).data)


# --- payouts ------------------------------------------------------------------------------------------------------


class PayoutSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The vendor firm paid, or null for the freelancer themselves."
    )

    class Meta:
        model = Payout
        fields = ["id", "organization_id", "amount", "currency", "status", "created_at", "paid_at"]
        read_only_fields = fields


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Payout.Status.choices)

    class Meta:
        model = Payout
        fields = ["status"]


class PayoutListApi(generics.ListAPIView):
    """The caller's payouts: a freelancer's own, or their vendor firm's (owners, admins and finance)."""

    scope_area = "billing"
    queryset = Payout.objects.none()  # the model, for the schema; get_queryset scopes to the caller
    serializer_class = PayoutSerializer
    filterset_class = PayoutFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[Payout]:
        return payout_list_for_user(user=api_user(self.request))
