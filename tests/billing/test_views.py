"""The billing pages: a client's billing, an invoice from both sides (pay, credit, print), earnings and the payout
account, fees shown on bids; who may see what, and query counts that do not grow with the rows."""

from __future__ import annotations

import itertools
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing import services
from billing.models import CreditNote, Invoice, LedgerAccount, Payment, Payout, PayoutAccount
from engagements.models import Contract, Timesheet
from engagements.services import (
    MilestoneInput,
    TimeEntryInput,
    milestone_approve,
    milestone_create,
    milestone_release,
    milestone_submit,
    time_entry_add,
    timesheet_approve,
    timesheet_submit,
    week_start_of,
)
from marketplace.services.bids import BidInput, bid_create
from tests.billing.support import invoice_row
from tests.compliance_support import approve_all
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace.conftest import make_gig

MONDAY = week_start_of(timezone.localdate() - timedelta(days=7))
_numbers = itertools.count(1)


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def released(hire, fund_milestone):
    """A 400.00 milestone funded through the stand-in, approved and released: the freelancer has 360.00
    payable (400 less the 10 % service fee); the client paid 420.00 (with the 5 % marketplace fee)."""
    contract, member, freelancer = hire()
    milestone = milestone_create(
        contract_id=contract.pk, data=MilestoneInput(title="Checkout", amount=Decimal("400.00")), by=member.user
    )
    fund_milestone(milestone.pk, member.user)
    milestone_submit(milestone_id=milestone.pk, by=freelancer)
    milestone_approve(milestone_id=milestone.pk, by=member.user)
    milestone_release(milestone_id=milestone.pk, by=member.user)
    return contract, member, freelancer


@pytest.fixture
def hourly_invoice(hire, stripe_standin):
    """An approved week of 10 hours at 50.00, invoiced: 500.00 of work + 25.00 marketplace fee = 525.00."""
    contract, member, freelancer = hire(kind="hourly")
    Contract.objects.filter(pk=contract.pk).update(start_date=MONDAY - timedelta(days=7), weekly_hour_cap=40)
    for day in range(2):
        time_entry_add(
            contract_id=contract.pk,
            data=TimeEntryInput(
                work_date=MONDAY + timedelta(days=day), start_time=time(9), hours=Decimal("5"), description="API work"
            ),
            by=freelancer,
        )
    timesheet = Timesheet.objects.get(contract=contract)
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    timesheet = timesheet_approve(timesheet_id=timesheet.pk, by=member.user)
    invoice = services.invoice_issue_for_timesheet(timesheet=timesheet)
    assert invoice is not None
    return invoice, member, freelancer


