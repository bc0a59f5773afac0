"""Journey 5: a vendor firm drafts a statement of work with two service levels and proposes it, the client's owner
and the vendor's owner sign it (each in their own browser), the vendor records last month's measurements, the
monthly evaluation runs (the task beat runs daily), the month's invoice carries the SLA credit and the SLA dashboard
shows the breach."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization
from billing.models import Invoice, InvoiceLine
from engagements.models import SLABreach, StatementOfWork
from engagements.tasks import sla_evaluations_run
from marketplace.services.bids import invitation_create
from talent.models import VendorProfile
from tests.compliance_support import approve_all
from tests.e2e.conftest import screenshot
from tests.e2e.support import client_owner, sign_in, verified_user
from tests.factories import MembershipFactory, OrganizationFactory, SkillFactory
from tests.marketplace.conftest import make_gig


def _evaluated_month() -> date:
    """The latest finished month past the reporting grace days: the one the daily evaluation picks up today."""
    today = timezone.localdate()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if today < today.replace(day=1) + timedelta(days=settings.SLA_EVALUATION_GRACE_DAYS):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _accept_confirm(page: Page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_vendor_sow_is_signed_measured_evaluated_and_credited(page: Page, new_page: Any, e2e_world: Any) -> None:
    client, client_organization = client_owner(email="ada@acme.example", organization_name="Acme Retail")
    vendor_owner = verified_user(email="vera@helpdesk.example", full_name="Vera Vendor")
    vendor = OrganizationFactory(name="Helpdesk Partners", kind=Organization.Kind.VENDOR)
    MembershipFactory(user=vendor_owner, organization=vendor, role=Membership.Role.OWNER)
    VendorProfile.objects.create(organization=vendor, headline="Service desk")
    approve_all(organization=vendor)
    # The vendor knows the client from an invitation to one of its gigs: that is whom a vendor can draft for.
    member = Membership.objects.get(user=client, organization=client_organization)
    gig = make_gig(member, SkillFactory(name="Customer support", slug="customer-support"))
    invitation_create(gig_id=gig.pk, by=client, vendor_id=vendor.pk)
    month = _evaluated_month()

    # The vendor drafts the terms, adds two service levels and proposes the statement of work.
    sign_in(page, email=vendor_owner.email)
    page.goto("/sows/new/")
    page.get_by_label("Client", exact=True).select_option(label="Acme Retail")
    page.get_by_label("Title", exact=True).fill("Tier-1 customer support")
    page.get_by_label("Scope", exact=True).fill("Email and chat support, 7 days a week.")
    page.get_by_label("Starts on", exact=True).fill(month.isoformat())
    page.get_by_label("Fixed monthly fee").check()
    page.get_by_label("Monthly fee", exact=True).fill("10000.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved. Add its service levels, then propose it for signature.")).to_be_visible()
    sow = StatementOfWork.objects.get(vendor=vendor)

    levels = page.locator("#levels")
    for metric, target, credit in (
        ("First response (minutes)", "60", "5"),
        ("Customer satisfaction (1–5)", "4.2", "5"),
    ):
        levels.get_by_label("Metric", exact=True).select_option(label=metric)
        levels.get_by_label("Target", exact=True).fill(target)
        levels.get_by_label("Credit on breach (% of fee)", exact=True).fill(credit)
        levels.get_by_role("button", name="Save service level").click()
        expect(page.locator("#levels tbody tr").filter(has_text=metric)).to_be_visible()
    expect(page.locator("#levels tbody tr")).to_have_count(2)
    screenshot(page, "j5-01-vendor-sow-draft")
    page.get_by_role("button", name="Propose to Acme Retail").click()
    expect(page.get_by_text("Proposed. The other side can now sign it, or send it back with a note.")).to_be_visible()

    # The client's owner signs, then the vendor's owner: the statement of work is active.
    buyer = new_page()
    sign_in(buyer, email=client.email)
    buyer.goto(f"/sows/{sow.pk}/")
    expect(buyer.locator("#levels tbody tr").filter(has_text="First response (minutes)")).to_contain_text("at most 60")
    screenshot(buyer, "j5-02-client-sow-proposed")
    _accept_confirm(buyer)
    buyer.get_by_role("button", name="Sign for Acme Retail").click()
    expect(buyer.get_by_text("Signed. It takes effect once the other side signs too.")).to_be_visible()

    page.reload()
    _accept_confirm(page)
    page.get_by_role("button", name="Sign for Helpdesk Partners").click()
    expect(page.get_by_text("Signed by both sides: the statement of work is active.")).to_be_visible()

    # The vendor records last month: first response missed its target, satisfaction met its own.
    measurements = page.locator("#measurements")
    for metric, value in (("First response (minutes)", "95"), ("Customer satisfaction (1–5)", "4.5")):
        measurements.get_by_label("Metric", exact=True).select_option(label=metric)
        measurements.get_by_label("Month", exact=True).fill(f"{month:%Y-%m}")
        measurements.get_by_label("Value", exact=True).fill(value)
        measurements.get_by_role("button", name="Save value").click()
        expect(page.get_by_text(f"Saved: {metric} for {month:%B %Y} is {value}")).to_be_visible()
    month_row = page.locator("#measurements tbody tr").filter(has_text=f"{month:%B %Y}")
    expect(month_row).to_contain_text("95 (off target)")
    expect(month_row).to_contain_text("4.50 (on target)")
    screenshot(page, "j5-03-vendor-measurements")

    # The daily evaluation (beat does not run in tests) evaluates the month and issues its invoice.
    assert sla_evaluations_run() == 1

    buyer.goto(f"/sows/{sow.pk}/")
    evaluation_row = buyer.locator("#evaluations tbody tr").filter(has_text=f"{month:%B %Y}")
    expect(evaluation_row).to_contain_text("1/2")
    expect(evaluation_row).to_contain_text("−500.00 USD")
    expect(evaluation_row).to_contain_text("First response (minutes): 95 (target at most 60)")

    invoice = Invoice.objects.get(sow=sow)
    buyer.goto("/billing/")
    buyer.get_by_role("link", name=invoice.number).click()
    credit_row = buyer.locator("tr").filter(has_text=f"SLA credits for {month:%B %Y} (1 missed)")
    expect(credit_row).to_contain_text("−500.00 USD")
    expect(
        buyer.locator("tr").filter(has_text=f"Tier-1 customer support — monthly fee, {month:%B %Y}")
    ).to_contain_text("10,000.00 USD")
    screenshot(buyer, "j5-04-client-invoice-with-sla-credit")

    buyer.goto(f"/sows/{sow.pk}/sla/")
    expect(buyer.get_by_role("heading", name="SLA dashboard")).to_be_visible()
    expect(buyer.locator(".stat-card").filter(has_text="Breaches")).to_contain_text("1")
    expect(buyer.locator(".stat-card").filter(has_text="Credits to the client")).to_contain_text("500.00 USD")
    breach_row = buyer.locator("section[aria-labelledby=breaches-title] tbody tr")
    expect(breach_row).to_have_count(1)
    expect(breach_row).to_contain_text(f"{month:%B %Y}")
    expect(breach_row).to_contain_text("First response (minutes)")
    expect(breach_row).to_contain_text("95")
    expect(breach_row).to_contain_text("at most 60")
    expect(breach_row).to_contain_text("500.00 USD")
    screenshot(buyer, "j5-05-client-sla-dashboard")

    assert StatementOfWork.objects.get(pk=sow.pk).status == StatementOfWork.Status.ACTIVE
    assert list(SLABreach.objects.filter(sow=sow).values_list("metric", "measured_value", "credit_amount")) == [
        ("first_response_minutes", Decimal("95.00"), Decimal("500.00"))
    ]
    assert list(invoice.lines.filter(kind=InvoiceLine.Kind.SLA_CREDIT).values_list("amount", flat=True)) == [
        Decimal("-500.00")
    ]
