"""The marketplace's partner API beyond gigs: bids, invitations, matches, micro-task batches and units.

Each endpoint: success, validation errors, and permissions (another organisation's key gets 404 or an empty list
and changes nothing; a read-only key may not write; no key is 401). Extra fields in bodies are ignored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from engagements.models import Contract
from marketplace.models import Bid, Gig, Invitation, Match, TaskBatch, TaskUnit
from marketplace.services.bids import BidInput, bid_create
from marketplace.services.matching import match_gig
from marketplace.services.microtasks import task_unit_claim_next, task_unit_submit
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.factories import MembershipFactory, OrganizationFactory, ProfileSkillFactory, TalentProfileFactory
from tests.marketplace import test_microtasks_support as micro
from tests.marketplace.conftest import make_gig

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def _bid(gig: Gig, user, *, rate: str = "60") -> Bid:
    return bid_create(gig_id=gig.pk, data=BidInput(cover_letter="I built three.", hourly_rate=Decimal(rate)), by=user)


def _freelancer(skill, name: str):
    profile = TalentProfileFactory(user__full_name=name, headline=f"{name}, backend engineer")
    ProfileSkillFactory(profile=profile, skill=skill, level=4)
    return profile.user


def _vendor(name: str = "Acme Delivery") -> Organization:
    return OrganizationFactory(name=name, kind=Organization.Kind.VENDOR)


def _problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


FACTORS = {
    "skills": {"value": "1.0000", "weight": "0.40"},
    "rate": {"value": "0.5000", "weight": "0.15"},
    "newcomer_boost": "0.05",
    "exposure_penalty": "0.0000",
}


# --- bids: create -------------------------------------------------------------------------------------------------


def test_a_freelancer_key_bids_and_fields_it_may_not_set_are_ignored(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    other = _vendor()

    response = api_client(freelancer_api_key(freelancer)).post(
        f"{V1}/gigs/{gig.pk}/bids/",
        {
            "cover_letter": "I built three of these.",
            "hourly_rate": "60.00",
            "estimated_hours": 50,
            "status": "accepted",
            "currency": "EUR",
            "is_outside_guardrail": True,
            "vendor_id": other.pk,
            "freelancer_id": client_member.user_id,
            "decided_at": "2026-01-01T00:00:00Z",
        },
        format="json",
    )

    assert response.status_code == 201
    bid = Bid.objects.get()
    body = response.json()
    assert body["id"] == bid.pk
    assert {key: body[key] for key in ("gig_id", "status", "freelancer_id", "vendor_id", "bidder_name")} == {
        "gig_id": gig.pk,
        "status": "submitted",
        "freelancer_id": freelancer.pk,
        "vendor_id": None,
        "bidder_name": "Fran Freelance",
    }
    assert (body["currency"], body["hourly_rate"], body["amount"], body["estimated_hours"]) == (
        "USD",
        "60.00",
        None,
        50,
    )
    assert (body["is_outside_guardrail"], body["client_fees"], body["match"]) == (None, None, None)  # client's only
    assert (bid.status, bid.currency, bid.freelancer_id, bid.vendor_id, bid.decided_at) == (
        "submitted",
        "USD",
        freelancer.pk,
        None,
        None,
    )


def test_a_vendor_firms_key_bids_for_the_firm(client_member, python_skill) -> None:
    gig = make_gig(client_member, python_skill)
    vendor = _vendor("Acme Delivery")

    response = api_client(org_api_key(vendor)).post(
        f"{V1}/gigs/{gig.pk}/bids/", {"cover_letter": "Our team did this twice.", "hourly_rate": "90"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["vendor_id"], response.json()["freelancer_id"], response.json()["bidder_name"]) == (
        vendor.pk,
        None,
        "Acme Delivery",
    )
    assert Bid.objects.get().vendor_id == vendor.pk


def test_bid_validation_errors_are_problem_details_with_the_fields(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    client = api_client(freelancer_api_key(freelancer))

    malformed = client.post(f"{V1}/gigs/{gig.pk}/bids/", {"hourly_rate": "lots", "team_member_ids": ["x"]})
    refused = client.post(f"{V1}/gigs/{gig.pk}/bids/", {"cover_letter": "Hire me."}, format="json")

    assert malformed.status_code == 400
    assert set(_problem(malformed)["errors"]) == {"cover_letter", "hourly_rate", "team_member_ids"}
    assert refused.status_code == 400
    assert _problem(refused)["errors"] == {"hourly_rate": ["Enter your hourly rate."]}
    assert not Bid.objects.exists()


def test_a_client_key_may_not_bid_on_its_own_gig_nor_as_a_firm_it_is_not(client_member, python_skill) -> None:
    gig = make_gig(client_member, python_skill)
    other_client = OrganizationFactory(kind=Organization.Kind.CLIENT)
    body = {"cover_letter": "Hi", "hourly_rate": "60"}

    own = api_client(org_api_key(client_member.organization)).post(f"{V1}/gigs/{gig.pk}/bids/", body, format="json")
    not_a_vendor = api_client(org_api_key(other_client)).post(f"{V1}/gigs/{gig.pk}/bids/", body, format="json")

    assert (own.status_code, not_a_vendor.status_code) == (403, 403)
    assert "own organisation" in _problem(own)["detail"]
    assert not Bid.objects.exists()


def test_a_bid_on_a_gig_the_caller_may_not_see_is_404(client_member, python_skill, freelancer) -> None:
    draft = make_gig(client_member, python_skill, publish=False)

    response = api_client(freelancer_api_key(freelancer)).post(
        f"{V1}/gigs/{draft.pk}/bids/", {"cover_letter": "Hi", "hourly_rate": "60"}, format="json"
    )

    assert response.status_code == 404
    assert not Bid.objects.exists()


# --- bids: lists --------------------------------------------------------------------------------------------------


def test_the_client_compares_bids_with_its_fees_and_each_bidders_match(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid = _bid(gig, freelancer)
    Match.objects.create(gig=gig, freelancer=freelancer, rank=2, score=Decimal("0.8123"), factors=FACTORS)

    response = api_client(org_api_key(client_member.organization, scopes=READ_SCOPES)).get(f"{V1}/gigs/{gig.pk}/bids/")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == bid.pk
    assert (row["bidder_name"], row["hourly_rate"], row["is_outside_guardrail"]) == ("Fran Freelance", "60.00", False)
    assert row["client_fees"] == {
        "price": "60.00",
        "client_fee_percent": "5.00",
        "client_fee": "3.00",
        "client_total": "63.00",
        "currency": "USD",
        "is_per_hour": True,
    }
    assert row["match"] == {"rank": 2, "score": "0.8123"}


def test_bids_on_a_gig_filter_by_status_and_are_404_to_other_organisations(
    client_member, python_skill, freelancer
) -> None:
    gig = make_gig(client_member, python_skill)
    kept = _bid(gig, freelancer)
    withdrawn = _bid(gig, _freelancer(python_skill, "Wes Withdrawn"))
    Bid.objects.filter(pk=withdrawn.pk).update(status=Bid.Status.WITHDRAWN)
    mine = api_client(org_api_key(client_member.organization))

    submitted = mine.get(f"{V1}/gigs/{gig.pk}/bids/?status=submitted")
    invalid = mine.get(f"{V1}/gigs/{gig.pk}/bids/?status=won")
    theirs = api_client(org_api_key(OrganizationFactory())).get(f"{V1}/gigs/{gig.pk}/bids/")
    bidder = api_client(freelancer_api_key(freelancer)).get(f"{V1}/gigs/{gig.pk}/bids/")

    assert [row["id"] for row in submitted.json()["results"]] == [kept.pk]
    assert invalid.status_code == 400 and set(_problem(invalid)["errors"]) == {"status"}
    assert (theirs.status_code, bidder.status_code) == (404, 404)


def test_the_client_bid_list_takes_a_constant_number_of_queries(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    client = api_client(org_api_key(client_member.organization))
    _bid(gig, freelancer)
    client.get(f"{V1}/gigs/{gig.pk}/bids/")  # warm up: the key's last-used time, caches
    with CaptureQueriesContext(connection) as one:
        client.get(f"{V1}/gigs/{gig.pk}/bids/")
    for name in ("Ann", "Bob"):
        vendor = _vendor(f"{name} Ltd")
        data = BidInput(cover_letter="Hi", hourly_rate=Decimal("70"), vendor_organization_id=vendor.pk)
        bid_create(gig_id=gig.pk, data=data, by=MembershipFactory(organization=vendor).user)

    with CaptureQueriesContext(connection) as three:
        response = client.get(f"{V1}/gigs/{gig.pk}/bids/")

    assert len(response.json()["results"]) == 3
    assert len(three) == len(one)


def test_a_bidder_lists_only_their_own_bids(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    other_gig = make_gig(client_member, python_skill, title="Another API")
    mine = _bid(gig, freelancer)
    mine_elsewhere = _bid(other_gig, freelancer)
    _bid(gig, _freelancer(python_skill, "Someone Else"))
    client = api_client(freelancer_api_key(freelancer, scopes=READ_SCOPES))

    everything = client.get(f"{V1}/bids/")
    on_one_gig = client.get(f"{V1}/bids/?gig={gig.pk}")

    assert [row["id"] for row in everything.json()["results"]] == [mine_elsewhere.pk, mine.pk]
    assert [row["id"] for row in on_one_gig.json()["results"]] == [mine.pk]
    assert everything.json()["results"][0]["client_fees"] is None
    assert api_client(org_api_key(OrganizationFactory())).get(f"{V1}/bids/").json()["results"] == []


def test_the_bidder_list_takes_a_constant_number_of_queries(client_member, python_skill, freelancer) -> None:
    client = api_client(freelancer_api_key(freelancer))
    gigs = [make_gig(client_member, python_skill, title=f"API {n}") for n in range(3)]
    _bid(gigs[0], freelancer)
    client.get(f"{V1}/bids/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"{V1}/bids/")
    _bid(gigs[1], freelancer)
    _bid(gigs[2], freelancer)

    with CaptureQueriesContext(connection) as three:
        response = client.get(f"{V1}/bids/")

    assert len(response.json()["results"]) == 3
    assert len(three) == len(one)


# --- bids: actions ------------------------------------------------------------------------------------------------


def test_the_bidder_withdraws_and_nobody_else_can(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid = _bid(gig, freelancer)

    by_client = api_client(org_api_key(client_member.organization)).post(f"{V1}/bids/{bid.pk}/withdraw/")
    read_only = api_client(freelancer_api_key(freelancer, scopes=READ_SCOPES)).post(f"{V1}/bids/{bid.pk}/withdraw/")
    assert (by_client.status_code, read_only.status_code) == (404, 403)
    assert Bid.objects.get().status == "submitted"

    response = api_client(freelancer_api_key(freelancer)).post(f"{V1}/bids/{bid.pk}/withdraw/", {"status": "accepted"})

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert Bid.objects.get().status == "withdrawn"


def test_the_client_shortlists_and_declines_and_a_second_decline_is_a_conflict(
    client_member, python_skill, freelancer
) -> None:
    gig = make_gig(client_member, python_skill)
    bid = _bid(gig, freelancer)
    client = api_client(org_api_key(client_member.organization))

    shortlisted = client.post(f"{V1}/bids/{bid.pk}/shortlist/")
    declined = client.post(f"{V1}/bids/{bid.pk}/decline/")
    again = client.post(f"{V1}/bids/{bid.pk}/decline/")

    assert (shortlisted.status_code, shortlisted.json()["status"]) == (200, "shortlisted")
    assert shortlisted.json()["client_fees"]["client_total"] == "63.00"
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert again.status_code == 409
    assert _problem(again)["detail"]


def test_shortlist_and_decline_are_404_to_the_bidder_and_other_organisations(
    client_member, python_skill, freelancer
) -> None:
    gig = make_gig(client_member, python_skill)
    bid = _bid(gig, freelancer)
    callers = [api_client(freelancer_api_key(freelancer)), api_client(org_api_key(OrganizationFactory()))]

    statuses = [
        caller.post(f"{V1}/bids/{bid.pk}/{action}/").status_code
        for caller in callers
        for action in ("shortlist", "decline", "accept")
    ]

    assert statuses == [404] * 6
    assert Bid.objects.get().status == "submitted"
    assert not Contract.objects.exists()


def test_accepting_a_bid_hires_and_returns_the_contract(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    bid = _bid(gig, freelancer)
    other = _bid(gig, _freelancer(python_skill, "Runner Up"))
    read_only = api_client(org_api_key(client_member.organization, scopes=READ_SCOPES))
    assert read_only.post(f"{V1}/bids/{bid.pk}/accept/").status_code == 403
    assert not Contract.objects.exists()

    response = api_client(org_api_key(client_member.organization)).post(f"{V1}/bids/{bid.pk}/accept/")

    contract = Contract.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "contract_id": contract.pk,
        "status": "pending_compliance",
        "bid_id": bid.pk,
        "gig_id": gig.pk,
    }
    assert Bid.objects.get(pk=other.pk).status == "declined"
    assert Gig.objects.get(pk=gig.pk).status == "in_progress"


# --- invitations --------------------------------------------------------------------------------------------------


def test_the_client_invites_a_freelancer_who_sees_the_invitation(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    other_gig = make_gig(MembershipFactory(), python_skill)
    client = api_client(org_api_key(client_member.organization))

    response = client.post(
        f"{V1}/gigs/{gig.pk}/invitations/",
        {"freelancer_id": freelancer.pk, "message": "You'd be great.", "status": "bid", "gig_id": other_gig.pk},
        format="json",
    )

    invitation = Invitation.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": invitation.pk,
        "gig_id": gig.pk,
        "gig_title": "Build a payments API",
        "organization": "Northwind",
        "freelancer_id": freelancer.pk,
        "vendor_id": None,
        "invitee_name": "Fran Freelance",
        "message": "You'd be great.",
        "status": "sent",
        "created_at": response.json()["created_at"],
    }
    assert (invitation.gig_id, invitation.status) == (gig.pk, "sent")
    assert [row["id"] for row in client.get(f"{V1}/gigs/{gig.pk}/invitations/").json()["results"]] == [invitation.pk]
    invitee = api_client(freelancer_api_key(freelancer, scopes=READ_SCOPES)).get(f"{V1}/invitations/")
    assert [row["id"] for row in invitee.json()["results"]] == [invitation.pk]


def test_a_vendor_firm_sees_its_invitations_and_nobody_else_does(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    vendor = _vendor()
    client = api_client(org_api_key(client_member.organization))
    client.post(f"{V1}/gigs/{gig.pk}/invitations/", {"vendor_id": vendor.pk}, format="json")

    firm = api_client(org_api_key(vendor)).get(f"{V1}/invitations/")
    others = api_client(freelancer_api_key(freelancer)).get(f"{V1}/invitations/")

    assert [(row["vendor_id"], row["invitee_name"]) for row in firm.json()["results"]] == [(vendor.pk, "Acme Delivery")]
    assert others.json()["results"] == []


def test_invitation_errors(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    client = api_client(org_api_key(client_member.organization))

    malformed = client.post(f"{V1}/gigs/{gig.pk}/invitations/", {"freelancer_id": "fran"}, format="json")
    neither = client.post(f"{V1}/gigs/{gig.pk}/invitations/", {"message": "Hi"}, format="json")
    twice = [
        client.post(f"{V1}/gigs/{gig.pk}/invitations/", {"freelancer_id": freelancer.pk}, format="json")
        for _ in range(2)
    ]

    assert malformed.status_code == 400 and set(_problem(malformed)["errors"]) == {"freelancer_id"}
    assert neither.status_code == 400 and "either a freelancer or a vendor" in _problem(neither)["detail"]
    assert [response.status_code for response in twice] == [201, 409]
    assert Invitation.objects.count() == 1


def test_invitations_of_another_organisations_gig_are_404_and_nothing_is_sent(
    client_member, python_skill, freelancer
) -> None:
    gig = make_gig(client_member, python_skill)
    theirs = api_client(org_api_key(OrganizationFactory()))

    listed = theirs.get(f"{V1}/gigs/{gig.pk}/invitations/")
    invited = theirs.post(f"{V1}/gigs/{gig.pk}/invitations/", {"freelancer_id": freelancer.pk}, format="json")
    read_only = api_client(org_api_key(client_member.organization, scopes=READ_SCOPES)).post(
        f"{V1}/gigs/{gig.pk}/invitations/", {"freelancer_id": freelancer.pk}, format="json"
    )

    assert (listed.status_code, invited.status_code, read_only.status_code) == (404, 404, 403)
    assert not Invitation.objects.exists()


# --- matches ------------------------------------------------------------------------------------------------------


def test_matches_are_ranked_with_their_explanations(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    runner_up = _freelancer(python_skill, "Runner Up")
    Match.objects.create(gig=gig, freelancer=runner_up, rank=2, score=Decimal("0.6000"), factors=FACTORS)
    Match.objects.create(gig=gig, freelancer=freelancer, rank=1, score=Decimal("0.8500"), factors=FACTORS)
    client = api_client(org_api_key(client_member.organization, scopes=READ_SCOPES))
    Invitation.objects.create(gig=gig, freelancer=runner_up, invited_by=client_member.user)

    response = client.get(f"{V1}/gigs/{gig.pk}/matches/")

    assert response.status_code == 200
    first, second = response.json()["results"]
    assert {key: first[key] for key in first if key != "computed_at"} == {
        "rank": 1,
        "score": "0.8500",
        "freelancer_id": freelancer.pk,
        "vendor_id": None,
        "name": "Fran Freelance",
        "headline": "Backend engineer",
        "factors": [
            {"name": "skills", "value": "1.0000", "weight": "0.40"},
            {"name": "rate", "value": "0.5000", "weight": "0.15"},
        ],
        "newcomer_boost": "0.0500",
        "exposure_penalty": "0.0000",
        "is_invited": False,
        "invited_at": None,
    }
    assert (second["rank"], second["name"], second["is_invited"]) == (2, "Runner Up", True)


def test_matches_show_the_ranking_the_matcher_stored(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    match_gig(gig_id=gig.pk)

    response = api_client(org_api_key(client_member.organization)).get(f"{V1}/gigs/{gig.pk}/matches/")

    [row] = response.json()["results"]
    assert (row["rank"], row["freelancer_id"]) == (1, freelancer.pk)
    assert [factor["name"] for factor in row["factors"]] == [
        "skills",
        "rate",
        "availability",
        "timezone",
        "rating",
        "relevance",
        "compliance",
    ]
    assert row["score"] == str(Match.objects.get().score)


def test_matches_are_404_to_other_organisations_and_bidders(client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill)
    Match.objects.create(gig=gig, freelancer=freelancer, rank=1, score=Decimal("0.8500"), factors=FACTORS)

    theirs = api_client(org_api_key(OrganizationFactory())).get(f"{V1}/gigs/{gig.pk}/matches/")
    candidate = api_client(freelancer_api_key(freelancer)).get(f"{V1}/gigs/{gig.pk}/matches/")

    assert (theirs.status_code, candidate.status_code) == (404, 404)


def test_refreshing_matches_queues_a_ranking_of_an_open_gig_only(
    client_member, python_skill, django_capture_on_commit_callbacks
) -> None:
    gig = make_gig(client_member, python_skill)
    draft = make_gig(client_member, python_skill, publish=False)
    client = api_client(org_api_key(client_member.organization))

    with django_capture_on_commit_callbacks() as callbacks:
        queued = client.post(f"{V1}/gigs/{gig.pk}/matches/refresh/")
    refused = client.post(f"{V1}/gigs/{draft.pk}/matches/refresh/")
    theirs = api_client(org_api_key(OrganizationFactory())).post(f"{V1}/gigs/{gig.pk}/matches/refresh/")

    assert queued.status_code == 202
    assert len(callbacks) == 1
    assert refused.status_code == 409
    assert theirs.status_code == 404


# --- micro-task batches -------------------------------------------------------------------------------------------


BATCH_BODY = {
    "instructions": "Label the sentiment of each review.",
    "unit_price": "0.25",
    "time_limit_minutes": 5,
    "answer_options": ["positive", "negative"],
}


def test_the_client_creates_reads_and_edits_its_batch_ignoring_fields_it_may_not_set() -> None:
    member = micro.make_client_member()
    gig = micro.make_gig(member, status=Gig.Status.DRAFT, currency="EUR")
    client = api_client(org_api_key(member.organization))

    created = client.post(
        f"{V1}/gigs/{gig.pk}/batch/",
        {**BATCH_BODY, "status": "open", "currency": "USD", "payload_columns": ["x"], "opened_at": "2026-01-01T00:00Z"},
        format="json",
    )
    edited = client.put(f"{V1}/gigs/{gig.pk}/batch/", {**BATCH_BODY, "unit_price": "0.30"}, format="json")
    read = client.get(f"{V1}/gigs/{gig.pk}/batch/")

    batch = TaskBatch.objects.get()
    assert created.status_code == 201
    assert (batch.status, batch.currency, batch.payload_columns, batch.opened_at) == ("draft", "EUR", [], None)
    assert edited.status_code == 200 and batch.unit_price == Decimal("0.30")
    assert read.json() == {
        "id": batch.pk,
        "gig_id": gig.pk,
        "status": "draft",
        "instructions": "Label the sentiment of each review.",
        "answer_options": ["positive", "negative"],
        "payload_columns": [],
        "unit_price": "0.30",
        "currency": "EUR",
        "time_limit_minutes": 5,
        "min_accuracy": None,
        "opened_at": None,
        "closed_at": None,
        "created_at": read.json()["created_at"],
        "progress": {
            "total": 0,
            "open": 0,
            "leased": 0,
            "submitted": 0,
            "accepted": 0,
            "rejected": 0,
            "reviewed": 0,
            "gold": 0,
            "gold_answered": 0,
            "gold_correct": 0,
            "earned": "0.00",
        },
    }


def test_batch_validation_errors_and_refusals() -> None:
    member = micro.make_client_member()
    gig = micro.make_gig(member)
    hourly = micro.make_gig(member, kind=Gig.Kind.HOURLY)
    client = api_client(org_api_key(member.organization))

    malformed = client.post(f"{V1}/gigs/{gig.pk}/batch/", {"unit_price": "cheap"}, format="json")
    refused = client.post(f"{V1}/gigs/{gig.pk}/batch/", {**BATCH_BODY, "unit_price": "0"}, format="json")
    not_micro = client.post(f"{V1}/gigs/{hourly.pk}/batch/", BATCH_BODY, format="json")

    assert malformed.status_code == 400 and set(_problem(malformed)["errors"]) == {"instructions", "unit_price"}
    assert refused.status_code == 400 and set(_problem(refused)["errors"]) == {"unit_price"}
    assert not_micro.status_code == 409
    assert not TaskBatch.objects.exists()


def test_the_client_opens_and_closes_its_batch() -> None:
    batch = micro.make_batch(units=2, status=TaskBatch.Status.DRAFT)
    client = api_client(org_api_key(batch.gig.organization))

    opened = client.post(f"{V1}/gigs/{batch.gig_id}/batch/open/")
    closed = client.post(f"{V1}/gigs/{batch.gig_id}/batch/close/")
    again = client.post(f"{V1}/gigs/{batch.gig_id}/batch/close/")

    assert (opened.status_code, opened.json()["status"], opened.json()["progress"]["open"]) == (200, "open", 2)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert again.status_code == 409


def test_batches_of_another_organisation_are_404_and_unchanged() -> None:
    batch = micro.make_batch(units=1, status=TaskBatch.Status.DRAFT)
    theirs = api_client(org_api_key(OrganizationFactory()))
    url = f"{V1}/gigs/{batch.gig_id}/batch/"

    statuses = [
        theirs.get(url).status_code,
        theirs.put(url, BATCH_BODY, format="json").status_code,
        theirs.post(f"{url}open/").status_code,
        theirs.post(f"{url}close/").status_code,
        theirs.post(f"{V1}/gigs/{batch.gig_id}/units/", {"units": [{"id": "x", "payload": {"a": 1}}]}).status_code,
    ]

    assert statuses == [404] * 5
    batch.refresh_from_db()
    assert (batch.status, batch.instructions, batch.units.count()) == ("draft", "Label the sentiment.", 1)


# --- micro-task units: the client -----------------------------------------------------------------------------------


def test_units_are_uploaded_in_bulk_through_the_import_ignoring_extra_keys() -> None:
    batch = micro.make_batch(status=TaskBatch.Status.DRAFT)
    client = api_client(org_api_key(batch.gig.organization))

    response = client.post(
        f"{V1}/gigs/{batch.gig_id}/units/",
        {
            "units": [
                {"id": "r1", "payload": {"text": "Great product"}, "status": "accepted", "earned_amount": "9"},
                {"id": 2, "payload": {"text": "Awful", "stars": 1}, "gold_answer": "negative", "is_gold": False},
            ]
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {"created": 2, "gold": 1}
    units = list(
        TaskUnit.objects.order_by("id").values_list("external_id", "payload", "is_gold", "gold_answer", "status")
    )
    assert units == [
        ("r1", {"text": "Great product"}, False, None, "open"),
        ("2", {"text": "Awful", "stars": 1}, True, "negative", "open"),
    ]
    batch.refresh_from_db()
    assert batch.payload_columns == ["text", "stars"]


def test_a_bad_unit_imports_nothing_and_names_each_problem() -> None:
    batch = micro.make_batch(units=1)
    client = api_client(org_api_key(batch.gig.organization))

    malformed = client.post(f"{V1}/gigs/{batch.gig_id}/units/", {"units": []}, format="json")
    rejected = client.post(
        f"{V1}/gigs/{batch.gig_id}/units/",
        {"units": [{"id": "u1", "payload": {"text": "again"}}, {"id": "new", "payload": {}}]},
        format="json",
    )

    assert malformed.status_code == 400 and set(_problem(malformed)["errors"]) == {"units"}
    assert rejected.status_code == 400
    assert _problem(rejected)["errors"] == {
        "units": [
            "Row 1: the id “u1” is already in this batch.",
            "Row 2: the “payload” is empty: give the worker something to work on.",
        ]
    }
    assert batch.units.count() == 1


def test_units_the_database_cannot_hold_are_refused_before_the_import() -> None:
    batch = micro.make_batch()
    client = api_client(org_api_key(batch.gig.organization))

    response = client.post(
        f"{V1}/gigs/{batch.gig_id}/units/",
        {"units": [{"id": "a", "payload": {"k" * 201: "x"}}, {"id": "b", "payload": {"t": "nul\u0000"}}]},
        format="json",
    )

    assert response.status_code == 400
    assert _problem(response)["errors"] == {
        "units": [
            "Row 1: a payload key is longer than 200 characters: name each column in fewer.",
            "Row 2: contains a NUL character (\\0), which can't be stored: remove it.",
        ]
    }
    assert not batch.units.exists()


def _submitted_units(batch: TaskBatch, count: int) -> list[TaskUnit]:
    units = []
    for number in range(count):
        worker = micro.make_worker()
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        assert unit is not None
        units.append(task_unit_submit(unit_id=unit.pk, worker=worker, result=f"positive {number}"))
    return units


def test_the_client_lists_unit_results_filtered_by_status() -> None:
    batch = micro.make_batch(units=3)
    [submitted] = _submitted_units(batch, 1)
    client = api_client(org_api_key(batch.gig.organization, scopes=READ_SCOPES))

    waiting = client.get(f"{V1}/gigs/{batch.gig_id}/units/?status=submitted")
    everything = client.get(f"{V1}/gigs/{batch.gig_id}/units/")
    invalid = client.get(f"{V1}/gigs/{batch.gig_id}/units/?status=done")

    [row] = waiting.json()["results"]
    assert row == {
        "id": submitted.pk,
        "batch_id": batch.pk,
        "external_id": "u1",
        "payload": {"text": "Review number 1"},
        "is_gold": False,
        "gold_answer": None,
        "status": "submitted",
        "worker_id": submitted.claimed_by_id,
        "worker_name": submitted.claimed_by.full_name,
        "leased_until": None,
        "result": "positive 0",
        "submitted_at": row["submitted_at"],
        "is_gold_correct": None,
        "reviewed_at": None,
        "rejection_reason": "",
        "earned_amount": None,
        "currency": "USD",
    }
    assert [unit["external_id"] for unit in everything.json()["results"]] == ["u3", "u2", "u1"]
    assert invalid.status_code == 400


def test_the_unit_list_takes_a_constant_number_of_queries() -> None:
    batch = micro.make_batch(units=3)
    client = api_client(org_api_key(batch.gig.organization))
    _submitted_units(batch, 1)
    client.get(f"{V1}/gigs/{batch.gig_id}/units/?status=submitted")
    with CaptureQueriesContext(connection) as one:
        client.get(f"{V1}/gigs/{batch.gig_id}/units/?status=submitted")
    _submitted_units(batch, 2)

    with CaptureQueriesContext(connection) as three:
        response = client.get(f"{V1}/gigs/{batch.gig_id}/units/?status=submitted")

    assert len(response.json()["results"]) == 3
    assert len(three) == len(one)


def test_units_of_another_organisation_are_404() -> None:
    batch = micro.make_batch(units=1)

    response = api_client(org_api_key(OrganizationFactory())).get(f"{V1}/gigs/{batch.gig_id}/units/")

    assert response.status_code == 404


def test_the_client_accepts_and_rejects_submitted_units() -> None:
    batch = micro.make_batch(units=2)
    first, second = _submitted_units(batch, 2)
    client = api_client(org_api_key(batch.gig.organization))

    accepted = client.post(f"{V1}/units/{first.pk}/accept/", {"earned_amount": "100"}, format="json")
    no_reason = client.post(f"{V1}/units/{second.pk}/reject/", {}, format="json")
    rejected = client.post(f"{V1}/units/{second.pk}/reject/", {"reason": "Not an answer."}, format="json")
    again = client.post(f"{V1}/units/{first.pk}/accept/")

    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["earned_amount"], accepted.json()["currency"]) == (
        "accepted",
        "0.25",
        "USD",
    )
    assert no_reason.status_code == 400 and set(_problem(no_reason)["errors"]) == {"reason"}
    assert (rejected.status_code, rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        200,
        "rejected",
        "Not an answer.",
    )
    assert again.status_code == 409
    assert dict(TaskUnit.objects.values_list("pk", "earned_amount")) == {first.pk: Decimal("0.25"), second.pk: None}


def test_reviews_by_others_are_404_and_a_read_only_key_is_403() -> None:
    batch = micro.make_batch(units=1)
    [unit] = _submitted_units(batch, 1)
    worker = api_client(freelancer_api_key(unit.claimed_by))
    theirs = api_client(org_api_key(OrganizationFactory()))
    read_only = api_client(org_api_key(batch.gig.organization, scopes=READ_SCOPES))

    statuses = [
        caller.post(f"{V1}/units/{unit.pk}/{action}/", {"reason": "No."}, format="json").status_code
        for caller in (worker, theirs, read_only)
        for action in ("accept", "reject")
    ]

    assert statuses == [404, 404, 404, 404, 403, 403]
    assert TaskUnit.objects.get().status == "submitted"


# --- micro-task units: the worker ---------------------------------------------------------------------------------


def test_a_freelancer_lists_batches_claims_and_submits_without_seeing_gold_answers() -> None:
    skill = micro.labelling_skill()
    batch = micro.make_batch(units=1, gold={1: "positive"}, skills=((skill, 2),))
    worker = micro.make_worker((skill, 3))
    client = api_client(freelancer_api_key(worker))

    listed = client.get(f"{V1}/task-batches/")
    claimed = client.post(f"{V1}/task-batches/{batch.pk}/claim/")
    submitted = client.post(f"{V1}/units/{claimed.json()['id']}/submit/", {"result": "Positive"}, format="json")
    nothing_left = client.post(f"{V1}/task-batches/{batch.pk}/claim/")

    [row] = listed.json()["results"]
    assert (row["id"], row["remaining_units"], row["unit_price"], row["is_accuracy_blocked"]) == (
        batch.pk,
        1,
        "0.25",
        False,
    )
    assert claimed.status_code == 200
    assert (claimed.json()["status"], claimed.json()["is_gold"], claimed.json()["gold_answer"]) == (
        "leased",
        None,
        None,
    )
    assert submitted.status_code == 200
    assert (submitted.json()["result"], submitted.json()["is_gold_correct"]) == ("Positive", None)
    assert nothing_left.status_code == 204


def test_worker_refusals_and_validation() -> None:
    skill = micro.labelling_skill()
    batch = micro.make_batch(units=1, skills=((skill, 4),))
    unqualified = api_client(freelancer_api_key(micro.make_worker((skill, 1))))
    worker = micro.make_worker((skill, 4))
    client = api_client(freelancer_api_key(worker))
    unit = client.post(f"{V1}/task-batches/{batch.pk}/claim/").json()

    missing_skill = unqualified.post(f"{V1}/task-batches/{batch.pk}/claim/")
    no_result = client.post(f"{V1}/units/{unit['id']}/submit/", {}, format="json")
    someone_elses = unqualified.post(f"{V1}/units/{unit['id']}/submit/", {"result": "x"}, format="json")
    read_only = api_client(freelancer_api_key(worker, scopes=READ_SCOPES)).post(
        f"{V1}/units/{unit['id']}/submit/", {"result": "x"}, format="json"
    )

    assert missing_skill.status_code == 403
    assert no_result.status_code == 400 and set(_problem(no_result)["errors"]) == {"result"}
    assert someone_elses.status_code == 409
    assert read_only.status_code == 403
    assert TaskUnit.objects.get().status == "leased"


# --- every endpoint -----------------------------------------------------------------------------------------------


ENDPOINTS = [
    ("get", "/gigs/{gig_id}/bids/"),
    ("post", "/gigs/{gig_id}/bids/"),
    ("get", "/bids/"),
    ("post", "/bids/{bid_id}/withdraw/"),
    ("post", "/bids/{bid_id}/shortlist/"),
    ("post", "/bids/{bid_id}/accept/"),
    ("post", "/bids/{bid_id}/decline/"),
    ("get", "/gigs/{gig_id}/invitations/"),
    ("post", "/gigs/{gig_id}/invitations/"),
    ("get", "/invitations/"),
    ("get", "/gigs/{gig_id}/matches/"),
    ("post", "/gigs/{gig_id}/matches/refresh/"),
    ("get", "/gigs/{gig_id}/batch/"),
    ("post", "/gigs/{gig_id}/batch/"),
    ("put", "/gigs/{gig_id}/batch/"),
    ("post", "/gigs/{gig_id}/batch/open/"),
    ("post", "/gigs/{gig_id}/batch/close/"),
    ("get", "/gigs/{gig_id}/units/"),
    ("post", "/gigs/{gig_id}/units/"),
    ("post", "/units/{unit_id}/accept/"),
    ("post", "/units/{unit_id}/reject/"),
    ("get", "/task-batches/"),
    ("post", "/task-batches/{batch_id}/claim/"),
    ("post", "/units/{unit_id}/submit/"),
]


def _url(path: str) -> str:
    return V1 + path.format(gig_id=1, bid_id=1, unit_id=1, batch_id=1)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_key(method: str, path: str) -> None:
    response = getattr(api_client(), method)(_url(path), {}, format="json")

    assert response.status_code == 401
    assert _problem(response)["status"] == 401


def test_a_read_only_key_reads_but_every_write_is_403() -> None:
    client = api_client(org_api_key(OrganizationFactory(), scopes=READ_SCOPES))

    statuses = {
        (method, path): getattr(client, method)(_url(path), {}, format="json").status_code for method, path in ENDPOINTS
    }

    expected = {(method, path): 403 if method != "get" else 404 if "{" in path else 200 for method, path in ENDPOINTS}
    assert statuses == expected


def test_every_endpoint_is_in_the_schema(client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    documented = {
        (method, path.removeprefix(V1)) for path, operations in schema["paths"].items() for method in operations
    }

    assert set(ENDPOINTS) <= documented