# --- earnings and client billing with exact figures ------------------------------------------------------------------
@pytest.mark.django_db
def test_earnings_show_the_released_milestone_as_payable(released, client: Client) -> None:
    _contract, _member, freelancer = released
    client.force_login(freelancer)

    response = client.get("/billing/earnings/")

    assert response.status_code == 200
    (summary,) = response.context["summaries"]
    assert (summary.currency, summary.pending, summary.payable, summary.available, summary.queued, summary.paid) == (
        "USD",
        Decimal("0.00"),
        Decimal("360.00"),
        Decimal("360.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    (weekly,) = response.context["earnings_by_week"]
    assert weekly.total == Decimal("360.00")
    assert weekly.rows[-1].value == Decimal("360.00")  # this week
    html = _html(response)
    assert "360.00" in html
    assert "Not connected" in html and "Connect with Stripe" in html
    receipt = Invoice.objects.get()
    assert f'href="/billing/invoices/{receipt.pk}/"' in html


@pytest.mark.django_db
def test_client_billing_shows_the_payment_and_the_spend(released, client: Client) -> None:
    contract, member, _freelancer = released
    client.force_login(member.user)

    response = client.get("/billing/")

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert list(response.context["payments_page"].object_list) == [payment]
    (by_month,) = response.context["spend_by_month"]
    assert (by_month.currency, by_month.total, by_month.rows[-1].value) == (
        "USD",
        Decimal("420.00"),
        Decimal("420.00"),
    )
    (by_work,) = response.context["spend_by_work"]
    assert [(row.label, row.value) for row in by_work.rows] == [(contract.gig.title, Decimal("420.00"))]
    assert response.context["outstanding"] == []
    html = _html(response)
    assert "420.00 USD" in html and "Paid" in html
    receipt = Invoice.objects.get()
    assert receipt.number in html  # the milestone's receipt is in the invoice list


@pytest.mark.django_db
def test_an_hourly_invoice_is_paid_through_the_pages(
    hourly_invoice, client: Client, deliver_stripe_events, django_capture_on_commit_callbacks
) -> None:
    invoice, member, freelancer = hourly_invoice
    finance = MembershipFactory(organization=member.organization, role="finance").user
    worker = Client()
    worker.force_login(freelancer)
    assert worker.get("/billing/earnings/").context["summaries"][0].pending == Decimal("450.00")
    client.force_login(finance)
    listing = client.get("/billing/")
    assert invoice.number in _html(listing)
    assert [(row["currency"], row["outstanding"]) for row in listing.context["outstanding"]] == [
        ("USD", Decimal("525.00"))
    ]
    detail = client.get(f"/billing/invoices/{invoice.pk}/")
    assert "Pay 525.00 USD" in _html(detail)

    started = client.post(f"/billing/invoices/{invoice.pk}/pay/")
    payment = Payment.objects.get(invoice=invoice)
    confirmed = client.post(started.url, {"payment_method": "pm_card_visa"})
    deliver_stripe_events()

    assert started.url == f"/billing/payments/{payment.pk}/pay/"
    assert confirmed.url == f"/billing/payments/{payment.pk}/"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("paid", Decimal("0"))
    paid_page = _html(client.get(f"/billing/invoices/{invoice.pk}/"))
    assert "Pay 525.00" not in paid_page and "badge-success" in paid_page
    assert client.get(f"/billing/payments/{payment.pk}/").status_code == 200
    assert client.get("/billing/").context["outstanding"] == []
    (summary,) = worker.get("/billing/earnings/").context["summaries"]
    assert (summary.pending, summary.payable) == (Decimal("0.00"), Decimal("450.00"))


@pytest.mark.django_db
def test_invoice_detail_and_print_show_lines_and_totals_to_both_sides(hourly_invoice, client: Client) -> None:
    invoice, member, freelancer = hourly_invoice

    client.force_login(member.user)
    client_side = client.get(f"/billing/invoices/{invoice.pk}/")
    printable = client.get(f"/billing/invoices/{invoice.pk}/print/")
    client.force_login(freelancer)
    issuer_side = client.get(f"/billing/invoices/{invoice.pk}/")

    assert (client_side.status_code, printable.status_code, issuer_side.status_code) == (200, 200, 200)
    assert (client_side.context["side"], issuer_side.context["side"]) == ("client", "issuer")
    for html in (_html(client_side), _html(printable)):
        assert invoice.number in html
        assert "500.00 USD" in html and "25.00 USD" in html and "525.00 USD" in html
        assert "Marketplace fee (5 %)" in html
    assert "site-header" not in _html(printable) and "@media print" in _html(printable)
    issuer_html = _html(issuer_side)
    assert "Service fee (10 %)" in issuer_html and "450.00 USD" in issuer_html
    assert "Issue credit note" in issuer_html and "Pay 525.00" not in issuer_html
    assert "Issue credit note" not in _html(client_side)


# --- who may see what -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_outsiders_get_404_and_never_see_foreign_invoices(hourly_invoice, client: Client) -> None:
    invoice, member, freelancer = hourly_invoice
    other_member = MembershipFactory(organization=OrganizationFactory(kind="client")).user
    other_freelancer = TalentProfileFactory().user

    for outsider in (other_member, other_freelancer):
        client.force_login(outsider)
        assert client.get(f"/billing/invoices/{invoice.pk}/").status_code == 404
        assert client.get(f"/billing/invoices/{invoice.pk}/print/").status_code == 404
        assert client.post(f"/billing/invoices/{invoice.pk}/pay/").status_code == 404
        credit = client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "5", "reason": "x"})
        assert credit.status_code == 404
        listing = client.get("/billing/", follow=True)
        assert invoice.number not in _html(listing)
    client.force_login(other_freelancer)
    assert invoice.number not in _html(client.get("/billing/earnings/"))
    client.force_login(member.user)
    assert client.get(f"/billing/?organization={other_member.memberships.get().organization_id}").status_code == 404
    client.force_login(freelancer)  # the issuer can't pay their own invoice
    assert client.post(f"/billing/invoices/{invoice.pk}/pay/").status_code == 404
    invoice.refresh_from_db()
    assert (invoice.status, invoice.credited) == ("issued", Decimal("0.00"))
    assert not Payment.objects.exists() and not CreditNote.objects.exists()


