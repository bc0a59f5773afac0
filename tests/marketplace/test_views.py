"""Gig and bid pages: the journeys work, other organisations see nothing, query counts stay flat."""

from decimal import Decimal

import pytest
from django.test import Client

from engagements.models import Contract
from marketplace.models import Bid, Gig, Match
from marketplace.services.bids import BidInput, bid_create, invitation_create
from marketplace.services.matching import match_gig
from tests.factories import MembershipFactory, OrganizationFactory, ProfileSkillFactory, TalentProfileFactory
from tests.marketplace.conftest import make_gig
from tests.oncommit import task_callbacks


def _gig_post(skill, **overrides):
    data = {
        "title": "Payments API",
        "description": "Build our payouts API in Django.",
        "deliverables": "Endpoints with tests.",
        "kind": "hourly",
        "currency": "USD",
        "hourly_rate_min": "40",
        "hourly_rate_max": "80",
        "estimated_hours": "60",
        "visibility": "public",
        "timezone": "Europe/London",
        "required_country": "",
        "screening_questions": "Which Stripe APIs have you used?",
        "skills-TOTAL_FORMS": "3",
        "skills-INITIAL_FORMS": "0",
        "skills-MIN_NUM_FORMS": "3",
        "skills-MAX_NUM_FORMS": "15",
        "skills-0-skill": str(skill.pk),
        "skills-0-min_level": "3",
        "skills-1-skill": "",
        "skills-1-min_level": "3",
        "skills-2-skill": "",
        "skills-2-min_level": "3",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_client_posts_publishes_and_hires_through_the_pages(
    client: Client, client_member, python_skill, freelancer, django_capture_on_commit_callbacks
) -> None:
    client.force_login(client_member.user)

    response = client.post("/gigs/new/", _gig_post(python_skill))
    gig = Gig.objects.get()
    assert response["Location"] == f"/gigs/{gig.pk}/"
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/gigs/{gig.pk}/publish/")
    gig.refresh_from_db()
    assert gig.status == "open"
    assert len(task_callbacks(callbacks)) == 1  # matching is sent to the worker after the commit
    match_gig(gig_id=gig.pk)  # what that worker does
    matches = client.get(f"/gigs/{gig.pk}/matches/")
    assert freelancer.full_name in matches.content.decode()

    bidder = Client()
    bidder.force_login(freelancer)
    response = bidder.post(
        f"/gigs/{gig.pk}/",
        {
            "bidder": "self",
            "hourly_rate": "55",
            "cover_letter": "Done it before.",
            "answer_0": "Connect and PaymentIntents",
        },
    )
    assert response["Location"] == "/bids/mine/"
    bid = Bid.objects.get()
    assert bid.screening_answers == ["Connect and PaymentIntents"]

    comparison = client.get(f"/gigs/{gig.pk}/bids/")
    assert comparison.status_code == 200
    assert "Connect and PaymentIntents" in comparison.content.decode()
    client.post(f"/bids/{bid.pk}/accept/")
    assert Contract.objects.get().bid == bid


@pytest.mark.django_db
def test_invalid_gig_form_shows_errors_next_to_fields(client: Client, client_member, python_skill) -> None:
    client.force_login(client_member.user)

    response = client.post("/gigs/new/", _gig_post(python_skill, hourly_rate_max="10"))

    assert response.status_code == 200
    assert response.context["form"].errors["hourly_rate_max"] == ["The maximum rate must be at least the minimum rate."]
    assert not Gig.objects.exists()


@pytest.mark.django_db
def test_a_freelancer_cannot_post_gigs(client: Client, freelancer, python_skill) -> None:
    client.force_login(freelancer)

    response = client.post("/gigs/new/", _gig_post(python_skill))

    assert response.status_code == 403
    assert "Only members of a client organisation post gigs." in response.content.decode()


@pytest.mark.django_db
def test_other_organisations_and_freelancers_get_404_on_client_pages(
    client: Client, client_member, python_skill, freelancer
) -> None:
    draft = make_gig(client_member, python_skill, publish=False)
    gig = make_gig(client_member, python_skill)
    bid = bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("50")), by=freelancer)
    other_client = MembershipFactory(organization=OrganizationFactory(kind="client")).user

    for user in (other_client, freelancer):
        client.force_login(user)
        assert client.get(f"/gigs/{draft.pk}/").status_code == 404
        assert client.get(f"/gigs/{gig.pk}/bids/").status_code == 404
        assert client.get(f"/gigs/{gig.pk}/matches/").status_code == 404
        assert client.get(f"/gigs/{gig.pk}/edit/").status_code == 404
        assert client.post(f"/gigs/{draft.pk}/publish/").status_code == 404
        assert client.post(f"/gigs/{gig.pk}/cancel/").status_code == 404
        assert client.post(f"/bids/{bid.pk}/accept/").status_code == 404
        assert client.post(f"/gigs/{gig.pk}/invite/", {"freelancer_id": freelancer.pk}).status_code == 404
    draft.refresh_from_db()
    gig.refresh_from_db()
    bid.refresh_from_db()
    assert (draft.status, gig.status, bid.status) == ("draft", "open", "submitted")
    assert not Contract.objects.exists()


