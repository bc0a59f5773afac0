"""Billing admin for finance staff: payouts (failed first, retried or canceled through the services), invoices with
their lines and credit notes, payments and refunds (refunding through the service), the ledger (read-only for
everyone, superusers too: the database refuses changes anyway), Stripe webhook events (failed ones processed
again), payout accounts, and fee rates (the one table edited by hand, each change audited). The reconciliation
page compares the ledger with Stripe (billing/reconciliation.py).

Every write is one service call; a refusal (ApplicationError) becomes an error message, never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import stripe
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html

from billing.models import (
    CreditNote,
    FeeRate,
    Invoice,
    InvoiceLine,
    LedgerAccount,
    LedgerLine,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutAccount,
    Refund,
    StripeEvent,
)
from billing.reconciliation import reconciliation_run
from billing.services import payout_cancel, payout_retry, refund_create, stripe_event_process
from core.errors import ApplicationError
from core.money import Money
from core.services import audit_record

ALERT = "color: #ba2121; font-weight: bold"


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else str(Money(amount, currency))


def _owner(row: Any) -> str:
    """A payee or ledger account owner: the person or the organisation (both select_related by the caller)."""
    owner = row.user or row.organization
    return str(owner) if owner else "Platform"


def _short(text: str, length: int = 80) -> str:
    return text if len(text) <= length else f"{text[: length - 1]}…"


def _confirmation(
    model_admin: admin.ModelAdmin, request: HttpRequest, template: str, title: str, **context: Any
) -> TemplateResponse:
    """The intermediate page of an action that asks for input (posted back to the same action with `apply`)."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            **context,
        },
    )


# --- payouts ------------------------------------------------------------------------------------------------------
PAYOUT_ATTENTION = Case(
    When(status=Payout.Status.FAILED, then=Value(0)),
    When(status=Payout.Status.PENDING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


class CancelPayoutsForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on the payout and in the audit trail. The payee's balance stays payable.",
    )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "status_display",
        "payee",
        "amount_display",
        "attempts",
        "manual_retries",
        "last_error_display",
        "stripe_transfer_id",
        "created_at",
        "paid_at",
    )
    list_display_links = ("id", "status_display")
    list_filter = ("status", "currency")
    search_fields = (
        "user__email",
        "user__full_name",
        "organization__name",
        "stripe_transfer_id",
        "payout_account__stripe_account_id",
    )
    list_select_related = ("user", "organization")
    actions = ("retry_failed_payouts", "cancel_failed_payouts")
    change_list_template = "admin/billing/payout/change_list.html"

    def get_ordering(self, request: HttpRequest) -> tuple[Any, ...]:
        # Failed payouts need someone; queued ones next; then the rest, newest first.
        return (PAYOUT_ATTENTION.asc(), "-created_at")

    @admin.display(description="Status", ordering=PAYOUT_ATTENTION)
    def status_display(self, payout: Payout) -> str:
        if payout.status == Payout.Status.FAILED:
            return format_html('<span style="{}">{}</span>', ALERT, payout.get_status_display())
        return payout.get_status_display()

    @admin.display(description="Payee")
    def payee(self, payout: Payout) -> str:
        return _owner(payout)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payout: Payout) -> str:
        return _money(payout.amount, payout.currency)

    @admin.display(description="Last error")
    def last_error_display(self, payout: Payout) -> str:
        return _short(payout.last_error)

    @admin.action(description="Retry failed payouts", permissions=["manage"])
    def retry_failed_payouts(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        retried = 0
        for payout_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                payout_retry(payout_id=payout_id, by=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"Payout {payout_id}: {error.message}", messages.ERROR)
            else:
                retried += 1
        if retried:
            self.message_user(
                request, f"{retried} payout(s) queued to be sent again with a new transfer key.", messages.SUCCESS
            )

    @admin.action(description="Cancel failed payouts", permissions=["manage"])
    def cancel_failed_payouts(self, request: HttpRequest, queryset: QuerySet[Payout]) -> HttpResponse | None:
        selected = list(queryset.select_related("user", "organization").order_by("pk"))
        form = CancelPayoutsForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            canceled = 0
            for payout in selected:
                try:
                    payout_cancel(payout_id=payout.pk, by=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
                except ApplicationError as error:
                    self.message_user(request, f"Payout {payout.pk}: {error.message}", messages.ERROR)
                else:
                    canceled += 1
            if canceled:
                self.message_user(
                    request,
                    f"Cancelled {canceled} payout(s); what they held stays payable to the payee.",
                    messages.SUCCESS,
                )
            return None
        failed = [payout for payout in selected if payout.status == Payout.Status.FAILED]
        if not failed:
            self.message_user(request, "None of the selected payouts has failed; only failed ones can be canceled.")
            return None
        return _confirmation(
            self,
            request,
            "admin/billing/cancel_payouts.html",
            "Cancel failed payouts",
            failed=failed,
            others=[payout for payout in selected if payout.status != Payout.Status.FAILED],
            selected=selected,
            form=form,
            action="cancel_failed_payouts",
        )

    def has_manage_permission(self, request: HttpRequest) -> bool:
        # The change form stays closed (ReadOnlyAdminMixin); "change" on payouts means these two actions.
        return request.user.has_perm("billing.change_payout")

    # --- reconciliation -----------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        reconciliation = path(
            "reconciliation/",
            self.admin_site.admin_view(self.reconciliation_view),
            name="billing_reconciliation",
        )
        return [reconciliation, *super().get_urls()]

    def has_reconciliation_permission(self, request: HttpRequest) -> bool:
        # It shows the ledger's totals and every account's balance next to Stripe's: finance, not support.
        return request.user.has_perm("billing.view_payout") and request.user.has_perm("billing.view_ledgertransaction")

    def reconciliation_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_reconciliation_permission(request):
            raise PermissionDenied
        result = reconciliation_run()
        for error in result.stripe_errors:
            messages.error(request, error)
        return TemplateResponse(
            request,
            "admin/billing/reconciliation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reconciliation: the ledger and Stripe",
                "opts": self.model._meta,
                "result": result,
                "checked_at": timezone.now(),
            },
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_reconcile": self.has_reconciliation_permission(request)}
        return super().changelist_view(request, extra_context)


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "stripe_account_id",
        "owner",
        "country",
        "details_submitted",
        "payouts_enabled",
        "requirements",
        "hold_until",
        "synced_at",
    )
    list_filter = ("payouts_enabled", "details_submitted", "country")
    search_fields = ("stripe_account_id", "user__email", "user__full_name", "organization__name")
    list_select_related = ("user", "organization")

    @admin.display(description="Payee")
    def owner(self, account: PayoutAccount) -> str:
        return _owner(account)

    @admin.display(description="Stripe needs")
    def requirements(self, account: PayoutAccount) -> str:
        return ", ".join(account.requirements_due) or account.disabled_reason or "—"


# --- invoices -----------------------------------------------------------------------------------------------------
class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ("position", "kind", "description", "quantity", "unit", "unit_price", "amount")


class CreditNoteInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditNote
    extra = 0
    fields = ("number", "amount", "fee_part", "worker_net_part", "reason", "created_by", "created_at")
    readonly_fields = ("created_at",)


class InvoicePaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ("stripe_payment_intent_id", "status", "amount", "refunded_amount", "succeeded_at")
    verbose_name_plural = "payments"
    show_change_link = True


class OverdueFilter(admin.SimpleListFilter):
    title = "payment"
    parameter_name = "payment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("open", "Waiting for payment")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        if self.value() == "overdue":
            return queryset.filter(status=Invoice.Status.ISSUED, due_date__lt=timezone.localdate())
        if self.value() == "open":
            return queryset.filter(status=Invoice.Status.ISSUED)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "issuer_name",
        "bill_to_name",
        "kind",
        "total_display",
        "credited_display",
        "status_display",
        "issued_at",
        "due_date",
    )
    list_filter = (OverdueFilter, "status", "kind", "currency")
    search_fields = ("number", "issuer_name", "bill_to_name", "source_key")
    date_hierarchy = "issued_at"
    inlines = (InvoiceLineInline, CreditNoteInline, InvoicePaymentInline)

    @admin.display(description="Total", ordering="total")
    def total_display(self, invoice: Invoice) -> str:
        return _money(invoice.total, invoice.currency)

    @admin.display(description="Credited", ordering="credited")
    def credited_display(self, invoice: Invoice) -> str:
        return _money(invoice.credited, invoice.currency) if invoice.credited else "—"

    @admin.display(description="Status", ordering="status")
    def status_display(self, invoice: Invoice) -> str:
        if invoice.status == Invoice.Status.ISSUED and invoice.due_date < timezone.localdate():
            return format_html('<span style="{}">Overdue</span>', ALERT)
        return invoice.get_status_display()