@pytest.mark.django_db
def test_a_member_of_several_organisations_chooses_or_sees_all_labelled(client: Client) -> None:
    first = MembershipFactory(organization=OrganizationFactory(name="Acme Retail", kind="client"))
    second = MembershipFactory(user=first.user, organization=OrganizationFactory(name="Bravo Labs", kind="client"))
    stranger = MembershipFactory(organization=OrganizationFactory(name="Zulu Corp", kind="client"))
    freelancer = TalentProfileFactory(user__full_name="Ada Lovelace").user
    mine = [
        invoice_row(first.organization, issuer_user=freelancer),
        invoice_row(second.organization, issuer_user=freelancer),
    ]
    foreign = invoice_row(stranger.organization, issuer_user=freelancer)
    client.force_login(first.user)

    default = client.get("/billing/")
    chosen = client.get(f"/billing/?organization={second.organization_id}")
    everything = client.get("/billing/?organization=all")

    assert [i.pk for i in default.context["page"].object_list] == [mine[0].pk]
    assert [i.pk for i in chosen.context["page"].object_list] == [mine[1].pk]
    assert {i.pk for i in everything.context["page"].object_list} == {mine[0].pk, mine[1].pk}
    html = _html(everything)
    assert "Billed to" in html and "Acme Retail" in html and "Bravo Labs" in html
    assert foreign.number not in html and "Zulu Corp" not in html
    assert [row["outstanding"] for row in everything.context["outstanding"]] == [Decimal("210.00")]


@pytest.mark.django_db
def test_invoice_list_filters_by_status(client: Client) -> None:
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    freelancer = TalentProfileFactory().user
    unpaid = invoice_row(member.organization, issuer_user=freelancer)
    paid = invoice_row(member.organization, issuer_user=freelancer, status="paid")
    client.force_login(member.user)

    response = client.get("/billing/?status=paid")

    assert [i.pk for i in response.context["page"].object_list] == [paid.pk]
    assert unpaid.number not in _html(response)
    assert client.get("/billing/?status=bogus").context["status"] == ""


# --- query counts -----------------------------------------------------------------------------------------------------
def _assert_flat(client: Client, url: str, make_rows, django_assert_max_num_queries) -> None:
    client.get(url)
    with django_assert_max_num_queries(60) as few:
        assert client.get(url).status_code == 200
    make_rows()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_invoice_and_payment_lists_use_a_constant_number_of_queries(
    client: Client, django_assert_max_num_queries
) -> None:
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    freelancers = [TalentProfileFactory().user for _ in range(3)]

    def more(count: int) -> None:
        for index in range(count):
            invoice = invoice_row(member.organization, issuer_user=freelancers[index % 3], status="paid")
            Payment.objects.create(
                organization=member.organization,
                invoice=invoice,
                currency="USD",
                work_amount=invoice.subtotal,
                client_fee=invoice.client_fee,
                amount=invoice.total,
                status="succeeded",
                succeeded_at=timezone.now(),
                stripe_payment_intent_id=f"pi_test_{invoice.pk}",
            )

    more(1)
    client.force_login(member.user)
    _assert_flat(client, "/billing/", lambda: more(15), django_assert_max_num_queries)


@pytest.mark.django_db
def test_payout_and_issued_invoice_lists_use_a_constant_number_of_queries(
    client: Client, django_assert_max_num_queries
) -> None:
    freelancer = TalentProfileFactory().user
    client_org = OrganizationFactory(kind="client")
    account = PayoutAccount.objects.create(user=freelancer, stripe_account_id="acct_test_flat", country="GB")

    def more(count: int) -> None:
        for _ in range(count):
            payout = Payout.objects.create(
                user=freelancer,
                payout_account=account,
                amount=Decimal("12.50"),
                currency="USD",
                status="paid",
                paid_at=timezone.now(),
                idempotency_key=f"payout-test-{next(_numbers)}",
            )
            invoice_row(client_org, issuer_user=freelancer, status="paid")
            assert payout.pk

    more(1)
    client.force_login(freelancer)
    _assert_flat(client, "/billing/earnings/", lambda: more(15), django_assert_max_num_queries)
    response = client.get("/billing/earnings/")
    assert response.context["summaries"][0].paid == Decimal("200.00")  # 16 × 12.50
    assert len(response.context["payouts_page"].object_list) == 16


