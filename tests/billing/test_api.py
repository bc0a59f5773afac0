"""The billing partner API: invoices from the client's side and the issuer's (list, filter, detail with lines and
credit notes, a pay link through the same payment service as the invoice page's Pay button) and payouts, with
the scopes and organisations that may use each."""

from __future__ import annotations

import itertools
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.models import CreditNote, Invoice, Payment, Payout, PayoutAccount
from engagements.models import Contract, Timesheet
from engagements.services import TimeEntryInput, time_entry_add, timesheet_approve, timesheet_submit, week_start_of
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.billing.support import invoice_row
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory

INVOICES = "/api/v1/invoices/"
PAYOUTS = "/api/v1/payouts/"
MONDAY = week_start_of(timezone.localdate() - timedelta(days=7))
_numbers = itertools.count(1)


@pytest.fixture
def parties(db):
    """A client organisation (Acme), a vendor firm (Helpdesk Partners), a freelancer (Marta), and another client."""
    client = OrganizationFactory(name="Acme", kind="client")
    vendor = OrganizationFactory(name="Helpdesk Partners", kind="vendor")
    freelancer = TalentProfileFactory(user__full_name="Marta Kowalska").user
    other = OrganizationFactory(name="Elsewhere", kind="client")
    return client, vendor, freelancer, other


@pytest.fixture
def hourly_invoice(hire, stripe_standin):
    """An approved week of 10 hours at 50.00, invoiced by the services: 500.00 + 25.00 marketplace fee."""
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


def _numbers_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


# --- invoices -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_side_lists_its_own_invoices_only(parties) -> None:
    client, vendor, freelancer, other = parties
    from_firm = invoice_row(client, issuer_organization=vendor)
    from_marta = invoice_row(client, issuer_user=freelancer)
    invoice_row(other, issuer_user=freelancer)
    elsewhere = invoice_row(other, issuer_organization=OrganizationFactory(kind="vendor"))

    as_client = api_client(org_api_key(client, scopes=["billing:read"])).get(INVOICES)
    as_vendor = api_client(org_api_key(vendor, scopes=["billing:read"])).get(INVOICES)
    as_marta = api_client(freelancer_api_key(freelancer, scopes=["billing:read"])).get(INVOICES)
    as_other = api_client(org_api_key(other, scopes=["billing:read"])).get(INVOICES)

    assert _numbers_of(as_client) == [from_marta.number, from_firm.number]
    assert {row["side"] for row in as_client.json()["results"]} == {"client"}
    assert _numbers_of(as_vendor) == [from_firm.number]
    assert as_vendor.json()["results"][0]["side"] == "issuer"
    assert len(_numbers_of(as_marta)) == 2 and from_marta.number in _numbers_of(as_marta)
    assert from_firm.number not in _numbers_of(as_marta)
    assert elsewhere.number in _numbers_of(as_other) and from_firm.number not in _numbers_of(as_other)


@pytest.mark.django_db
def test_an_invoice_shows_its_lines_and_credit_notes_and_hides_the_service_fee_from_the_client(parties) -> None:
    client, vendor, _freelancer, _other = parties
    invoice = invoice_row(client, issuer_organization=vendor, total="210.00")
    note = CreditNote.objects.create(
        invoice=invoice,
        number="CN-00001",
        amount=Decimal("21.00"),
        currency="USD",
        fee_part=Decimal("3.00"),
        worker_net_part=Decimal("18.00"),
        reason="Two hours were billed twice.",
    )
    Invoice.objects.filter(pk=invoice.pk).update(credited=Decimal("21.00"))

    as_client = api_client(org_api_key(client, scopes=["billing:read"])).get(f"{INVOICES}{invoice.pk}/")
    as_issuer = api_client(org_api_key(vendor, scopes=["billing:read"])).get(f"{INVOICES}{invoice.pk}/")

    assert as_client.status_code == 200
    body = as_client.json()
    assert body == {
        "id": invoice.pk,
        "number": invoice.number,
        "side": "client",
        "kind": "hourly_week",
        "status": "issued",
        "organization_id": client.pk,
        "bill_to_name": "Acme",
        "issuer_name": "Helpdesk Partners",
        "contract_id": None,
        "sow_id": None,
        "period_start": None,
        "period_end": None,
        "currency": "USD",
        "subtotal": "200.00",
        "client_fee": "10.00",
        "total": "210.00",
        "credited": "21.00",
        "amount_due": "189.00",
        "worker_fee": None,
        "issued_at": body["issued_at"],
        "due_date": invoice.due_date.isoformat(),
        "paid_at": None,
        "lines": [
            {
                "kind": "work",
                "description": "Work",
                "quantity": "2.00",
                "unit": "hours",
                "unit_price": "100.00",
                "amount": "200.00",
            },
            {
                "kind": "marketplace_fee",
                "description": "Marketplace fee (5 %)",
                "quantity": "1.00",
                "unit": "",
                "unit_price": "10.00",
                "amount": "10.00",
            },
        ],
        "credit_notes": [
            {
                "id": note.pk,
                "number": "CN-00001",
                "amount": "21.00",
                "currency": "USD",
                "reason": "Two hours were billed twice.",
                "created_at": body["credit_notes"][0]["created_at"],
            }
        ],
    }
    assert (as_issuer.json()["side"], as_issuer.json()["worker_fee"]) == ("issuer", "20.00")