@pytest.mark.django_db
def test_invite_only_gig_pages_only_for_invitees(client: Client, client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill, visibility="invite")
    client.force_login(freelancer)
    assert client.get(f"/gigs/{gig.pk}/").status_code == 404
    assert gig.title not in client.get("/gigs/").content.decode()

    invitation_create(gig_id=gig.pk, by=client_member.user, freelancer_id=freelancer.pk)

    assert client.get(f"/gigs/{gig.pk}/").status_code == 200
    assert gig.title in client.get("/gigs/").content.decode()


@pytest.mark.django_db
def test_other_bidders_bids_are_not_listed(client: Client, client_member, python_skill, freelancer) -> None:
    gig = make_gig(client_member, python_skill, title="Shared gig")
    other = TalentProfileFactory().user
    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="secret offer", hourly_rate=Decimal("77")), by=other)
    client.force_login(freelancer)

    html = client.get("/bids/mine/").content.decode()

    assert "77" not in html and "Shared gig" not in html
    assert client.post(f"/bids/{Bid.objects.get().pk}/withdraw/").status_code == 404


def _assert_flat(client, url, make_rows, django_assert_max_num_queries) -> None:
    client.get(url)
    with django_assert_max_num_queries(50) as few:
        assert client.get(url).status_code == 200
    make_rows()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_list_pages_use_a_constant_number_of_queries(
    client: Client, client_member, python_skill, freelancer, django_assert_max_num_queries
) -> None:
    gig = make_gig(client_member, python_skill)

    def more_gigs() -> None:
        for i in range(12):
            make_gig(client_member, python_skill, title=f"Gig {i}")

    def more_bids(count: int = 12) -> None:
        for _ in range(count):
            profile = TalentProfileFactory()
            ProfileSkillFactory(profile=profile, skill=python_skill)
            bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("50")), by=profile.user)
            Match.objects.create(
                gig=gig,
                freelancer=profile.user,
                rank=Match.objects.count() + 1,
                score=Decimal("0.5"),
                factors={"skills": {"value": "1", "weight": "0.4"}},
            )

    client.force_login(client_member.user)
    more_bids(1)  # prefetches run only when there is a row; measure from a non-empty page
    _assert_flat(client, "/gigs/mine/", more_gigs, django_assert_max_num_queries)
    _assert_flat(client, f"/gigs/{gig.pk}/bids/", more_bids, django_assert_max_num_queries)
    _assert_flat(client, f"/gigs/{gig.pk}/matches/", lambda: None, django_assert_max_num_queries)
    client.force_login(freelancer)
    _assert_flat(client, "/gigs/", more_gigs, django_assert_max_num_queries)

    def more_own_bids() -> None:
        for g in Gig.objects.exclude(bids__freelancer=freelancer)[:10]:
            bid_create(gig_id=g.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("50")), by=freelancer)

    bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("50")), by=freelancer)
    _assert_flat(client, "/bids/mine/", more_own_bids, django_assert_max_num_queries)