# --- credit notes -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_credit_note_form_shows_errors_next_to_the_fields(hourly_invoice, client: Client) -> None:
    invoice, _member, freelancer = hourly_invoice
    client.force_login(freelancer)

    empty = client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "", "reason": "  "})
    too_much = client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "600", "reason": "Refund"})
    not_a_number = client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "lots", "reason": "Refund"})

    assert (empty.status_code, too_much.status_code, not_a_number.status_code) == (400, 400, 400)
    assert empty.context["credit_form"].errors == {
        "reason": ["Say why the invoice is credited."],
        "amount": ["Enter an amount above zero and up to 525.00 USD."],
    }
    assert too_much.context["credit_form"].errors == {"amount": ["Enter an amount above zero and up to 525.00 USD."]}
    assert "amount" in not_a_number.context["credit_form"].errors
    html = _html(empty)
    assert 'id="id_amount_error"' in html and 'aria-invalid="true"' in html
    assert "Say why the invoice is credited." in html
    invoice.refresh_from_db()
    assert invoice.credited == Decimal("0.00") and not CreditNote.objects.exists()


@pytest.mark.django_db
def test_the_issuer_credits_an_invoice_and_the_client_sees_it(hourly_invoice, client: Client) -> None:
    invoice, member, freelancer = hourly_invoice
    client.force_login(freelancer)

    response = client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "52.50", "reason": "Two hours off"})

    assert response.status_code == 302 and response.url == f"/billing/invoices/{invoice.pk}/"
    note = CreditNote.objects.get()
    invoice.refresh_from_db()
    assert (invoice.credited, invoice.amount_due) == (Decimal("52.50"), Decimal("472.50"))
    client.force_login(member.user)
    html = _html(client.get(f"/billing/invoices/{invoice.pk}/"))
    assert note.number in html and "Two hours off" in html and "Pay 472.50 USD" in html
    assert client.post(f"/billing/invoices/{invoice.pk}/credit/", {"amount": "1", "reason": "x"}).status_code == 404
    assert CreditNote.objects.count() == 1


# --- payout account ---------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_connect_a_payout_account_through_the_stand_in(stripe_standin, client: Client) -> None:
    freelancer = TalentProfileFactory().user
    approve_all(user=freelancer)  # compliance is met: only the payout account decides here
    client.force_login(freelancer)

    started = client.post("/billing/payout-account/start/", {"payee": "me"})

    account = PayoutAccount.objects.get(user=freelancer)
    assert started.status_code == 302
    assert started.url == f"{stripe_standin.url}/onboarding/{account.stripe_account_id}"
    page = _html(client.get("/billing/earnings/"))
    assert "Onboarding incomplete" in page and "Continue setup" in page
    assert "Finish the payout account setup with Stripe." in page

    stripe_standin.complete_onboarding(account.stripe_account_id)
    back = client.get("/billing/payout-account/return/")

    assert back.status_code == 302 and back.url == "/billing/earnings/?payee=me"
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled) == (True, True)
    page = _html(client.get(back.url, follow=True))
    assert "Your payout account is ready" in page and "Enabled" in page and "Continue setup" not in page
    expired = client.get("/billing/payout-account/start/")  # Stripe's refresh_url: asks again, acts on POST only
    assert expired.status_code == 200 and "Continue setup with Stripe" in _html(expired)
    assert PayoutAccount.objects.count() == 1


@pytest.mark.django_db
def test_a_vendor_firms_earnings_are_for_its_owners_admins_and_finance(stripe_standin, client: Client) -> None:
    owner = MembershipFactory(organization=OrganizationFactory(name="Helpdesk Partners", kind="vendor"))
    plain = MembershipFactory(organization=owner.organization, role="member").user
    finance = MembershipFactory(organization=owner.organization, role="finance").user
    buyer = OrganizationFactory(kind="client")
    invoice = invoice_row(buyer, issuer_organization=owner.organization)

    client.force_login(plain)
    refused = client.get("/billing/earnings/")
    plain_detail = client.get(f"/billing/invoices/{invoice.pk}/")  # a member of the issuing firm may read it
    client.force_login(finance)
    allowed = client.get("/billing/earnings/")
    started = client.post("/billing/payout-account/start/", {"payee": f"org:{owner.organization_id}"})

    assert refused.status_code == 403 and "owner" in _html(refused)
    assert plain_detail.status_code == 200 and plain_detail.context["side"] == "issuer"
    assert allowed.status_code == 200 and allowed.context["payee"].organization == owner.organization
    assert invoice.number in _html(allowed)
    account = PayoutAccount.objects.get()
    assert (account.organization, account.user) == (owner.organization, None)
    assert started.url.endswith(f"/onboarding/{account.stripe_account_id}")
    client.force_login(plain)
    assert client.post("/billing/payout-account/start/", {"payee": f"org:{owner.organization_id}"}).status_code == 403