@pytest.mark.django_db
def test_invoices_filter_by_status_and_refuse_an_unknown_one(parties) -> None:
    client, vendor, _freelancer, _other = parties
    paid = invoice_row(client, issuer_organization=vendor, status="paid")
    invoice_row(client, issuer_organization=vendor)
    api = api_client(org_api_key(client, scopes=["billing:read"]))

    assert _numbers_of(api.get(INVOICES, {"status": "paid"})) == [paid.number]
    invalid = api.get(INVOICES, {"status": "overdue"})

    assert invalid.status_code == 400
    assert invalid["Content-Type"] == "application/problem+json"
    assert set(invalid.json()["errors"]) == {"status"}


@pytest.mark.django_db
def test_another_organisations_invoice_is_404_and_keys_need_the_billing_scope(parties) -> None:
    client, vendor, _freelancer, other = parties
    invoice = invoice_row(client, issuer_organization=vendor)

    assert api_client(org_api_key(other)).get(f"{INVOICES}{invoice.pk}/").status_code == 404
    assert api_client(org_api_key(client, scopes=["talent:read"])).get(INVOICES).status_code == 403
    assert api_client(org_api_key(client, scopes=["talent:read"])).get(f"{INVOICES}{invoice.pk}/").status_code == 403
    assert api_client().get(INVOICES).status_code == 401
    assert api_client().get(f"{INVOICES}{invoice.pk}/").status_code == 401


@pytest.mark.django_db
def test_invoices_take_the_same_number_of_queries_for_one_or_three(parties) -> None:
    client, vendor, freelancer, _other = parties
    api = api_client(org_api_key(client, scopes=["billing:read"]))
    invoice_row(client, issuer_organization=vendor)
    api.get(INVOICES)

    with CaptureQueriesContext(connection) as one:
        assert len(api.get(INVOICES).json()["results"]) == 1
    invoice_row(client, issuer_user=freelancer)
    invoice_row(client, issuer_organization=vendor, status="paid")
    with CaptureQueriesContext(connection) as three:
        assert len(api.get(INVOICES).json()["results"]) == 3

    assert len(three) == len(one)


# --- pay link -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pay_link_starts_the_payment_once_and_points_at_its_page(hourly_invoice) -> None:
    invoice, member, _freelancer = hourly_invoice
    api = api_client(org_api_key(member.organization, scopes=["billing:write"]))

    first = api.post(f"{INVOICES}{invoice.pk}/pay-link/", {"amount": "1.00", "currency": "EUR"}, format="json")
    again = api.post(f"{INVOICES}{invoice.pk}/pay-link/", format="json")

    payment = Payment.objects.get(invoice=invoice)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == {
        "url": f"http://testserver/billing/payments/{payment.pk}/pay/",
        "payment_id": payment.pk,
        "payment_status": "requires_payment",
        "amount": "525.00",
        "currency": "USD",
    }
    assert again.json() == first.json()
    assert (payment.amount, payment.currency) == (Decimal("525.00"), "USD")  # the body's amount was ignored