@pytest.mark.django_db
def test_micro_task_gig_detail_links_to_its_batch_with_or_without_one(
    client: Client, client_member, python_skill, freelancer
) -> None:
    gig = make_gig(client_member, python_skill, kind="micro_task")

    client.force_login(client_member.user)
    assert f"/gigs/{gig.pk}/batch/" in client.get(f"/gigs/{gig.pk}/").content.decode()
    client.force_login(freelancer)
    response = client.get(f"/gigs/{gig.pk}/")
    assert response.status_code == 200
    assert "Micro-task gigs take no bids" in response.content.decode()


@pytest.mark.django_db
def test_invite_a_pool_member_from_the_pool_page(client: Client, client_member, python_skill, freelancer) -> None:
    from marketplace.models import Invitation
    from talent.models import TalentPool, TalentPoolMember

    pool = TalentPool.objects.create(organization=client_member.organization, name="Trusted")
    TalentPoolMember.objects.create(pool=pool, freelancer=freelancer)
    gig = make_gig(client_member, python_skill, title="Pool gig")
    client.force_login(client_member.user)
    assert "Pool gig" in client.get(f"/talent/pools/{pool.pk}/").content.decode()

    response = client.post(
        f"/gigs/{gig.pk}/invite/", {"freelancer_id": freelancer.pk, "next": f"/talent/pools/{pool.pk}/"}
    )

    assert response["Location"] == f"/talent/pools/{pool.pk}/"
    assert Invitation.objects.get().freelancer == freelancer
    evil = client.post(
        f"/gigs/{gig.pk}/invite/", {"vendor_id": "x", "freelancer_id": "", "next": "https://evil.example/"}
    )
    assert evil.status_code == 400  # neither a freelancer nor a vendor: refused with a message, not redirected


@pytest.mark.django_db
def test_clients_ask_for_a_fresh_ranking_others_get_404(
    client: Client, client_member, python_skill, freelancer, django_capture_on_commit_callbacks
) -> None:
    gig = make_gig(client_member, python_skill)
    client.force_login(client_member.user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/gigs/{gig.pk}/matches/refresh/")

    assert response.status_code == 302 and len(task_callbacks(callbacks)) == 1
    client.force_login(freelancer)
    assert client.post(f"/gigs/{gig.pk}/matches/refresh/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_hire_clicks_give_one_hire_and_no_server_errors(python_skill) -> None:
    import threading

    from django.db import connection

    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    gig = make_gig(member, python_skill)
    bids = []
    for _ in range(20):
        profile = TalentProfileFactory()
        bids.append(
            bid_create(gig_id=gig.pk, data=BidInput(cover_letter="Hi", hourly_rate=Decimal("50")), by=profile.user)
        )
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def click(bid_id: int) -> None:
        browser = Client(raise_request_exception=False)
        browser.force_login(member.user)
        barrier.wait()
        statuses.append(browser.post(f"/bids/{bid_id}/accept/").status_code)
        connection.close()

    threads = [threading.Thread(target=click, args=(bid.pk,)) for bid in bids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [302] + [409] * 19
    assert Contract.objects.count() == 1


@pytest.mark.django_db
def test_matches_page_shows_who_was_already_told_by_email(
    client: Client, client_member, python_skill, freelancer
) -> None:
    from django.utils import timezone

    gig = make_gig(client_member, python_skill)
    match_gig(gig_id=gig.pk)
    Match.objects.filter(gig=gig, freelancer=freelancer).update(invited_at=timezone.now())
    client.force_login(client_member.user)

    html = client.get(f"/gigs/{gig.pk}/matches/").content.decode()

    assert "Told by email" in html
    assert "Invite to bid" not in html