# --- fees on bids -----------------------------------------------------------------------------------------------------
@pytest.fixture
def gig_parties(db):
    """A client member, a skill and a freelancer with it."""
    skill = SkillFactory()
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    profile = TalentProfileFactory(hourly_rate=Decimal("50"))
    ProfileSkillFactory(profile=profile, skill=skill)
    return member, skill, profile.user


@pytest.mark.django_db
def test_fees_are_shown_to_the_bidder_and_to_the_client(client: Client, gig_parties) -> None:
    client_member, python_skill, freelancer = gig_parties
    gig = make_gig(client_member, python_skill, kind="fixed", budget_amount=Decimal("1000"))
    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", amount=Decimal("900.00")), by=freelancer)

    client.force_login(freelancer)
    bidder_view = _html(client.get(f"/gigs/{gig.pk}/"))
    preview = client.get(f"/billing/fees/gigs/{gig.pk}/", {"amount": "1000", "bidder": "self"})
    empty_preview = client.get(f"/billing/fees/gigs/{gig.pk}/", {"amount": "abc", "bidder": "self"})
    client.force_login(client_member.user)
    comparison = _html(client.get(f"/gigs/{gig.pk}/bids/"))

    assert "You receive 810.00 USD after the 90.00 USD service fee" in bidder_view
    assert "the client pays 945.00 USD" in bidder_view
    preview_html = _html(preview)
    assert "1,000.00 USD" in preview_html and "−100.00 USD" in preview_html
    assert "900.00 USD" in preview_html and "1,050.00 USD" in preview_html
    assert "Enter your price" in _html(empty_preview)
    assert "You pay 945.00 USD" in comparison and "45.00 USD marketplace fee" in comparison
    assert "service fee" not in comparison


@pytest.mark.django_db
def test_the_bid_form_shows_the_fee_preview(client: Client, gig_parties) -> None:
    client_member, python_skill, other = gig_parties
    gig = make_gig(client_member, python_skill)
    client.force_login(other)

    html = _html(client.get(f"/gigs/{gig.pk}/"))

    assert f'hx-get="/billing/fees/gigs/{gig.pk}/"' in html
    assert "from:#id_hourly_rate" in html
    assert "10 % service fee" in html and "5 % marketplace fee" in html


# --- navigation -------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_navigation_links_and_dashboards_per_role(client: Client) -> None:
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    vendor = MembershipFactory(organization=OrganizationFactory(kind="vendor"))
    freelancer = TalentProfileFactory().user

    pages = {}
    for name, user in (("client", member.user), ("vendor", vendor.user), ("freelancer", freelancer)):
        client.force_login(user)
        pages[name] = (client.get("/dashboard/"), client.get("/billing/"), client.get("/billing/earnings/"))

    assert all(dashboard.status_code == 200 for dashboard, _, _ in pages.values())
    client_dashboard = _html(pages["client"][0])
    assert 'href="/billing/"' in client_dashboard and 'href="/billing/earnings/"' not in client_dashboard
    for role in ("vendor", "freelancer"):
        assert 'href="/billing/earnings/"' in _html(pages[role][0])
        assert pages[role][1].status_code == 302 and pages[role][1].url == "/billing/earnings/"
        assert pages[role][2].status_code == 200
    assert pages["client"][1].status_code == 200
    assert pages["client"][2].status_code == 302 and pages["client"][2].url == "/billing/"
    assert 'aria-current="page">Billing' in _html(pages["client"][1])


@pytest.mark.django_db
def test_someone_with_neither_role_is_told_what_to_do(client: Client) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory())

    billing, earnings = client.get("/billing/"), client.get("/billing/earnings/")

    assert (billing.status_code, earnings.status_code) == (403, 403)
    assert "client organisations" in _html(billing)


@pytest.mark.django_db
def test_ledger_accounts_of_others_never_leak_into_earnings(released, client: Client) -> None:
    _contract, _member, freelancer = released
    someone_else = TalentProfileFactory().user
    client.force_login(someone_else)

    response = client.get("/billing/earnings/")

    assert response.context["summaries"] == []
    assert LedgerAccount.objects.get(kind="worker_payable", user=freelancer).balance == Decimal("360.00")
    assert "360.00" not in _html(response)