@pytest.mark.django_db
def test_only_the_billed_organisation_with_a_write_key_gets_a_pay_link(hourly_invoice) -> None:
    invoice, member, freelancer = hourly_invoice
    url = f"{INVOICES}{invoice.pk}/pay-link/"

    as_issuer = api_client(freelancer_api_key(freelancer)).post(url, format="json")
    as_other = api_client(org_api_key(OrganizationFactory(kind="client"))).post(url, format="json")
    read_only = api_client(org_api_key(member.organization, scopes=READ_SCOPES)).post(url, format="json")
    anonymous = api_client().post(url, format="json")

    assert (as_issuer.status_code, as_other.status_code, read_only.status_code, anonymous.status_code) == (
        404,
        404,
        403,
        401,
    )
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_paid_invoice_has_nothing_to_pay(parties) -> None:
    client, vendor, _freelancer, _other = parties
    invoice = invoice_row(client, issuer_organization=vendor, status="paid")

    response = api_client(org_api_key(client)).post(f"{INVOICES}{invoice.pk}/pay-link/", format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == f"Invoice {invoice.number} has nothing left to pay."
    assert not Payment.objects.exists()


# --- payouts ------------------------------------------------------------------------------------------------------


def _payout(*, user=None, organization=None, amount="100.00", status="pending") -> Payout:
    account = PayoutAccount.objects.filter(user=user, organization=organization).first()
    if account is None:
        account = PayoutAccount.objects.create(
            user=user, organization=organization, stripe_account_id=f"acct_{next(_numbers)}", country="GB"
        )
    return Payout.objects.create(
        user=user,
        organization=organization,
        payout_account=account,
        amount=Decimal(amount),
        currency="USD",
        status=status,
        idempotency_key=f"payout-{next(_numbers)}",
        paid_at=timezone.now() if status == "paid" else None,
    )


@pytest.mark.django_db
def test_payouts_list_the_callers_own(parties) -> None:
    client, vendor, freelancer, _other = parties
    mine = _payout(user=freelancer, amount="360.00", status="paid")
    firm = _payout(organization=vendor, amount="1200.00")
    _payout(user=TalentProfileFactory().user)

    as_marta = api_client(freelancer_api_key(freelancer, scopes=["billing:read"])).get(PAYOUTS)
    as_vendor = api_client(org_api_key(vendor, scopes=["billing:read"])).get(PAYOUTS)
    as_client = api_client(org_api_key(client, scopes=["billing:read"])).get(PAYOUTS)

    assert as_marta.status_code == 200
    assert as_marta.json()["results"] == [
        {
            "id": mine.pk,
            "organization_id": None,
            "amount": "360.00",
            "currency": "USD",
            "status": "paid",
            "created_at": as_marta.json()["results"][0]["created_at"],
            "paid_at": as_marta.json()["results"][0]["paid_at"],
        }
    ]
    assert [(row["id"], row["organization_id"], row["amount"]) for row in as_vendor.json()["results"]] == [
        (firm.pk, vendor.pk, "1200.00")
    ]
    assert as_client.json()["results"] == []


@pytest.mark.django_db
def test_payouts_filter_by_status(parties) -> None:
    _client, vendor, _freelancer, _other = parties
    _payout(organization=vendor, status="paid")
    queued = _payout(organization=vendor)
    api = api_client(org_api_key(vendor, scopes=["billing:read"]))

    assert [row["id"] for row in api.get(PAYOUTS, {"status": "pending"}).json()["results"]] == [queued.pk]
    invalid = api.get(PAYOUTS, {"status": "sent"})
    assert (invalid.status_code, set(invalid.json()["errors"])) == (400, {"status"})
    assert api_client().get(PAYOUTS).status_code == 401
    assert api_client(org_api_key(vendor, scopes=["audit:read"])).get(PAYOUTS).status_code == 403


@pytest.mark.django_db
def test_a_vendor_firms_plain_member_does_not_see_its_payouts(parties, client) -> None:
    _client, vendor, _freelancer, _other = parties
    _payout(organization=vendor)
    member = MembershipFactory(organization=vendor, role="member").user
    client.force_login(member)

    response = client.get(PAYOUTS)

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_payouts_take_the_same_number_of_queries_for_one_or_three(parties) -> None:
    _client, vendor, _freelancer, _other = parties
    api = api_client(org_api_key(vendor, scopes=["billing:read"]))
    _payout(organization=vendor)
    api.get(PAYOUTS)

    with CaptureQueriesContext(connection) as one:
        assert len(api.get(PAYOUTS).json()["results"]) == 1
    _payout(organization=vendor)
    _payout(organization=vendor)
    with CaptureQueriesContext(connection) as three:
        assert len(api.get(PAYOUTS).json()["results"]) == 3

    assert len(three) == len(one)
