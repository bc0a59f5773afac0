from decimal import Decimal

import pytest

from marketplace.models import Match
from marketplace.services.matching import match_gig, match_rank
from talent.services import talent_profile_search_vector_refresh
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace.conftest import make_gig


def _profile(name, skills, *, rate="50", timezone="Europe/London", weekly_hours=40, headline="Engineer", **extra):
    profile = TalentProfileFactory(
        user__full_name=name,
        hourly_rate=Decimal(rate),
        timezone=timezone,
        weekly_hours=weekly_hours,
        headline=headline,
        **extra,
    )
    for skill, level in skills:
        ProfileSkillFactory(profile=profile, skill=skill, level=level)
    profile.skill_ids = [skill.pk for skill, _ in skills]
    profile.save()
    talent_profile_search_vector_refresh(profile_ids=[profile.pk])
    return profile


@pytest.fixture
def skills(db):
    return SkillFactory(name="Django", slug="django"), SkillFactory(name="PostgreSQL", slug="postgresql")


@pytest.mark.django_db
def test_ranking_follows_skills_rate_and_time_zone_with_explanations(skills) -> None:
    django, postgres = skills
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    gig = make_gig(
        member,
        django,
        skills=[(django.pk, 4), (postgres.pk, 2)],
        timezone="Europe/London",
        hourly_rate_min=Decimal("40"),
        hourly_rate_max=Decimal("80"),
        title="Django payments API",
        description="A Django API on PostgreSQL.",
    )
    best = _profile("Best", [(django, 5), (postgres, 3)], headline="Django payments engineer")
    expensive = _profile("Expensive", [(django, 5), (postgres, 3)], rate="160")
    far_away = _profile("Far away", [(django, 5), (postgres, 3)], timezone="Pacific/Auckland")
    partial = _profile("Partial", [(django, 2)])
    _profile("Unrelated", [(SkillFactory(name="Figma", slug="figma"), 5)])
    _profile("Hidden", [(django, 5), (postgres, 5)], visibility="private")

    ranked = match_rank(gig_id=gig.pk)

    assert [c.freelancer_id for c in ranked] == [best.user_id, far_away.user_id, expensive.user_id, partial.user_id]
    top = ranked[0].factors
    assert top["skills"] == {"value": "1.0000", "weight": "0.40"}
    assert top["rate"]["value"] == "1.0000"
    assert top["timezone"]["value"] == "1.0000"
    assert Decimal(top["relevance"]["value"]) > Decimal(ranked[1].factors["relevance"]["value"])  # "Django payments"
    assert Decimal(ranked[2].factors["rate"]["value"]) == Decimal("0")  # 160 is double the top of the range
    assert Decimal(ranked[1].factors["timezone"]["value"]) < Decimal("0.5")
    assert ranked[3].factors["skills"]["value"] == "0.3333"  # (4·½ + 2·0) / (4 + 2)


@pytest.mark.django_db
def test_a_required_jurisdiction_is_a_hard_filter_and_country_is_not_otherwise_used(skills) -> None:
    django, _ = skills
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    in_germany = _profile("In Germany", [(django, 4)], country="DE")
    _profile("In Poland", [(django, 4)], country="PL")

    gig = make_gig(member, django, skills=[(django.pk, 3)], required_country="DE")

    assert [c.freelancer_id for c in match_rank(gig_id=gig.pk)] == [in_germany.user_id]


@pytest.mark.django_db
def test_stored_matches_are_replaced_not_duplicated_and_keep_invite_times(skills) -> None:
    django, _ = skills
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    profiles = [_profile(f"P{i}", [(django, 3 + i % 3)]) for i in range(4)]
    gig = make_gig(member, django, skills=[(django.pk, 3)])

    match_gig(gig_id=gig.pk)
    Match.objects.filter(gig=gig, rank=1).update(invited_at="2026-01-01T00:00:00Z")
    first_top = Match.objects.get(gig=gig, rank=1).freelancer_id
    match_gig(gig_id=gig.pk)

    assert Match.objects.filter(gig=gig).count() == len(profiles)
    assert list(Match.objects.filter(gig=gig).order_by("rank").values_list("rank", flat=True)) == [1, 2, 3, 4]
    assert Match.objects.get(gig=gig, freelancer_id=first_top).invited_at is not None


@pytest.mark.django_db
def test_exposure_penalty_spreads_the_top_spots(skills) -> None:
    django, _ = skills
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    star = _profile("Star", [(django, 5)])
    runner_up = _profile("Runner-up", [(django, 5)], rate="51")
    for _ in range(10):  # the star already tops ten other lists this week
        other = make_gig(member, django, skills=[(django.pk, 3)])
        Match.objects.create(gig=other, freelancer=star.user, rank=1, score=Decimal("0.9"), factors={})

    gig = make_gig(member, django, skills=[(django.pk, 3)])
    ranked = match_rank(gig_id=gig.pk)

    assert ranked[0].freelancer_id == runner_up.user_id
    assert ranked[1].factors["exposure_penalty"] == "0.1000"


@pytest.mark.django_db
def test_newcomers_get_a_bounded_boost(skills) -> None:
    django, _ = skills
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    veteran = _profile("Veteran", [(django, 4)], completed_contracts=12, rating_sum=12 * 5, rating_count=12)
    newcomer = _profile("Newcomer", [(django, 4)])
    gig = make_gig(member, django, skills=[(django.pk, 3)])

    by_id = {c.freelancer_id: c for c in match_rank(gig_id=gig.pk)}

    assert by_id[newcomer.user_id].factors["newcomer_boost"] == "0.05"
    assert by_id[veteran.user_id].factors["newcomer_boost"] == "0"
    assert Decimal(by_id[veteran.user_id].factors["rating"]["value"]) > Decimal("0.9")


def test_factor_names_read_as_words() -> None:
    from marketplace.templatetags.matching import factor_label

    assert [factor_label(name) for name in ("newcomer_boost", "rate", "exposure_penalty")] == [
        "Newcomer boost",
        "Rate",
        "Exposure penalty",
    ]


def test_scores_and_weights_read_as_whole_percentages() -> None:
    from marketplace.templatetags.matching import share

    assert [share(value) for value in ("0.9000", "0.05", Decimal("0.125"), "1", "-0.1")] == [
        "90%",
        "5%",
        "13%",
        "100%",
        "\u221210%",
    ]
    assert share("n/a") == "n/a"
