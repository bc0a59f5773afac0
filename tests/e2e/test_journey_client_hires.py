"""Journey 1: a client signs up, verifies their email, posts an hourly gig, sees the ranked matches with their
explanations, invites one, compares the bids and hires one."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Membership, Organization, User
from engagements.models import Contract
from marketplace.models import Bid, Gig, Invitation, Match
from marketplace.services.bids import BidInput, bid_create
from tests.e2e.conftest import screenshot
from tests.e2e.support import verified_user
from tests.factories import ProfileSkillFactory, SkillFactory, TalentProfileFactory

CANDIDATES = 7  # the top five are emailed when the gig opens; the rest wait for an invitation


def _freelancers_with(skill: Any) -> list[User]:
    users = []
    for index in range(CANDIDATES):
        user = verified_user(email=f"talent{index}@example.com", full_name=f"Talent Number{index}")
        profile = TalentProfileFactory(
            user=user, headline=f"Django developer {index}", hourly_rate=Decimal("50"), currency="USD"
        )
        ProfileSkillFactory(profile=profile, skill=skill, level=3 + index % 3, years=2 + index)
        profile.skill_ids = [skill.pk]
        profile.save()
        users.append(user)
    return users


def _wait_for_matches(page: Page, url: str) -> None:
    """Ranking runs in the worker right after publishing; the page says so until then."""
    for _ in range(30):
        page.goto(url)
        if page.locator("table tbody tr").count():
            return
        page.wait_for_timeout(1000)
    raise AssertionError("no ranked matches appeared within 30 s of publishing")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_client_signs_up_posts_an_hourly_gig_invites_a_match_and_hires_a_bidder(page: Page, e2e_world: Any) -> None:
    skill = SkillFactory(name="Django", slug="django")
    freelancers = _freelancers_with(skill)

    # Sign up as a company that hires.
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", name="Create your Tandem account")).to_be_visible()
    page.check("input[name=intent][value=hire]", force=True)
    page.fill("input[name=full_name]", "Grace Hopper")
    page.fill("input[name=organization_name]", "Hopper Analytics")
    page.fill("input[name=email]", "grace@hopper.example")
    page.fill("input[name=password1]", "a-long-and-unguessable-passphrase")
    page.fill("input[name=password2]", "a-long-and-unguessable-passphrase")
    page.select_option("select[name=country]", "GB")
    screenshot(page, "j1-01-signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=re.compile("verify", re.IGNORECASE)).first).to_be_visible()
    screenshot(page, "j1-02-verify-email-sent")

    # Verify the email with the link it contains.
    bodies = [m.body for m in mail.outbox if m.to == ["grace@hopper.example"]]
    links = [
        found.group(0) for body in bodies if (found := re.search(r"https?://\S+/accounts/confirm-email/\S+/", body))
    ]
    assert len(links) == 1, bodies
    page.goto(links[0])
    page.get_by_role("button", name=re.compile("confirm", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    user = User.objects.get(email="grace@hopper.example")
    organization = Organization.objects.get(memberships__user=user)
    assert (organization.name, organization.kind) == ("Hopper Analytics", "client")
    assert Membership.objects.get(user=user).role == "owner"
    screenshot(page, "j1-03-client-dashboard")

    # Post an hourly gig and publish it.
    page.goto("/gigs/new/")
    page.fill("input[name=title]", "Django API for our analytics platform")
    page.fill("textarea[name=description]", "Build and document REST endpoints over our reporting models.")
    page.fill("textarea[name=deliverables]", "Endpoints with tests; OpenAPI schema.")
    page.select_option("select[name=skills-0-skill]", label="Django")
    page.check("input[name=kind][value=hourly]", force=True)
    page.fill("input[name=hourly_rate_min]", "40")
    page.fill("input[name=hourly_rate_max]", "70")
    page.fill("input[name=estimated_hours]", "80")
    screenshot(page, "j1-04-gig-form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    gig = Gig.objects.get(organization=organization)
    assert (gig.kind, gig.status, gig.hourly_rate_min, gig.hourly_rate_max) == (
        "hourly",
        "draft",
        Decimal("40.00"),
        Decimal("70.00"),
    )
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published.")).to_be_visible()
    screenshot(page, "j1-05-gig-published")

    # Ranked matches with why; the top five were emailed, the sixth is invited by hand.
    _wait_for_matches(page, f"/gigs/{gig.pk}/matches/")
    expect(page.get_by_role("heading", name="Ranked matches")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(CANDIDATES)
    expect(rows.first.locator("summary")).to_contain_text("rank #1")
    rows.first.locator("summary").click()
    expect(rows.first.locator(".factor-list li").first).to_be_visible()
    expect(page.get_by_text("Told by email")).to_have_count(5)
    screenshot(page, "j1-06-ranked-matches")
    sixth = Match.objects.get(gig=gig, rank=6)
    rows.nth(5).get_by_role("button", name="Invite to bid").click()
    expect(rows.nth(5).get_by_text("Invited")).to_be_visible()
    assert Invitation.objects.filter(gig=gig, freelancer_id=sixth.freelancer_id).count() == 1

    # Two bids arrive (the freelancers' own journey); the client compares them and hires the invited one.
    invited = User.objects.get(pk=sixth.freelancer_id)
    other = next(f for f in freelancers if f.pk != invited.pk)
    bid_create(
        gig_id=gig.pk,
        data=BidInput(cover_letter="I built three such APIs.", hourly_rate=Decimal("55.00"), estimated_hours=70),
        by=invited,
    )
    bid_create(
        gig_id=gig.pk,
        data=BidInput(cover_letter="Available from Monday.", hourly_rate=Decimal("65.00"), estimated_hours=60),
        by=other,
    )
    page.get_by_role("link", name="Compare bids").click()
    expect(page).to_have_url(re.compile(rf"/gigs/{gig.pk}/bids/$"))
    expect(page.get_by_text(invited.full_name).first).to_be_visible()
    expect(page.get_by_text(other.full_name).first).to_be_visible()
    expect(page.get_by_role("button", name="Hire")).to_have_count(2)
    screenshot(page, "j1-07-compare-bids")
    invited_bid = Bid.objects.get(gig=gig, freelancer=invited)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"form[action='/bids/{invited_bid.pk}/accept/'] button").click()

    contract = Contract.objects.get(gig=gig)
    expect(page.get_by_text(f"Hired. Contract #{contract.pk} starts once compliance checks pass.")).to_be_visible()
    expect(page.get_by_role("button", name="Hire")).to_have_count(0)
    screenshot(page, "j1-08-hired")
    assert contract.freelancer_id == invited.pk
    assert dict(Bid.objects.filter(gig=gig).values_list("freelancer_id", "status")) == {
        invited.pk: "accepted",
        other.pk: "declined",
    }
    gig.refresh_from_db()
    assert gig.status != Gig.Status.OPEN
