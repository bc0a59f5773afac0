"""Billing admin for finance staff: lists at a constant query cost, the payout, refund and webhook actions going
through the services and answering with messages (refusals too), the ledger read-only for everyone, fee rates
edited with validation and an audit trail, the reconciliation page finding planted mismatches, and Support kept
out of what is not theirs."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.staff_groups import FINANCE, SUPPORT
from billing import services
from billing.models import (
    FeeRate,
    Invoice,
    LedgerAccount,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutAccount,
    Refund,
    StripeEvent,
)
from billing.services.payments import stripe_api
from core.models import AuditEvent
from engagements.services import (
    MilestoneInput,
    milestone_approve,
    milestone_create,
    milestone_release,
    milestone_submit,
)
from tests.factories import OrganizationFactory, UserFactory
from tests.oncommit import task_callbacks

pytestmark = pytest.mark.django_db

ADMIN = "/admin/billing/{}/"
RECONCILIATION = "/admin/billing/payout/reconciliation/"
MODELS = [
    "payout",
    "payoutaccount",
    "invoice",
    "payment",
    "refund",
    "stripeevent",
    "ledgertransaction",
    "ledgeraccount",
    "feerate",
]


def _staff(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def finance_client(client):
    client.force_login(_staff(FINANCE))
    return client


@pytest.fixture
def money(hire, stripe_standin, fund_milestone, deliver_stripe_events):
    """populate() runs one contract's money end to end through the services and the stand-in: a 400.00 milestone
    funded and released, a 200.00 one funded and 50.00 of it refunded, the freelancer's payout account
    connected, and the payout of 360.00 created (not sent; `send=True` sends it)."""

    def populate(*, send: bool = False) -> SimpleNamespace:
        contract, member, freelancer = hire()
        first = milestone_create(
            contract_id=contract.pk, data=MilestoneInput(title="Build", amount=Decimal("400.00")), by=member.user
        )
        second = milestone_create(
            contract_id=contract.pk, data=MilestoneInput(title="Polish", amount=Decimal("200.00")), by=member.user
        )
        fund_milestone(first.pk, member.user)
        fund_milestone(second.pk, member.user)
        milestone_submit(milestone_id=first.pk, by=freelancer)
        milestone_approve(milestone_id=first.pk, by=member.user)
        milestone_release(milestone_id=first.pk, by=member.user)
        refunded = Payment.objects.get(milestone=second)
        services.refund_create(payment_id=refunded.pk, amount=Decimal("50.00"), reason="Smaller scope", by=None)
        account = stripe_api().v1.accounts.create(params={"type": "express", "country": "GB", "email": "w@x.test"})
        PayoutAccount.objects.create(user=freelancer, stripe_account_id=account.id, country="GB")
        stripe_standin.complete_onboarding(account.id)
        deliver_stripe_events()
        (payout_id,) = services.payouts_create_due()
        if send:
            services.payout_send(payout_id=payout_id)
            deliver_stripe_events()
        return SimpleNamespace(
            contract=contract,
            client=member.user,
            freelancer=freelancer,
            payment=Payment.objects.get(milestone=first),
            refunded=refunded,
            payout=Payout.objects.get(pk=payout_id),
        )

    return populate


def _failed(payout: Payout) -> Payout:
    """Fail a queued payout the way production does: its payee is on hold (a changed sign-in email), so sending
    refuses."""
    services.payout_hold_start(user=payout.user)
    return services.payout_send(payout_id=payout.pk)


def _messages(response) -> list[tuple[str, str]]:
    return [(message.tags, str(message)) for message in response.context["messages"]]


def _action(client, model: str, action: str, ids: list[int], **data):
    return client.post(ADMIN.format(model), {"action": action, "_selected_action": ids, **data}, follow=True)


# --- lists --------------------------------------------------------------------------------------------------------
def _get_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(queries)


def test_every_billing_list_costs_the_same_queries_for_one_or_three_contracts(
    finance_client, money, django_assert_max_num_queries
) -> None:
    money(send=True)
    costs = {model: _get_counting_queries(finance_client, ADMIN.format(model))[1] for model in MODELS}
    money(send=True)
    money()

    for model in MODELS:
        with django_assert_max_num_queries(costs[model]):
            response = finance_client.get(ADMIN.format(model))
        assert response.status_code == 200, model
        assert finance_client.get(ADMIN.format(model), {"q": "a"}).status_code == 200, model

    assert finance_client.get(ADMIN.format("payout")).context["cl"].result_count == 3
    assert finance_client.get(ADMIN.format("payment")).context["cl"].result_count == 6


def test_failed_payouts_come_first_and_stand_out(finance_client, money) -> None:
    paid = money(send=True).payout
    queued = money().payout
    failed = _failed(money().payout)

    response = finance_client.get(ADMIN.format("payout"))

    assert [payout.pk for payout in response.context["cl"].result_list] == [failed.pk, queued.pk, paid.pk]
    assert failed.status == "failed" and "Payouts are on hold until" in failed.last_error
    page = response.content.decode()
    assert '<span style="color: #ba2121; font-weight: bold">Failed</span>' in page
    assert "Reconciliation with Stripe" in page


def test_detail_pages_show_lines_credit_notes_and_refunds_read_only(finance_client, money) -> None:
    flow = money(send=True)
    receipt = Invoice.objects.filter(contract=flow.contract).order_by("pk").first()
    transaction = LedgerTransaction.objects.get(reference=f"payout:{flow.payout.pk}")

    invoice_page = finance_client.get(f"{ADMIN.format('invoice')}{receipt.pk}/change/")
    payment_page = finance_client.get(f"{ADMIN.format('payment')}{flow.refunded.pk}/change/")
    ledger_page = finance_client.get(f"{ADMIN.format('ledgertransaction')}{transaction.pk}/change/")

    assert invoice_page.status_code == payment_page.status_code == ledger_page.status_code == 200
    assert "Milestone: Build" in invoice_page.content.decode()
    assert "Smaller scope" in payment_page.content.decode()
    assert "Freelancer payable" in ledger_page.content.decode()
    assert 'name="_save"' not in invoice_page.content.decode() + ledger_page.content.decode()


# --- payouts ------------------------------------------------------------------------------------------------------
def test_retry_sends_a_failed_payout_again_and_refuses_the_others_with_a_message(
    finance_client, money, django_capture_on_commit_callbacks
) -> None:
    failed = _failed(money().payout)
    paid = money(send=True).payout

    with django_capture_on_commit_callbacks() as callbacks:
        response = _action(finance_client, "payout", "retry_failed_payouts", [failed.pk, paid.pk])

    assert response.status_code == 200
    assert _messages(response) == [
        ("error", f"Payout {paid.pk}: Only a failed payout can be retried."),
        ("success", "1 payout(s) queued to be sent again with a new transfer key."),
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.manual_retries, failed.idempotency_key) == (
        "pending",
        1,
        f"payout-{failed.pk}-retry-1",
    )
    assert len(task_callbacks(callbacks)) == 1  # the send task, after the commit
    paid.refresh_from_db()
    assert (paid.status, paid.manual_retries) == ("paid", 0)


def test_cancel_asks_for_a_reason_then_cancels_only_failed_payouts(finance_client, money) -> None:
    failed = _failed(money().payout)
    queued = money().payout

    confirm = _action(finance_client, "payout", "cancel_failed_payouts", [failed.pk, queued.pk])
    without_reason = _action(finance_client, "payout", "cancel_failed_payouts", [failed.pk], apply="1", reason=" ")
    failed.refresh_from_db()
    status_before = failed.status
    done = _action(
        finance_client,
        "payout",
        "cancel_failed_payouts",
        [failed.pk, queued.pk],
        apply="1",
        reason="Payee closed their account; paying by bank transfer instead.",
    )

    assert confirm.templates[0].name == "admin/billing/cancel_payouts.html"
    page = confirm.content.decode()
    assert f"#{failed.pk}" in page and "Left alone (not failed)" in page
    assert without_reason.templates[0].name == "admin/billing/cancel_payouts.html"
    assert "This field is required." in without_reason.content.decode()
    assert status_before == "failed"
    assert _messages(done) == [
        ("error", f"Payout {queued.pk}: Only a failed payout can be canceled; a queued one may be sending."),
        ("success", "Cancelled 1 payout(s); what they held stays payable to the payee."),
    ]
    failed.refresh_from_db()
    queued.refresh_from_db()
    assert (failed.status, failed.last_error) == (
        "canceled",
        "Payee closed their account; paying by bank transfer instead.",
    )
    assert queued.status == "pending"
    assert AuditEvent.objects.filter(action="payout.canceled", target_id=str(failed.pk)).count() == 1


def test_retry_refused_by_the_service_is_an_error_message_not_a_500(finance_client, money) -> None:
    failed = _failed(money().payout)
    Payout.objects.filter(pk=failed.pk).update(amount=Decimal("9999.00"))  # more than the payee's balance

    response = _action(finance_client, "payout", "retry_failed_payouts", [failed.pk])

    assert response.status_code == 200
    assert _messages(response) == [
        ("error", f"Payout {failed.pk}: The payee's payable balance no longer covers this payout; cancel it instead.")
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.manual_retries) == ("failed", 0)


# --- payments and refunds -----------------------------------------------------------------------------------------
def test_finance_refunds_part_of_a_payment_through_stripe(finance_client, money, stripe_standin) -> None:
    flow = money()
    payment = flow.refunded  # 210.00 paid (200.00 and the 5 % fee), 50.00 of it refunded: 160.00 left

    confirm = _action(finance_client, "payment", "refund_payments", [payment.pk])
    response = _action(
        finance_client, "payment", "refund_payments", [payment.pk], apply="1", amount="21.00", reason="Late delivery"
    )

    assert confirm.templates[0].name == "admin/billing/refund_payments.html"
    refund = Refund.objects.filter(payment=payment).latest("created_at")
    assert _messages(response) == [
        (
            "success",
            f"{payment.stripe_payment_intent_id}: refund {refund.stripe_refund_id} of 21.00 USD refunded.",
        )
    ]
    payment.refresh_from_db()
    assert (refund.amount, refund.status, refund.reason) == (Decimal("21.00"), "succeeded", "Late delivery")
    assert payment.refunded_amount == Decimal("71.00")
    assert len(stripe_standin.objects("refund")) == 2


def test_a_refund_above_what_is_left_is_refused_with_a_message_and_nothing_moves(finance_client, money) -> None:
    payment, other = money().refunded, money().refunded
    clearing = LedgerAccount.objects.get(kind="processor_clearing").balance

    response = _action(
        finance_client, "payment", "refund_payments", [payment.pk], apply="1", amount="500.00", reason="Too much"
    )
    two = _action(
        finance_client,
        "payment",
        "refund_payments",
        [payment.pk, other.pk],
        apply="1",
        amount="5.00",
        reason="Which one?",
    )

    assert _messages(response) == [
        ("error", f"{payment.stripe_payment_intent_id}: Up to 160.00 USD of this payment can be refunded.")
    ]
    assert "Select one payment to refund a part of it" in two.content.decode()
    assert Refund.objects.count() == 2  # one per fixture flow
    assert LedgerAccount.objects.get(kind="processor_clearing").balance == clearing


def test_refunding_needs_the_add_refund_permission(client, money) -> None:
    payment = money().refunded
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(*_permissions("view_payment"))
    client.force_login(viewer)

    page = client.get(ADMIN.format("payment"))
    response = _action(client, "payment", "refund_payments", [payment.pk], apply="1", reason="Nope")

    assert page.status_code == 200
    assert page.context["action_form"] is None or "refund_payments" not in dict(
        page.context["action_form"].fields["action"].choices
    )
    assert response.status_code == 200
    assert Refund.objects.filter(payment=payment).count() == 1


def _permissions(*codenames: str):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="billing", codename__in=codenames)


# --- webhook events -----------------------------------------------------------------------------------------------
def test_process_again_handles_failed_events_and_leaves_processed_ones(finance_client, money) -> None:
    money()
    event = StripeEvent.objects.filter(type="payment_intent.succeeded").order_by("received_at").first()
    StripeEvent.objects.filter(pk=event.pk).update(status="failed", error="Database was restarting")
    processed = StripeEvent.objects.filter(status="processed").exclude(pk=event.pk).first()

    response = _action(finance_client, "stripeevent", "process_again", [event.pk, processed.pk])

    assert _messages(response) == [
        ("warning", "1 event(s) were already processed or ignored; left alone."),
        ("success", f"{event.event_id}: processed."),
    ]
    event.refresh_from_db()
    assert (event.status, event.error, event.attempts) == ("processed", "", 2)


def test_failed_events_are_listed_in_red_and_filtered(finance_client, money) -> None:
    money()
    event = StripeEvent.objects.order_by("received_at").first()
    StripeEvent.objects.filter(pk=event.pk).update(status="failed", error="Stripe reports 1.00 usd")

    response = finance_client.get(ADMIN.format("stripeevent"), {"status__exact": "failed"})

    assert [row.pk for row in response.context["cl"].result_list] == [event.pk]
    assert "Stripe reports 1.00 usd" in response.content.decode()


# --- the ledger ---------------------------------------------------------------------------------------------------
def test_nobody_adds_changes_or_deletes_ledger_rows_not_even_a_superuser(client, money) -> None:
    flow = money()
    transaction = LedgerTransaction.objects.filter(reference__startswith="payment:").first()
    account = LedgerAccount.objects.get(kind="worker_payable", user=flow.freelancer)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    statuses = {
        "add transaction": client.get(f"{ADMIN.format('ledgertransaction')}add/").status_code,
        "change transaction": client.post(
            f"{ADMIN.format('ledgertransaction')}{transaction.pk}/change/", {"description": "edited"}
        ).status_code,
        "delete transaction": client.post(
            f"{ADMIN.format('ledgertransaction')}{transaction.pk}/delete/", {"post": "yes"}
        ).status_code,
        "add account": client.get(f"{ADMIN.format('ledgeraccount')}add/").status_code,
        "change account": client.post(
            f"{ADMIN.format('ledgeraccount')}{account.pk}/change/", {"balance": "1000000"}
        ).status_code,
        "delete account": client.post(
            f"{ADMIN.format('ledgeraccount')}{account.pk}/delete/", {"post": "yes"}
        ).status_code,
    }
    view = client.get(f"{ADMIN.format('ledgertransaction')}{transaction.pk}/change/")

    assert statuses == {
        "add transaction": 403,
        "change transaction": 403,
        "delete transaction": 403,
        "add account": 403,
        "change account": 403,
        "delete account": 403,
    }
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert LedgerTransaction.objects.get(pk=transaction.pk).description == transaction.description
    account.refresh_from_db()
    assert account.balance == Decimal("360.00")


def test_ledger_accounts_list_balances_filtered_by_kind(finance_client, money) -> None:
    flow = money()

    response = finance_client.get(ADMIN.format("ledgeraccount"), {"kind__exact": "worker_payable"})

    rows = response.context["cl"].result_list
    assert [(row.user_id, row.balance) for row in rows] == [(flow.freelancer.pk, Decimal("360.00"))]
    assert "360.00 USD" in response.content.decode()


# --- fee rates ----------------------------------------------------------------------------------------------------
def test_finance_gives_an_organisation_its_own_rates_and_the_change_is_audited(finance_client) -> None:
    organization = OrganizationFactory(name="Acme Retail")

    response = finance_client.post(
        f"{ADMIN.format('feerate')}add/",
        {"organization": organization.pk, "client_fee_pct": "3.50", "worker_fee_pct": "8", "note": "Volume deal"},
        follow=True,
    )

    assert response.status_code == 200
    rate = FeeRate.objects.get(organization=organization)
    assert (rate.client_fee_pct, rate.worker_fee_pct, rate.updated_by) == (
        Decimal("3.50"),
        Decimal("8.00"),
        response.context["user"],
    )
    event = AuditEvent.objects.get(action="fee_rate.created")
    assert (event.target_id, event.organization_id) == (str(rate.pk), organization.pk)
    assert event.data["client_fee_pct"] == "3.50"


def test_fee_rates_out_of_range_or_a_second_default_are_refused_with_messages(finance_client) -> None:
    default = FeeRate.objects.get(organization__isnull=True)

    too_high = finance_client.post(
        f"{ADMIN.format('feerate')}add/",
        {"organization": OrganizationFactory().pk, "client_fee_pct": "60", "worker_fee_pct": "-1"},
    )
    second_default = finance_client.post(
        f"{ADMIN.format('feerate')}add/", {"organization": "", "client_fee_pct": "4", "worker_fee_pct": "9"}
    )

    assert too_high.status_code == second_default.status_code == 200  # the form again, with its errors
    assert too_high.context["adminform"].form.errors == {
        "client_fee_pct": ["Enter a percentage from 0 to 50."],
        "worker_fee_pct": ["Enter a percentage from 0 to 50."],
    }
    assert second_default.context["adminform"].form.errors == {
        "organization": ["There is already a platform default; change that one, or choose an organisation."]
    }
    assert list(FeeRate.objects.values_list("pk", flat=True)) == [default.pk]
    assert not AuditEvent.objects.filter(action__startswith="fee_rate.").exists()


def test_changing_the_platform_default_is_audited_with_what_changed(finance_client) -> None:
    default = FeeRate.objects.get(organization__isnull=True)

    finance_client.post(
        f"{ADMIN.format('feerate')}{default.pk}/change/",
        {"organization": "", "client_fee_pct": "6.00", "worker_fee_pct": "10.00", "note": default.note},
    )

    default.refresh_from_db()
    assert default.client_fee_pct == Decimal("6.00")
    event = AuditEvent.objects.get(action="fee_rate.changed")
    assert event.data["changes"] == {"client_fee_pct": {"from": "5.00", "to": "6.00"}}
    delete = finance_client.post(f"{ADMIN.format('feerate')}{default.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert FeeRate.objects.filter(pk=default.pk).exists()


# --- reconciliation -----------------------------------------------------------------------------------------------
def test_reconciliation_agrees_when_the_ledger_and_stripe_do(finance_client, money) -> None:
    money(send=True)
    _failed(money().payout)

    response = finance_client.get(RECONCILIATION)

    assert response.status_code == 200
    result = response.context["result"]
    assert result.mismatches == []
    assert sorted((finding.model, finding.ok) for finding in result.matches) == [
        ("payment", True),
        ("payment", True),
        ("payment", True),
        ("payment", True),
        ("payout", True),
        ("payout", True),
    ]
    assert result.ledger_is_consistent
    page = response.content.decode()
    assert "No mismatches with Stripe" in page
    assert f"All {LedgerTransaction.objects.count()} transactions balance" in page
    (usd,) = [total for total in result.totals if total.currency == "USD"]
    assert usd.clearing == LedgerAccount.objects.get(kind="processor_clearing", currency="USD").balance


def test_reconciliation_shows_planted_mismatches_first_with_an_explanation(finance_client, money) -> None:
    vanished = money(send=True).payout
    sent_but_failed = money(send=True).payout
    fine = money(send=True).payout
    # A payout paid here whose transfer Stripe does not have; another one failed here that Stripe did pay.
    Payout.objects.filter(pk=vanished.pk).update(stripe_transfer_id="tr_missing000000000000000")
    Payout.objects.filter(pk=sent_but_failed.pk).update(status="failed", stripe_transfer_id="", paid_at=None)

    response = finance_client.get(RECONCILIATION)

    result = response.context["result"]
    assert [(finding.object_id, finding.ok) for finding in result.findings[:2]] == [
        (vanished.pk, False),
        (sent_but_failed.pk, False),
    ]
    assert all(finding.ok for finding in result.findings[2:])
    assert fine.pk in [finding.object_id for finding in result.matches if finding.model == "payout"]
    page = response.content.decode()
    assert "2 mismatches with Stripe" in page
    assert "Stripe has no transfer tr_missing000000000000000" in page
    assert "Failed here, but Stripe made transfer" in page and "Do not retry it" in page
    assert page.index("mismatches with Stripe") < page.index("agree with Stripe")


def test_stripe_errors_on_the_reconciliation_page_are_messages_not_a_500(finance_client, money, stripe_standin) -> None:
    money(send=True)
    money()  # a queued payout: its transfers are looked up too
    stripe_standin.set_faults(
        {"transfers.list": "error_500", "payment_intents.list": "error_500", "balance.retrieve": "error_500"}
    )

    response = finance_client.get(RECONCILIATION)

    assert response.status_code == 200
    texts = [text for tag, text in _messages(response) if tag == "error"]
    assert len(texts) == 4
    assert all(text.startswith("Stripe") for text in texts)
    assert "All" in response.content.decode() and "transactions balance" in response.content.decode()


# --- who sees what ------------------------------------------------------------------------------------------------
def test_support_reads_invoices_and_payouts_only(client, money) -> None:
    flow = money()
    client.force_login(_staff(SUPPORT))

    statuses = {model: client.get(ADMIN.format(model)).status_code for model in MODELS}
    payouts = client.get(ADMIN.format("payout"))
    retry = _action(client, "payout", "retry_failed_payouts", [flow.payout.pk])

    assert statuses == {
        "payout": 200,
        "payoutaccount": 403,
        "invoice": 200,
        "payment": 403,
        "refund": 403,
        "stripeevent": 403,
        "ledgertransaction": 403,
        "ledgeraccount": 403,
        "feerate": 403,
    }
    assert client.get(RECONCILIATION).status_code == 403
    assert payouts.context["action_form"] is None or "retry_failed_payouts" not in dict(
        payouts.context["action_form"].fields["action"].choices
    )
    assert "Reconciliation with Stripe" not in payouts.content.decode()
    assert retry.status_code == 200
    flow.payout.refresh_from_db()
    assert flow.payout.status == "pending"


def test_staff_without_a_billing_group_get_403_everywhere(client) -> None:
    client.force_login(UserFactory(is_staff=True))

    statuses = {model: client.get(ADMIN.format(model)).status_code for model in MODELS}

    assert statuses == dict.fromkeys(MODELS, 403)
    assert client.get(RECONCILIATION).status_code == 403


def test_the_billing_index_links_the_reconciliation_for_finance(finance_client) -> None:
    response = finance_client.get("/admin/billing/")

    assert response.status_code == 200
    assert RECONCILIATION in response.content.decode()