# --- payments and refunds -----------------------------------------------------------------------------------------
class RefundForm(forms.Form):
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=2,
        help_text="Empty: everything that can still be refunded (work and marketplace fee).",
    )
    reason = forms.CharField(max_length=300, help_text="The client and the audit trail see this.")


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    extra = 0
    fields = ("stripe_refund_id", "amount", "status", "reason", "created_by", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "stripe_payment_intent_id",
        "organization",
        "paid_for",
        "amount_display",
        "refunded_display",
        "status",
        "succeeded_at",
        "created_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("stripe_payment_intent_id", "organization__name", "invoice__number")
    list_select_related = ("organization", "invoice")
    date_hierarchy = "created_at"
    inlines = (RefundInline,)
    actions = ("refund_payments",)

    @admin.display(description="For")
    def paid_for(self, payment: Payment) -> str:
        if payment.invoice is not None:
            return f"Invoice {payment.invoice.number}"
        return f"Milestone {payment.milestone_id}"

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        return _money(payment.amount, payment.currency)

    @admin.display(description="Refunded", ordering="refunded_amount")
    def refunded_display(self, payment: Payment) -> str:
        return _money(payment.refunded_amount, payment.currency) if payment.refunded_amount else "—"

    @admin.action(description="Refund", permissions=["refund"])
    def refund_payments(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        selected = list(queryset.select_related("organization").order_by("pk"))
        form = RefundForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            amount = form.cleaned_data["amount"]
            if amount is not None and len(selected) > 1:
                form.add_error("amount", "Select one payment to refund a part of it; empty refunds each in full.")
            else:
                self._refund(request, selected, amount, form.cleaned_data["reason"])
                return None
        return _confirmation(
            self,
            request,
            "admin/billing/refund_payments.html",
            "Refund payments",
            payments=selected,
            form=form,
            action="refund_payments",
        )

    def _refund(self, request: HttpRequest, payments: list[Payment], amount: Decimal | None, reason: str) -> None:
        for payment in payments:
            try:
                refund = refund_create(payment_id=payment.pk, amount=amount, reason=reason, by=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, f"{payment.stripe_payment_intent_id}: {error.message}", messages.ERROR)
                continue
            refund.refresh_from_db()  # Stripe may have confirmed it at once
            self.message_user(
                request,
                f"{payment.stripe_payment_intent_id}: refund {refund.stripe_refund_id} of "
                f"{_money(refund.amount, refund.currency)} {refund.get_status_display().lower()}.",
                messages.SUCCESS,
            )

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.add_refund")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("stripe_refund_id", "payment", "amount_display", "status", "reason", "created_by", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("stripe_refund_id", "payment__stripe_payment_intent_id", "reason")
    list_select_related = ("payment", "created_by")

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return _money(refund.amount, refund.currency)


# --- Stripe webhook events ----------------------------------------------------------------------------------------
@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "event_id",
        "type",
        "status_display",
        "attempts",
        "error_display",
        "account",
        "stripe_created_at",
        "processed_at",
    )
    list_filter = ("status", "type")
    search_fields = ("event_id", "type", "account", "error")
    date_hierarchy = "received_at"
    actions = ("process_again",)

    @admin.display(description="Status", ordering="status")
    def status_display(self, event: StripeEvent) -> str:
        if event.status == StripeEvent.Status.FAILED:
            return format_html('<span style="{}">{}</span>', ALERT, event.get_status_display())
        return event.get_status_display()

    @admin.display(description="Error")
    def error_display(self, event: StripeEvent) -> str:
        return _short(event.error)

    @admin.action(description="Process again", permissions=["process"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        events = list(queryset.order_by("stripe_created_at", "pk").values_list("event_id", "status"))
        done = [
            event_id
            for event_id, status in events
            if status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED)
        ]
        if done:
            self.message_user(
                request, f"{len(done)} event(s) were already processed or ignored; left alone.", messages.WARNING
            )
        for event_id, _status in events:
            if event_id in done:
                continue
            try:
                outcome = stripe_event_process(event_id=event_id)
            except (ApplicationError, stripe.StripeError) as error:
                self.message_user(request, f"{event_id}: {error}", messages.ERROR)
                continue
            if outcome == StripeEvent.Status.FAILED:
                reason = StripeEvent.objects.filter(event_id=event_id).values_list("error", flat=True).first()
                self.message_user(request, f"{event_id}: failed again. {reason}", messages.ERROR)
            else:
                self.message_user(request, f"{event_id}: {outcome}.", messages.SUCCESS)

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_stripeevent")


# --- the ledger ---------------------------------------------------------------------------------------------------
class LedgerLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerLine
    extra = 0
    fields = ("account", "debit", "credit", "currency")
    readonly_fields = ("debit", "credit")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerLine]:
        return super().get_queryset(request).select_related("account__organization", "account__user")

    @admin.display(description="Debit")
    def debit(self, line: LedgerLine) -> str:
        return str(line.amount) if line.amount > 0 else ""

    @admin.display(description="Credit")
    def credit(self, line: LedgerLine) -> str:
        return str(-line.amount) if line.amount < 0 else ""


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "posted_at", "kind", "reference", "description", "organization", "reverses")
    list_filter = ("kind",)
    search_fields = ("reference", "description", "organization__name")
    list_select_related = ("organization", "reverses")
    date_hierarchy = "posted_at"
    inlines = (LedgerLineInline,)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "owner", "currency", "balance_display", "may_go_negative", "created_at")
    list_filter = ("kind", "currency")
    search_fields = ("organization__name", "user__email", "user__full_name")
    list_select_related = ("organization", "user")

    @admin.display(description="Owner")
    def owner(self, account: LedgerAccount) -> str:
        return _owner(account)

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, account: LedgerAccount) -> str:
        return _money(account.balance, account.currency)


