"""Journey 3: a fixed-price contract with two milestones; the client funds the first with a test card (the Stripe
stand-in's webhooks reach the live server), the freelancer submits, the client requests changes, the freelancer
submits again, the client approves and releases part of the escrow."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership
from billing.stripe_standin import StripeStandIn
from engagements.models import Contract, Milestone
from marketplace.models import Gig
from marketplace.services.bids import BidInput, bid_accept, bid_create
from tests.compliance_support import approve_all
from tests.e2e.conftest import screenshot
from tests.e2e.support import client_owner, sign_in, verified_user
from tests.factories import ProfileSkillFactory, SkillFactory, TalentProfileFactory
from tests.marketplace.conftest import make_gig


def _milestone_row(page: Page, title: str) -> Any:
    return page.locator("section[aria-labelledby=milestones-title] tbody tr").filter(has_text=title)


def _reload_until(page: Page, check: Any, what: str) -> None:
    """Webhooks and the worker finish shortly after the page answers; reload until the page shows it."""
    for _ in range(30):
        page.reload()
        if check():
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"the page never showed {what}")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_fixed_price_milestones_with_a_change_request_and_a_partial_release(
    page: Page, new_page: Any, e2e_world: Any, stripe_standin: StripeStandIn
) -> None:
    stripe_standin.webhook_url = f"{e2e_world.url}/billing/stripe/webhook/"
    client, organization = client_owner(email="ada@acme.example", organization_name="Acme Robotics")
    skill = SkillFactory(name="Django", slug="django")
    freelancer = verified_user(email="linus@example.com", full_name="Linus Fixer")
    ProfileSkillFactory(profile=TalentProfileFactory(user=freelancer), skill=skill, level=4)
    member = Membership.objects.get(user=client, organization=organization)
    gig = make_gig(
        member,
        skill,
        kind=Gig.Kind.FIXED,
        budget_amount=Decimal("1000.00"),
        hourly_rate_min=None,
        hourly_rate_max=None,
        estimated_hours=None,
    )
    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Two steps.", amount=Decimal("900.00")), by=freelancer)
    contract = bid_accept(bid_id=bid.pk, by=client)
    approve_all(user=freelancer, contract=contract)

    # The client starts the contract and splits the work into two milestones.
    sign_in(page, email=client.email)
    page.goto(f"/contracts/{contract.pk}/")
    if page.get_by_role("button", name="Start contract").count():
        page.get_by_role("button", name="Start contract").click()
    for title, amount in (("Data model", "500.00"), ("Reports", "400.00")):
        page.fill("form[action$='/milestones/'] input[name=title]", title)
        page.fill("form[action$='/milestones/'] input[name=amount]", amount)
        page.get_by_role("button", name="Add milestone").click()
        expect(_milestone_row(page, title)).to_be_visible()
    assert list(Milestone.objects.filter(contract=contract).order_by("pk").values_list("title", "amount")) == [
        ("Data model", Decimal("500.00")),
        ("Reports", Decimal("400.00")),
    ]
    screenshot(page, "j3-01-contract-two-milestones")

    # The client funds the first with a test card; Stripe's webhook confirms it.
    _milestone_row(page, "Data model").get_by_role("button", name="Fund").click()
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_be_visible()
    screenshot(page, "j3-02-pay-milestone")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.goto(f"/contracts/{contract.pk}/")
    row = _milestone_row(page, "Data model")
    _reload_until(page, lambda: "Funded" in row.inner_text(), "the first milestone funded")

    # The freelancer submits; the client asks for changes; the freelancer submits again.
    worker = new_page()
    sign_in(worker, email=freelancer.email)
    worker.goto(f"/contracts/{contract.pk}/")
    worker_row = _milestone_row(worker, "Data model")
    worker_row.get_by_placeholder("Note to the client").fill("Schema and migrations are in.")
    worker_row.get_by_role("button", name="Submit work").click()
    expect(worker.get_by_text("Work submitted for review.")).to_be_visible()

    page.reload()
    row.get_by_placeholder("What should change?").fill("Add indexes for the monthly report.")
    row.get_by_role("button", name="Request changes").click()
    expect(page.get_by_text("Changes requested.", exact=True)).to_be_visible()
    expect(row).to_contain_text("Changes requested: Add indexes for the monthly report.")
    screenshot(page, "j3-03-changes-requested")

    worker.reload()
    expect(worker_row).to_contain_text("Changes requested: Add indexes for the monthly report.")
    worker_row.get_by_placeholder("Note to the client").fill("Indexes added.")
    worker_row.get_by_role("button", name="Submit work").click()
    expect(worker.get_by_text("Work submitted for review.")).to_be_visible()
    screenshot(worker, "j3-04-freelancer-contract")

    # The client approves and releases 300 of the 500 in escrow.
    page.reload()
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Work approved.")).to_be_visible()
    row.get_by_label("Amount to release").fill("300.00")
    row.get_by_role("button", name="Release").click()
    expect(page.get_by_text("Payment released.")).to_be_visible()
    expect(row).to_contain_text("300.00 released")
    screenshot(page, "j3-05-partial-release")

    first, second = Milestone.objects.filter(contract=contract).order_by("pk")
    assert first.released_amount == Decimal("300.00")
    assert first.remaining_amount == Decimal("200.00")
    assert second.status == Milestone.Status.PENDING
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE
