"""The signed-in home's role dashboards (core.views_dashboard): exact figures from rows made by the real services,
only the current organisation's (or freelancer's) data, the empty states, the next steps, the selectors' scoping
and a query count that does not grow with the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.selectors import ACTIVE_ORGANIZATION_SESSION_KEY
from engagements.models import Contract, StatementOfWork, Timesheet
from engagements.selectors import (
    contract_counts_for_user,
    hours_by_week_for_freelancer,
    sla_attainment_by_month_for_vendor,
    sow_counts_for_vendor,
)
from engagements.services import (
    MilestoneInput,
    ServiceLevelInput,
    SOWInput,
    TimeEntryInput,
    contract_activate,
    contract_complete,
    milestone_create,
    service_level_set,
    sla_evaluate,
    sla_measurement_record,
    sow_create,
    sow_propose,
    sow_sign,
    time_entry_add,
    timesheet_approve,
    timesheet_submit,
    week_start_of,
)
from engagements.services.sows import month_start
from marketplace.models import Bid, Gig
from marketplace.selectors.gigs import gig_list_open_with_bid_counts, gig_pipeline_counts
from marketplace.selectors.reviews import rating_counts_for_freelancer
from marketplace.services.bids import BidInput, bid_accept, bid_create, bid_decline, bid_shortlist
from marketplace.services.reviews import review_submit
from talent.models import Skill, VendorProfile
from tests.compliance_support import approve_all
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace.conftest import make_gig

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_MONDAY = week_start_of(TODAY)
THIS_MONTH = month_start(TODAY)
NO_GIGS = "No gigs taking bids"
NO_PAYMENTS = "No payments yet"
NO_REVIEWS = "<h3>No reviews yet</h3>"
NO_MONTH = "No month evaluated yet"


def _weeks_ago(count: int) -> date:
    return THIS_MONDAY - timedelta(weeks=count)


def _months_ago(count: int) -> date:
    month = THIS_MONTH
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month


def _dashboard(client: Client, user: User) -> Any:
    client.force_login(user)
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return response


def _html(response: Any) -> str:
    return response.content.decode()


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return len(queries)


# --- parties and work, through the real services ------------------------------------------------------------------
def _client_org(name: str) -> Membership:
    return MembershipFactory(organization=OrganizationFactory(kind=Organization.Kind.CLIENT, name=name))


def _vendor_firm(name: str) -> Membership:
    owner = MembershipFactory(organization=OrganizationFactory(kind=Organization.Kind.VENDOR, name=name))
    VendorProfile.objects.create(organization=owner.organization, headline="Service desk")
    approve_all(organization=owner.organization)
    return owner


def _freelancer(skill: Skill) -> User:
    profile = TalentProfileFactory(hourly_rate=Decimal("50"))
    ProfileSkillFactory(profile=profile, skill=skill)
    return profile.user


def _bid(gig: Gig, freelancer: User) -> Bid:
    return bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("60")), by=freelancer)


def _gig_with_bids(member: Membership, skill: Skill, title: str, *, new: int, shortlisted: int) -> Gig:
    gig = make_gig(member, skill, title=title)
    for index in range(new + shortlisted):
        bid = _bid(gig, _freelancer(skill))
        if index >= new:
            bid_shortlist(bid_id=bid.pk, by=member.user)
    return gig


def _hire(member: Membership, skill: Skill, freelancer: User, *, kind: str = "hourly") -> Contract:
    """An active contract between the client organisation and the freelancer, hired through a bid."""
    if kind == "fixed":
        gig = make_gig(member, skill, kind="fixed", budget_amount=Decimal("1000"))
        data = BidInput(cover_letter="Hi", amount=Decimal("900.00"))
    else:
        gig = make_gig(member, skill)
        data = BidInput(cover_letter="Hi", hourly_rate=Decimal("50"))
    bid = bid_create(gig_id=gig.pk, data=data, by=freelancer)
    contract = bid_accept(bid_id=bid.pk, by=member.user)
    approve_all(user=freelancer, contract=contract)
    contract = contract_activate(contract_id=contract.pk, by=member.user)
    if kind == "hourly":  # backdated so that past weeks can be logged
        Contract.objects.filter(pk=contract.pk).update(start_date=_weeks_ago(12), weekly_hour_cap=60)
    return contract


def _week(
    contract: Contract, freelancer: User, monday: date, *hours: str, status: str = "draft", client: User | None = None
) -> None:
    """Log `hours` (one entry each, on the Monday) and take the week to `status` (the `client` approves it)."""
    for index, amount in enumerate(hours):
        time_entry_add(
            contract_id=contract.pk,
            data=TimeEntryInput(
                work_date=monday, start_time=time(6 + 5 * index), hours=Decimal(amount), description="API work"
            ),
            by=freelancer,
        )
    timesheet = Timesheet.objects.get(contract=contract, week_start=monday)
    if status in ("submitted", "approved"):
        timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    if status == "approved":
        assert client is not None
        timesheet_approve(timesheet_id=timesheet.pk, by=client)


def _reviewed(member: Membership, skill: Skill, freelancer: User, rating: int, *, revealed: bool = True) -> None:
    """A completed fixed-price contract the client rated `rating`; revealed once the freelancer reviews too."""
    contract = _hire(member, skill, freelancer, kind="fixed")
    contract_complete(contract_id=contract.pk, by=member.user)
    review_submit(contract_id=contract.pk, by=member.user, rating=rating, comment="Thanks")
    if revealed:
        review_submit(contract_id=contract.pk, by=freelancer, rating=5, comment="Clear brief")


LEVELS = [
    ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("5")),
    ServiceLevelInput(metric="csat", target=Decimal("4.2"), credit_pct=Decimal("5")),
]


def _active_sow(client_owner: Membership, vendor_owner: Membership, title: str, *, start: date) -> StatementOfWork:
    data = SOWInput(
        title=title,
        scope="Email and chat support.",
        start_date=start,
        pricing_model=StatementOfWork.Pricing.FIXED_MONTHLY,
        currency="USD",
        monthly_fee=Decimal("10000"),
    )
    sow = sow_create(
        organization_id=client_owner.organization_id,
        counterparty_id=vendor_owner.organization_id,
        data=data,
        by=client_owner.user,
    )
    for level in LEVELS:
        service_level_set(sow_id=sow.pk, data=level, by=client_owner.user)
    sow_propose(sow_id=sow.pk, by=client_owner.user)
    sow_sign(sow_id=sow.pk, by=client_owner.user)
    sow_sign(sow_id=sow.pk, by=vendor_owner.user)
    sow.refresh_from_db()
    assert sow.status == StatementOfWork.Status.ACTIVE
    return sow


def _evaluate(sow: StatementOfWork, vendor_user: User, period: date, *, response: str, csat: str) -> None:
    """Record the month's first response time and CSAT (targets: ≤ 60 minutes, ≥ 4.2) and evaluate it."""
    for metric, value in (("first_response_minutes", response), ("csat", csat)):
        sla_measurement_record(sow_id=sow.pk, metric=metric, period=period, value=Decimal(value), by=vendor_user)
    sla_evaluate(sow_id=sow.pk, period=period)