# --- fees ---------------------------------------------------------------------------------------------------------
class FeeRateForm(forms.ModelForm):
    class Meta:
        model = FeeRate
        fields = ("organization", "client_fee_pct", "worker_fee_pct", "note")

    def _percentage(self, name: str) -> Decimal:
        value: Decimal = self.cleaned_data[name]
        if not Decimal(0) <= value <= Decimal(50):
            raise forms.ValidationError("Enter a percentage from 0 to 50.")
        return value

    def clean_client_fee_pct(self) -> Decimal:
        return self._percentage("client_fee_pct")

    def clean_worker_fee_pct(self) -> Decimal:
        return self._percentage("worker_fee_pct")

    def clean_organization(self) -> Any:
        organization = self.cleaned_data["organization"]
        others = FeeRate.objects.exclude(pk=self.instance.pk)
        if organization is None and others.filter(organization__isnull=True).exists():
            raise forms.ValidationError(
                "There is already a platform default; change that one, or choose an organisation."
            )
        if organization is not None and others.filter(organization=organization).exists():
            raise forms.ValidationError(f"{organization} already has its own rates; change those instead.")
        return organization


@admin.register(FeeRate)
class FeeRateAdmin(admin.ModelAdmin):
    form = FeeRateForm
    list_display = ("owner", "client_fee_pct", "worker_fee_pct", "note", "updated_by", "updated_at")
    search_fields = ("organization__name", "note")
    list_select_related = ("organization", "updated_by")
    ordering = (F("organization__name").asc(nulls_first=True),)
    autocomplete_fields = ("organization",)
    readonly_fields = ("updated_by", "updated_at")

    @admin.display(description="Applies to")
    def owner(self, rate: FeeRate) -> str:
        return str(rate.organization) if rate.organization_id else "Platform default"

    def has_delete_permission(self, request: HttpRequest, obj: FeeRate | None = None) -> bool:
        # Every invoice needs a default to fall back on; an organisation's own rates can go.
        if obj is not None and obj.organization_id is None:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: FeeRate, form: forms.ModelForm, change: bool) -> None:
        # A configuration row without a service of its own: recorded here, inside the admin's transaction.
        changes = {
            name: {"from": str(form.initial.get(name, "")), "to": str(form.cleaned_data.get(name, ""))}
            for name in form.changed_data
        }
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="fee_rate.changed" if change else "fee_rate.created",
            target=obj,
            organization=obj.organization,
            data={
                "client_fee_pct": str(obj.client_fee_pct),
                "worker_fee_pct": str(obj.worker_fee_pct),
                "changes": changes,
            },
        )

    def delete_model(self, request: HttpRequest, obj: FeeRate) -> None:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="fee_rate.deleted",
            target=obj,
            organization=obj.organization,
            data={"client_fee_pct": str(obj.client_fee_pct), "worker_fee_pct": str(obj.worker_fee_pct)},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FeeRate]) -> None:
        for rate in queryset.select_related("organization"):
            self.delete_model(request, rate)