@pytest.fixture
def skill() -> Skill:
    return SkillFactory(name="Python", slug="python")


# --- client -------------------------------------------------------------------------------------------------------
def test_client_sees_its_open_gigs_with_new_and_shortlisted_bids_and_its_drafts(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    payments = _gig_with_bids(northwind, skill, "Payments API", new=2, shortlisted=1)
    bid_decline(bid_id=_bid(payments, _freelancer(skill)).pk, by=northwind.user)  # decided: counted nowhere
    make_gig(northwind, skill, title="Data pipeline")
    make_gig(northwind, skill, title="Unpublished idea", publish=False)
    rival = _client_org("Rival Corp")
    _gig_with_bids(rival, skill, "Rival secret gig", new=3, shortlisted=2)
    make_gig(rival, skill, title="Rival draft", publish=False)

    response = _dashboard(client, northwind.user)

    panel = response.context["panel"]
    assert panel["pipeline"] == {"drafts": 1, "open": 2, "bids_new": 2}
    assert [(gig.title, gig.kind, gig.new, gig.shortlisted, gig.live) for gig in panel["open_gigs"]] == [
        ("Data pipeline", "Hourly", 0, 0, 0),
        ("Payments API", "Hourly", 2, 1, 3),
    ]
    assert [(gig.new_width, gig.shortlisted_width) for gig in panel["open_gigs"]] == [
        (Decimal(0), Decimal(0)),
        (Decimal("66.7"), Decimal("33.3")),
    ]
    assert panel["open_gigs_description"] == (
        "Bids on your open gigs. Data pipeline: 0 new, 0 shortlisted; Payments API: 2 new, 1 shortlisted."
    )
    html = _html(response)
    assert "Open gigs and bids" in html
    assert "2 new · 1 shortlisted" in html
    assert "No bids yet" in html
    assert "1 draft not published yet" in html
    assert "Rival secret gig" not in html and "Rival draft" not in html
    assert NO_GIGS not in html


def test_the_open_gig_links_to_its_bids(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    gig = _gig_with_bids(northwind, skill, "Payments API", new=1, shortlisted=0)

    html = _html(_dashboard(client, northwind.user))

    assert f'href="{reverse("marketplace:gig_bids", args=[gig.pk])}"' in html


def test_past_eight_open_gigs_the_card_shows_the_newest_and_links_to_all(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    for index in range(9):
        make_gig(northwind, skill, title=f"Gig {index}")

    response = _dashboard(client, northwind.user)

    panel = response.context["panel"]
    assert [gig.title for gig in panel["open_gigs"]] == [f"Gig {index}" for index in range(8, 0, -1)]
    assert panel["pipeline"]["open"] == 9
    html = _html(response)
    assert f'<a href="{reverse("marketplace:gig_list_mine")}?status=open">All 9 open gigs</a>' in html
    assert ">Gig 0<" not in html


def test_client_without_open_gigs_or_payments_sees_both_empty_states(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    make_gig(northwind, skill, title="Unpublished idea", publish=False)
    rival = _client_org("Rival Corp")
    _gig_with_bids(rival, skill, "Rival secret gig", new=1, shortlisted=0)

    response = _dashboard(client, northwind.user)

    panel = response.context["panel"]
    assert panel["pipeline"] == {"drafts": 1, "open": 0, "bids_new": 0}
    assert panel["open_gigs"] == []
    assert panel["spend_by_month"] == []
    html = _html(response)
    assert NO_GIGS in html
    assert NO_PAYMENTS in html
    assert "Rival secret gig" not in html


def test_the_organisation_chosen_in_the_session_is_the_one_shown(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    _gig_with_bids(northwind, skill, "Northwind gig", new=1, shortlisted=0)
    contoso = MembershipFactory(
        user=northwind.user, organization=OrganizationFactory(kind=Organization.Kind.CLIENT, name="Contoso")
    )
    _gig_with_bids(contoso, skill, "Contoso gig", new=2, shortlisted=1)
    client.force_login(northwind.user)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = contoso.organization_id
    session.save()

    response = client.get(reverse("core:dashboard"))

    panel = response.context["panel"]
    assert [(gig.title, gig.new, gig.shortlisted) for gig in panel["open_gigs"]] == [("Contoso gig", 2, 1)]
    assert panel["pipeline"] == {"drafts": 0, "open": 1, "bids_new": 2}
    html = _html(response)
    assert "Contoso gig" in html and "Northwind gig" not in html


def test_client_spend_counts_only_its_own_payments(
    client: Client, skill, fund_milestone: Callable[..., object]
) -> None:
    northwind, rival = _client_org("Northwind"), _client_org("Rival Corp")
    for member, amount in ((northwind, "400.00"), (rival, "100.00")):
        contract = _hire(member, skill, _freelancer(skill), kind="fixed")
        milestone = milestone_create(
            contract_id=contract.pk, data=MilestoneInput(title="Checkout", amount=Decimal(amount)), by=member.user
        )
        fund_milestone(milestone.pk, member.user)

    response = _dashboard(client, northwind.user)

    (spend,) = response.context["panel"]["spend_by_month"]
    assert (spend.currency, spend.total) == ("USD", Decimal("420.00"))  # 400.00 + the 5 % marketplace fee
    assert [row.value for row in spend.rows] == [Decimal("0.00")] * 5 + [Decimal("420.00")]
    html = _html(response)
    assert NO_PAYMENTS not in html
    assert "420.00" in html and "105.00" not in html


# --- freelancer ---------------------------------------------------------------------------------------------------
def test_freelancer_sees_hours_logged_and_approved_per_week(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    freelancer = _freelancer(skill)
    contract = _hire(northwind, skill, freelancer)
    _week(contract, freelancer, _weeks_ago(2), "3", "2.5", status="approved", client=northwind.user)
    _week(contract, freelancer, _weeks_ago(1), "4", status="submitted")
    _week(contract, freelancer, THIS_MONDAY, "1.25")
    other = _freelancer(skill)
    other_contract = _hire(northwind, skill, other)
    _week(other_contract, other, _weeks_ago(1), "7", status="approved", client=northwind.user)
    _week(other_contract, other, THIS_MONDAY, "2")

    response = _dashboard(client, freelancer)

    panel = response.context["panel"]
    weeks = panel["hour_weeks"]
    assert len(weeks) == 12 and weeks[0].week_start == _weeks_ago(11)
    assert [(week.week_start, week.logged, week.approved) for week in weeks[-3:]] == [
        (_weeks_ago(2), Decimal("5.50"), Decimal("5.50")),
        (_weeks_ago(1), Decimal("4.00"), Decimal("0.00")),
        (THIS_MONDAY, Decimal("1.25"), Decimal("0.00")),
    ]
    assert all(week.logged == week.approved == 0 for week in weeks[:-3])
    assert (panel["hours_total"], panel["hours_approved"], panel["hours_this_week"]) == (
        Decimal("10.75"),
        Decimal("5.50"),
        Decimal("1.25"),
    )
    html = _html(response)
    assert "10.75 h logged over the last 12 weeks, 5.50 h approved." in html

    def row(monday: date, logged: str, approved: str) -> str:
        return (
            f'<tr><th scope="row">{monday.day} {monday:%b %Y}</th><td class="numeric">{logged} h</td>'
            f'<td class="numeric">{approved} h</td></tr>'
        )

    assert row(_weeks_ago(2), "5.50", "5.50") in html
    assert row(_weeks_ago(1), "4", "0") in html
    assert row(THIS_MONDAY, "1.25", "0") in html
    assert "No hours logged" not in html


def test_freelancer_without_hours_sees_the_empty_state(client: Client, skill) -> None:
    freelancer = _freelancer(skill)
    other = _freelancer(skill)
    northwind = _client_org("Northwind")
    _week(_hire(northwind, skill, other), other, _weeks_ago(1), "7", status="submitted")

    response = _dashboard(client, freelancer)

    panel = response.context["panel"]
    assert (panel["hours_total"], panel["hours_approved"], panel["hours_this_week"]) == (0, 0, 0)
    assert "No hours logged in the last 12 weeks" in _html(response)


def test_freelancer_sees_the_distribution_of_revealed_client_ratings(client: Client, skill) -> None:
    freelancer = _freelancer(skill)
    northwind = _client_org("Northwind")
    for rating in (5, 5, 3):
        _reviewed(northwind, skill, freelancer, rating)
    _reviewed(northwind, skill, freelancer, 1, revealed=False)  # not shown until revealed
    _reviewed(northwind, skill, _freelancer(skill), 2)  # someone else's

    response = _dashboard(client, freelancer)

    panel = response.context["panel"]
    assert panel["ratings"] == {5: 2, 4: 0, 3: 1, 2: 0, 1: 0}
    assert list(panel["ratings"]) == [5, 4, 3, 2, 1]
    assert (panel["review_count"], panel["rating_average"]) == (3, Decimal("4.33"))
    html = _html(response)
    assert "4.3 out of 5 from 3 client reviews." in html
    assert '<tr><th scope="row">5 stars</th><td class="numeric">2</td></tr>' in html
    assert '<tr><th scope="row">3 stars</th><td class="numeric">1</td></tr>' in html
    assert '<tr><th scope="row">1 star</th><td class="numeric">0</td></tr>' in html
    assert NO_REVIEWS not in html


def test_freelancer_without_revealed_reviews_sees_no_reviews_yet(client: Client, skill) -> None:
    freelancer = _freelancer(skill)
    _reviewed(_client_org("Northwind"), skill, freelancer, 4, revealed=False)

    response = _dashboard(client, freelancer)

    panel = response.context["panel"]
    assert panel["ratings"] == {5: 0, 4: 0, 3: 0, 2: 0, 1: 0}
    assert (panel["review_count"], panel["rating_average"]) == (0, None)
    html = _html(response)
    assert NO_REVIEWS in html
    assert "Client reviews by rating" not in html


# --- vendor -------------------------------------------------------------------------------------------------------
def test_vendor_sees_sla_attainment_per_month_across_its_sows(client: Client) -> None:
    acme = _client_org("Acme Retail")
    helpdesk = _vendor_firm("Helpdesk Partners")
    rival = _vendor_firm("Rival Support")
    tier1 = _active_sow(acme, helpdesk, "Tier-1 support", start=_months_ago(3))
    tier2 = _active_sow(acme, helpdesk, "Tier-2 support", start=_months_ago(3))
    theirs = _active_sow(acme, rival, "Rival desk", start=_months_ago(3))
    two_ago, last = _months_ago(2), _months_ago(1)
    _evaluate(tier1, helpdesk.user, two_ago, response="45", csat="4.5")  # both met
    _evaluate(tier2, helpdesk.user, two_ago, response="75", csat="4.5")  # response breached
    _evaluate(tier1, helpdesk.user, last, response="60", csat="4.2")  # both met (targets inclusive)
    _evaluate(theirs, rival.user, two_ago, response="90", csat="3.0")
    _evaluate(theirs, rival.user, last, response="90", csat="3.0")

    response = _dashboard(client, helpdesk.user)

    panel = response.context["panel"]
    assert [(row.month, row.met, row.total, row.sows, row.breaches, row.percent) for row in panel["attainment"]] == [
        (last, 2, 2, 1, 0, Decimal("100.0")),
        (two_ago, 3, 4, 2, 1, Decimal("75.0")),
    ]
    assert panel["attainment_latest"].month == last
    assert panel["sows"] == {"active": 2, "to_sign": 0}
    html = _html(response)
    assert (
        f'<tr><th scope="row">{last:%B %Y}</th><td class="numeric">1</td><td class="numeric">2 of 2</td>'
        '<td class="numeric">100 %</td><td class="numeric">0</td></tr>'
    ) in html
    assert (
        f'<tr><th scope="row">{two_ago:%B %Y}</th><td class="numeric">2</td><td class="numeric">3 of 4</td>'
        '<td class="numeric">75 %</td><td class="numeric">1</td></tr>'
    ) in html
    assert f"SLA attainment, {last:%B %Y}" in html
    assert "2 of 2 service levels met" in html
    assert NO_MONTH not in html


def test_vendor_without_evaluations_sees_the_empty_state_not_another_firms_months(client: Client) -> None:
    acme = _client_org("Acme Retail")
    helpdesk = _vendor_firm("Helpdesk Partners")
    rival = _vendor_firm("Rival Support")
    _active_sow(acme, helpdesk, "Tier-1 support", start=_months_ago(3))
    theirs = _active_sow(acme, rival, "Rival desk", start=_months_ago(3))
    _evaluate(theirs, rival.user, _months_ago(1), response="90", csat="3.0")

    response = _dashboard(client, helpdesk.user)

    panel = response.context["panel"]
    assert panel["attainment"] == [] and panel["attainment_latest"] is None
    assert panel["attainment_description"] == "No month has been evaluated yet."
    html = _html(response)
    assert NO_MONTH in html
    assert "Not evaluated yet" in html


# --- next steps ---------------------------------------------------------------------------------------------------
def test_client_next_steps_show_progress_until_all_are_done(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    make_gig(northwind, skill, title="Unpublished idea", publish=False)

    response = _dashboard(client, northwind.user)

    assert (response.context["steps_done"], response.context["setup_complete"]) == (1, False)
    html = _html(response)
    assert "Next steps" in html and "1 of 2 complete" in html and "Setup progress" in html

    make_gig(northwind, skill, title="Payments API")

    response = _dashboard(client, northwind.user)

    assert (response.context["steps_done"], response.context["setup_complete"]) == (2, True)
    html = _html(response)
    assert "Next steps" not in html and "of 2 complete" not in html and "Setup progress" not in html


def test_freelancer_next_steps_are_hidden_once_they_have_bid(client: Client, skill) -> None:
    freelancer = _freelancer(skill)

    html = _html(_dashboard(client, freelancer))

    assert "Next steps" in html and "0 of 1 complete" in html and "Place your first bid" in html

    _bid(make_gig(_client_org("Northwind"), skill), freelancer)

    response = _dashboard(client, freelancer)

    assert response.context["setup_complete"] is True
    assert response.context["panel"]["live_bids"] == 1
    html = _html(response)
    assert "Next steps" not in html and "Place your first bid" not in html


def test_vendor_next_steps_are_hidden_once_the_firm_has_bid(client: Client, skill) -> None:
    helpdesk = _vendor_firm("Helpdesk Partners")

    html = _html(_dashboard(client, helpdesk.user))

    assert "Next steps" in html and "0 of 1 complete" in html

    gig = make_gig(_client_org("Northwind"), skill)
    bid_create(
        gig_id=gig.pk,
        data=BidInput(
            cover_letter="Our team", hourly_rate=Decimal("60"), vendor_organization_id=helpdesk.organization_id
        ),
        by=helpdesk.user,
    )

    response = _dashboard(client, helpdesk.user)

    assert response.context["setup_complete"] is True
    assert response.context["panel"]["live_bids"] == 1
    assert "Next steps" not in _html(response)


# --- cost ---------------------------------------------------------------------------------------------------------
def test_the_client_dashboard_costs_the_same_queries_for_one_or_six_open_gigs(client: Client, skill) -> None:
    northwind = _client_org("Northwind")
    _gig_with_bids(northwind, skill, "Gig 0", new=1, shortlisted=1)
    _dashboard(client, northwind.user)
    with_one = _queries(client)

    for index in range(1, 6):
        _gig_with_bids(northwind, skill, f"Gig {index}", new=1, shortlisted=1)
    response = _dashboard(client, northwind.user)
    with_six = _queries(client)

    assert len(response.context["panel"]["open_gigs"]) == 6
    assert with_one == with_six


def test_the_freelancer_dashboard_costs_the_same_queries_for_one_or_six_weeks(client: Client, skill) -> None:
    freelancer = _freelancer(skill)
    northwind = _client_org("Northwind")
    contract = _hire(northwind, skill, freelancer)
    _week(contract, freelancer, _weeks_ago(1), "2", status="approved", client=northwind.user)
    _reviewed(northwind, skill, freelancer, 4)
    _dashboard(client, freelancer)
    with_one = _queries(client)

    for back in range(2, 7):
        _week(contract, freelancer, _weeks_ago(back), "3", status="submitted")
    for rating in (5, 3, 2):
        _reviewed(northwind, skill, freelancer, rating)
    response = _dashboard(client, freelancer)
    with_six = _queries(client)

    panel = response.context["panel"]
    assert sum(1 for week in panel["hour_weeks"] if week.logged) == 6 and panel["review_count"] == 4
    assert with_one == with_six


def test_the_vendor_dashboard_costs_the_same_queries_for_one_or_four_evaluated_months(client: Client) -> None:
    acme = _client_org("Acme Retail")
    helpdesk = _vendor_firm("Helpdesk Partners")
    sow = _active_sow(acme, helpdesk, "Tier-1 support", start=_months_ago(5))
    _evaluate(sow, helpdesk.user, _months_ago(1), response="45", csat="4.5")
    _dashboard(client, helpdesk.user)
    with_one = _queries(client)

    second = _active_sow(acme, helpdesk, "Tier-2 support", start=_months_ago(5))
    for back in range(2, 5):
        _evaluate(sow, helpdesk.user, _months_ago(back), response="75", csat="4.5")
        _evaluate(second, helpdesk.user, _months_ago(back), response="45", csat="4.5")
    response = _dashboard(client, helpdesk.user)
    with_four = _queries(client)

    assert len(response.context["panel"]["attainment"]) == 4
    assert with_one == with_four


# --- selectors: scoped to the organisations the user belongs to ----------------------------------------------------
def test_gig_selectors_give_an_outsider_nothing_of_another_organisation(skill) -> None:
    northwind = _client_org("Northwind")
    _gig_with_bids(northwind, skill, "Payments API", new=1, shortlisted=1)
    make_gig(northwind, skill, title="Unpublished idea", publish=False)
    outsider = _client_org("Rival Corp").user

    assert gig_pipeline_counts(user=northwind.user, organization_id=northwind.organization_id) == {
        "drafts": 1,
        "open": 1,
        "bids_new": 1,
    }
    assert gig_pipeline_counts(user=outsider, organization_id=northwind.organization_id) == {
        "drafts": 0,
        "open": 0,
        "bids_new": 0,
    }
    assert [
        (row["title"], row["bids_new"], row["bids_shortlisted"], row["bids_live"])
        for row in gig_list_open_with_bid_counts(user=northwind.user, organization_id=northwind.organization_id)
    ] == [("Payments API", 1, 1, 2)]
    assert gig_list_open_with_bid_counts(user=outsider, organization_id=northwind.organization_id) == []


def test_the_open_gig_list_stops_at_its_limit_newest_first(skill) -> None:
    northwind = _client_org("Northwind")
    for index in range(4):
        make_gig(northwind, skill, title=f"Gig {index}")

    rows = gig_list_open_with_bid_counts(user=northwind.user, organization_id=northwind.organization_id, limit=3)

    assert [row["title"] for row in rows] == ["Gig 3", "Gig 2", "Gig 1"]


def test_engagement_selectors_give_an_outsider_nothing_of_another_organisation(skill) -> None:
    acme = _client_org("Acme Retail")
    helpdesk = _vendor_firm("Helpdesk Partners")
    outsider = _vendor_firm("Rival Support").user
    sow = _active_sow(acme, helpdesk, "Tier-1 support", start=_months_ago(3))
    _evaluate(sow, helpdesk.user, _months_ago(1), response="75", csat="4.5")
    freelancer = _freelancer(skill)
    _week(_hire(acme, skill, freelancer), freelancer, _weeks_ago(1), "2", status="submitted")
    since = _months_ago(12)

    assert sla_attainment_by_month_for_vendor(
        user=helpdesk.user, organization_id=helpdesk.organization_id, since=since
    ) == {_months_ago(1): {"met": 1, "total": 2, "sows": 1, "breaches": 1}}
    assert (
        sla_attainment_by_month_for_vendor(user=outsider, organization_id=helpdesk.organization_id, since=since) == {}
    )
    assert sow_counts_for_vendor(user=helpdesk.user, organization_id=helpdesk.organization_id) == {
        "active": 1,
        "to_sign": 0,
    }
    assert sow_counts_for_vendor(user=outsider, organization_id=helpdesk.organization_id) == {"active": 0, "to_sign": 0}
    assert contract_counts_for_user(user=acme.user, organization_id=acme.organization_id) == {
        "active": 1,
        "pending": 0,
        "to_review": 1,
    }
    assert contract_counts_for_user(user=outsider, organization_id=acme.organization_id) == {
        "active": 0,
        "pending": 0,
        "to_review": 0,
    }
    assert hours_by_week_for_freelancer(user=freelancer, since=_weeks_ago(11)) == {
        _weeks_ago(1): {"logged": Decimal("2.00"), "approved": Decimal("0.00")}
    }
    assert hours_by_week_for_freelancer(user=acme.user, since=_weeks_ago(11)) == {}  # the client logs no hours


def test_rating_counts_are_the_freelancers_own_revealed_client_reviews(skill) -> None:
    freelancer, other = _freelancer(skill), _freelancer(skill)
    northwind = _client_org("Northwind")
    _reviewed(northwind, skill, freelancer, 4)
    _reviewed(northwind, skill, freelancer, 2, revealed=False)
    _reviewed(northwind, skill, other, 1)

    assert rating_counts_for_freelancer(user_id=freelancer.pk) == {5: 0, 4: 1, 3: 0, 2: 0, 1: 0}
    assert rating_counts_for_freelancer(user_id=other.pk) == {5: 0, 4: 0, 3: 0, 2: 0, 1: 1}
