"""Talent writes: each service's success, and each refusal with a clear message and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Membership, Organization
from core.errors import ApplicationError
from core.models import AuditEvent
from talent import services
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    RateCardEntry,
    TalentPool,
    TalentPoolMember,
    TalentProfile,
    VendorCapability,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)
from talent.services import RateCardEntryInput, SkillLevel, TalentProfileInput, TeamMemberInput, VendorProfileInput
from tests.factories import MembershipFactory, OrganizationFactory, SkillFactory, TalentProfileFactory, UserFactory
from tests.talent.factories import (
    PortfolioItemFactory,
    RateCardEntryFactory,
    TalentPoolFactory,
    TalentPoolMemberFactory,
    VendorCertificationFactory,
    VendorTeamMemberFactory,
)

pytestmark = pytest.mark.django_db


def _row(model, pk: int) -> dict:
    return model.objects.filter(pk=pk).values().get()


def _profile_input(**overrides) -> TalentProfileInput:
    values = {
        "headline": "Senior Django engineer",
        "bio": "Eight years of Django.",
        "hourly_rate": Decimal("65.50"),
        "currency": "EUR",
        "weekly_hours": 30,
        "timezone": "Europe/Warsaw",
        "country": "pl",
        "languages": ["English", " Polish ", "english", ""],
        "visibility": TalentProfile.Visibility.CLIENTS,
    }
    values.update(overrides)
    return TalentProfileInput(**values)


# --- freelancer profile ----------------------------------------------------------------------------------------
def test_profile_update_saves_every_field_and_audits_the_visibility_change(freelancer) -> None:
    profile = services.talent_profile_update(user=freelancer, data=_profile_input())

    profile.refresh_from_db()
    assert (profile.headline, profile.bio) == ("Senior Django engineer", "Eight years of Django.")
    assert (profile.hourly_rate, profile.currency, profile.weekly_hours) == (Decimal("65.50"), "EUR", 30)
    assert (profile.timezone, profile.country) == ("Europe/Warsaw", "PL")
    assert profile.languages == ["English", "Polish"]
    assert profile.visibility == "clients"
    event = AuditEvent.objects.get(action="talent_profile.updated")
    assert (event.actor, event.from_state, event.to_state) == (freelancer, "public", "clients")
    assert set(event.data["fields"]) == {
        "headline",
        "bio",
        "hourly_rate",
        "currency",
        "weekly_hours",
        "timezone",
        "country",
        "languages",
        "visibility",
    }


def test_profile_update_with_no_change_writes_no_audit_event(freelancer) -> None:
    services.talent_profile_update(user=freelancer, data=_profile_input())

    services.talent_profile_update(user=freelancer, data=_profile_input())

    assert AuditEvent.objects.filter(action="talent_profile.updated").count() == 1


def test_profile_update_clears_the_rate(freelancer) -> None:
    services.talent_profile_update(user=freelancer, data=_profile_input())

    services.talent_profile_update(user=freelancer, data=_profile_input(hourly_rate=None))

    assert TalentProfile.objects.get(user=freelancer).hourly_rate is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"weekly_hours": 81}, "weekly_hours", "Enter the hours a week you can work, from 0 to 80."),
        ({"weekly_hours": -1}, "weekly_hours", "Enter the hours a week you can work, from 0 to 80."),
        (
            {"timezone": "Mars/Olympus"},
            "timezone",
            "“Mars/Olympus” is not a time zone we know; choose one from the list.",
        ),
        ({"country": "XX"}, "country", "Choose your country from the list."),
        ({"currency": "XYZ"}, "currency", "Choose one of the listed currencies, such as USD or EUR."),
        ({"hourly_rate": Decimal("0")}, "hourly_rate", "Enter your rate above zero."),
        ({"hourly_rate": Decimal("-5")}, "hourly_rate", "Enter your rate above zero."),
        (
            {"hourly_rate": Decimal("10.555")},
            "hourly_rate",
            "EUR amounts can’t have that many decimals; round your rate.",
        ),
        ({"visibility": "everyone"}, "visibility", "Choose who can see your profile: public, clients or hidden."),
        (
            {"headline": "x" * 161},
            "headline",
            "Keep a headline to 160 characters (it has 161); shorten it and save again.",
        ),
        ({"languages": [f"Language {n}" for n in range(11)]}, "languages", "List at most 10 languages; you listed 11."),
    ],
)
def test_profile_update_refusals_say_what_to_do_and_change_nothing(freelancer, overrides, field, message) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    before = _row(TalentProfile, profile.pk)

    with pytest.raises(ApplicationError) as refused:
        services.talent_profile_update(user=freelancer, data=_profile_input(**overrides))

    assert refused.value.field_errors == {field: [message]}
    assert refused.value.message == message
    assert _row(TalentProfile, profile.pk) == before
    assert not AuditEvent.objects.exists()


def test_profile_update_reports_every_bad_field_at_once(freelancer) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.talent_profile_update(user=freelancer, data=_profile_input(weekly_hours=99, country="ZZ"))

    assert refused.value.message == "Please correct the highlighted fields and save again."
    assert set(refused.value.field_errors) == {"weekly_hours", "country"}


def test_profile_update_by_someone_without_a_profile_is_not_found(outsider) -> None:
    with pytest.raises(TalentProfile.DoesNotExist):
        services.talent_profile_update(user=outsider, data=_profile_input())


def test_skills_set_replaces_the_set_and_keeps_skill_ids_in_step(freelancer, skills) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    ProfileSkill.objects.create(profile=profile, skill=skills["figma"], level=2, years=1)
    ProfileSkill.objects.create(profile=profile, skill=skills["python"], level=2, years=1)

    saved = services.talent_profile_skills_set(
        user=freelancer,
        skills=[
            SkillLevel(skill_id=skills["python"].pk, level=5, years=8),
            SkillLevel(skill_id=skills["django"].pk, level=4, years=6),
        ],
    )

    profile.refresh_from_db()
    assert [(ps.skill.name, ps.level, ps.years) for ps in saved] == [("Python", 5, 8), ("Django", 4, 6)]
    assert set(profile.profile_skills.values_list("skill__name", "level", "years")) == {
        ("Python", 5, 8),
        ("Django", 4, 6),
    }
    assert profile.skill_ids == sorted([skills["python"].pk, skills["django"].pk])
    event = AuditEvent.objects.get(action="talent_profile.skills_set")
    assert event.data == {"added": ["Django"], "removed": ["Figma"], "changed": ["Python"]}


def test_skills_set_to_nothing_empties_skill_ids(freelancer, skills) -> None:
    services.talent_profile_skills_set(user=freelancer, skills=[SkillLevel(skill_id=skills["python"].pk, level=3)])

    services.talent_profile_skills_set(user=freelancer, skills=[])

    profile = TalentProfile.objects.get(user=freelancer)
    assert profile.skill_ids == []
    assert not profile.profile_skills.exists()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            lambda s: [SkillLevel(skill_id=999_999, level=3)],
            "We don’t know the skill with id 999999; choose skills from the list.",
        ),
        (
            lambda s: [SkillLevel(skill_id=s["python"].pk, level=3), SkillLevel(skill_id=s["python"].pk, level=4)],
            "“Python” is listed twice; keep one row for it.",
        ),
        (
            lambda s: [SkillLevel(skill_id=s["python"].pk, level=6)],
            "Give “Python” a level from 1 (beginner) to 5 (expert).",
        ),
        (
            lambda s: [SkillLevel(skill_id=s["python"].pk, level=0)],
            "Give “Python” a level from 1 (beginner) to 5 (expert).",
        ),
        (
            lambda s: [SkillLevel(skill_id=s["python"].pk, level=3, years=61)],
            "Years of experience with “Python” must be 0 to 60.",
        ),
    ],
)
def test_skills_set_refusals_change_nothing(freelancer, skills, entries, message) -> None:
    services.talent_profile_skills_set(user=freelancer, skills=[SkillLevel(skill_id=skills["figma"].pk, level=2)])
    before = list(ProfileSkill.objects.values_list("skill_id", "level", "years"))

    with pytest.raises(ApplicationError) as refused:
        services.talent_profile_skills_set(user=freelancer, skills=entries(skills))

    assert refused.value.message == message
    assert list(ProfileSkill.objects.values_list("skill_id", "level", "years")) == before
    assert TalentProfile.objects.get(user=freelancer).skill_ids == [skills["figma"].pk]


def test_skills_set_refuses_more_than_thirty(freelancer) -> None:
    many = [SkillFactory() for _ in range(31)]

    with pytest.raises(ApplicationError) as refused:
        services.talent_profile_skills_set(user=freelancer, skills=[SkillLevel(skill_id=s.pk, level=3) for s in many])

    assert refused.value.message == "List at most 30 skills; you listed 31. Remove the ones you use least."
    assert not ProfileSkill.objects.exists()
    assert TalentProfile.objects.get(user=freelancer).skill_ids == []


def test_thirty_skills_are_fine(freelancer) -> None:
    many = [SkillFactory() for _ in range(30)]

    services.talent_profile_skills_set(user=freelancer, skills=[SkillLevel(skill_id=s.pk, level=3) for s in many])

    assert TalentProfile.objects.get(user=freelancer).skill_ids == sorted(s.pk for s in many)


def test_skill_ids_sync_repairs_a_stale_array(freelancer, skills) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    ProfileSkill.objects.create(profile=profile, skill=skills["django"], level=3)
    TalentProfile.objects.filter(pk=profile.pk).update(skill_ids=[123])

    result = services.talent_profile_skill_ids_sync(profile_id=profile.pk)

    assert result == [skills["django"].pk]
    assert TalentProfile.objects.get(pk=profile.pk).skill_ids == [skills["django"].pk]


def test_portfolio_item_add_and_remove(freelancer) -> None:
    item = services.portfolio_item_add(
        user=freelancer, title="  Payments API  ", description="Built it.", url="https://example.com/api"
    )

    assert (item.title, item.url, item.profile.user) == ("Payments API", "https://example.com/api", freelancer)

    services.portfolio_item_remove(user=freelancer, item_id=item.pk)

    assert not PortfolioItem.objects.exists()
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("id")) == [
        "portfolio_item.added",
        "portfolio_item.removed",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title."),
        ({"title": "Site", "url": "javascript:alert(1)"}, "url", "Enter a full web address starting with https://"),
        ({"title": "Site", "url": "ftp://example.com/x"}, "url", "Enter a full web address starting with https://"),
    ],
)
def test_portfolio_item_add_refusals(freelancer, kwargs, field, message) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.portfolio_item_add(user=freelancer, **kwargs)

    assert refused.value.field_errors == {field: [message]}
    assert not PortfolioItem.objects.exists()


def test_portfolio_is_capped_at_twenty(freelancer) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    PortfolioItemFactory.create_batch(20, profile=profile)

    with pytest.raises(ApplicationError) as refused:
        services.portfolio_item_add(user=freelancer, title="One more")

    assert refused.value.status == 409
    assert refused.value.message == "Your portfolio already shows 20 pieces of work; remove one to add another."
    assert PortfolioItem.objects.count() == 20


def test_someone_elses_portfolio_item_is_not_found(freelancer) -> None:
    other = PortfolioItemFactory()

    with pytest.raises(PortfolioItem.DoesNotExist):
        services.portfolio_item_remove(user=freelancer, item_id=other.pk)

    assert PortfolioItem.objects.filter(pk=other.pk).exists()


# --- vendor profile --------------------------------------------------------------------------------------------
def test_vendor_profile_is_created_once_with_defaults_from_the_organisation(vendor_org, vendor_member) -> None:
    owner = vendor_member(Membership.Role.MEMBER).user

    first = services.vendor_profile_get_or_create(organization=vendor_org, by=owner)
    second = services.vendor_profile_get_or_create(organization=vendor_org, by=owner)

    assert first.pk == second.pk
    assert (first.timezone, first.countries_served) == ("Asia/Kolkata", ["IN"])
    assert AuditEvent.objects.filter(action="vendor_profile.created", organization=vendor_org).count() == 1


def test_vendor_profile_is_refused_to_clients_and_outsiders(client_org, client_member, vendor_org, outsider) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.vendor_profile_get_or_create(organization=client_org, by=client_member.user)
    with pytest.raises(Organization.DoesNotExist):
        services.vendor_profile_get_or_create(organization=vendor_org, by=outsider)

    assert refused.value.message == "Northwind Health is a client organisation; only vendor firms have a firm profile."
    assert not VendorProfile.objects.exists()


def _vendor_input(**overrides) -> VendorProfileInput:
    values = {
        "headline": "Support that scales",
        "description": "We run contact centres.",
        "service_lines": ["customer support", "Customer Support", "bpo"],
        "headcount": 250,
        "countries_served": ["in", "US", "US"],
        "timezone": "Asia/Kolkata",
    }
    values.update(overrides)
    return VendorProfileInput(**values)


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_update_the_vendor_profile(vendor_profile, vendor_member, role) -> None:
    by = vendor_member(role).user

    services.vendor_profile_update(vendor_id=vendor_profile.pk, by=by, data=_vendor_input())

    vendor_profile.refresh_from_db()
    assert vendor_profile.service_lines == ["customer support", "bpo"]
    assert vendor_profile.countries_served == ["IN", "US"]
    assert (vendor_profile.headcount, vendor_profile.headline) == (250, "Support that scales")
    assert AuditEvent.objects.get(action="vendor_profile.updated").organization == vendor_profile.organization


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.FINANCE])
def test_members_and_finance_cannot_change_the_vendor_profile(vendor_profile, vendor_member, role) -> None:
    by = vendor_member(role).user
    before = _row(VendorProfile, vendor_profile.pk)

    with pytest.raises(ApplicationError) as refused:
        services.vendor_profile_update(vendor_id=vendor_profile.pk, by=by, data=_vendor_input())

    assert refused.value.status == 403
    assert refused.value.message == (
        "Only owners and admins of Indus Ridge can change the firm profile. Ask one of them to make this change."
    )
    assert _row(VendorProfile, vendor_profile.pk) == before


def test_outsiders_get_not_found_for_vendor_changes(vendor_profile, client_member) -> None:
    with pytest.raises(VendorProfile.DoesNotExist):
        services.vendor_profile_update(vendor_id=vendor_profile.pk, by=client_member.user, data=_vendor_input())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headcount": 0}, "headcount"),
        ({"countries_served": ["ZZ"]}, "countries_served"),
        ({"timezone": "Nowhere/Town"}, "timezone"),
        ({"service_lines": [f"line {n}" for n in range(13)]}, "service_lines"),
    ],
)
def test_vendor_profile_update_refusals(vendor_profile, vendor_member, overrides, field) -> None:
    before = _row(VendorProfile, vendor_profile.pk)

    with pytest.raises(ApplicationError) as refused:
        services.vendor_profile_update(
            vendor_id=vendor_profile.pk, by=vendor_member().user, data=_vendor_input(**overrides)
        )

    assert list(refused.value.field_errors) == [field]
    assert _row(VendorProfile, vendor_profile.pk) == before


def test_capabilities_set_replaces_the_set(vendor_profile, vendor_member, skills) -> None:
    owner = vendor_member().user
    services.vendor_capabilities_set(
        vendor_id=vendor_profile.pk, by=owner, capabilities=[SkillLevel(skill_id=skills["figma"].pk, level=2)]
    )

    saved = services.vendor_capabilities_set(
        vendor_id=vendor_profile.pk,
        by=owner,
        capabilities=[
            SkillLevel(skill_id=skills["python"].pk, level=5),
            SkillLevel(skill_id=skills["django"].pk, level=3),
        ],
    )

    assert [(c.skill.name, c.level) for c in saved] == [("Python", 5), ("Django", 3)]
    assert VendorCapability.objects.count() == 2


def test_capabilities_set_refuses_unknown_skills_and_members(vendor_profile, vendor_member, skills) -> None:
    with pytest.raises(ApplicationError) as unknown:
        services.vendor_capabilities_set(
            vendor_id=vendor_profile.pk, by=vendor_member().user, capabilities=[SkillLevel(skill_id=424242, level=3)]
        )
    with pytest.raises(ApplicationError) as member:
        services.vendor_capabilities_set(
            vendor_id=vendor_profile.pk,
            by=vendor_member(Membership.Role.MEMBER).user,
            capabilities=[SkillLevel(skill_id=skills["python"].pk, level=3)],
        )

    assert unknown.value.message == "We don’t know the skill with id 424242; choose skills from the list."
    assert member.value.status == 403
    assert not VendorCapability.objects.exists()


def test_certification_add_and_remove(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user
    today = timezone.localdate()

    certification = services.vendor_certification_add(
        vendor_id=vendor_profile.pk,
        by=owner,
        name="ISO 27001",
        issuer="BSI",
        issued_date=today - timedelta(days=400),
        expires_date=today + timedelta(days=30),
    )

    assert certification.expiry_status == "expiring"
    services.vendor_certification_remove(vendor_id=vendor_profile.pk, certification_id=certification.pk, by=owner)
    assert not VendorCertification.objects.exists()


def test_certification_expiry_status() -> None:
    today = timezone.localdate()
    cert = VendorCertification(name="SOC 2")

    statuses = []
    for expires in (None, today - timedelta(days=1), today, today + timedelta(days=60), today + timedelta(days=61)):
        cert.expires_date = expires
        statuses.append(cert.expiry_status_on(today))

    assert statuses == ["no_expiry", "expired", "expiring", "expiring", "valid"]


def test_certification_refusals(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user
    today = timezone.localdate()
    VendorCertificationFactory(vendor=vendor_profile, name="ISO 27001", expires_date=today + timedelta(days=90))

    with pytest.raises(ApplicationError) as backwards:
        services.vendor_certification_add(
            vendor_id=vendor_profile.pk,
            by=owner,
            name="SOC 2",
            issued_date=today,
            expires_date=today - timedelta(days=1),
        )
    with pytest.raises(ApplicationError) as duplicate:
        services.vendor_certification_add(
            vendor_id=vendor_profile.pk, by=owner, name="iso 27001", expires_date=today + timedelta(days=90)
        )
    with pytest.raises(ApplicationError) as future:
        services.vendor_certification_add(
            vendor_id=vendor_profile.pk, by=owner, name="PCI DSS", issued_date=today + timedelta(days=1)
        )
    with pytest.raises(ApplicationError) as nameless:
        services.vendor_certification_add(vendor_id=vendor_profile.pk, by=owner, name="")

    assert backwards.value.field_errors == {"expires_date": ["The expiry date must be on or after the issue date."]}
    assert duplicate.value.status == 409
    assert duplicate.value.message == (
        "“iso 27001” with that expiry date is already listed; remove the old entry first if you are replacing it."
    )
    assert future.value.field_errors == {"issued_date": ["The issue date can’t be in the future."]}
    assert nameless.value.field_errors == {"name": ["Enter the certification’s name."]}
    assert VendorCertification.objects.count() == 1


def _rate(**overrides) -> RateCardEntryInput:
    values = {"role": "Support agent", "seniority": "mid", "rate": Decimal("18"), "currency": "USD", "unit": "hour"}
    values.update(overrides)
    return RateCardEntryInput(**values)


def test_rate_card_add_update_remove(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user

    entry = services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate())
    services.rate_card_entry_update(
        vendor_id=vendor_profile.pk, entry_id=entry.pk, by=owner, data=_rate(rate=Decimal("2900"), unit="month")
    )

    entry.refresh_from_db()
    assert (entry.rate, entry.unit) == (Decimal("2900.00"), "month")
    services.rate_card_entry_remove(vendor_id=vendor_profile.pk, entry_id=entry.pk, by=owner)
    assert not RateCardEntry.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "rate_card_entry.added",
        "rate_card_entry.updated",
        "rate_card_entry.removed",
    ]


def test_rate_card_refuses_duplicates_whatever_the_case(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user
    existing = services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate())
    other = services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate(seniority="senior"))

    with pytest.raises(ApplicationError) as added:
        services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate(role="support AGENT"))
    with pytest.raises(ApplicationError) as updated:
        services.rate_card_entry_update(vendor_id=vendor_profile.pk, entry_id=other.pk, by=owner, data=_rate())

    assert added.value.status == 409
    assert added.value.message == (
        "Your rate card already has a Mid-level Support agent rate per hour; edit that line instead."
    )
    assert updated.value.status == 409
    assert RateCardEntry.objects.get(pk=other.pk).seniority == "senior"
    assert RateCardEntry.objects.count() == 2
    assert RateCardEntry.objects.get(pk=existing.pk).rate == Decimal("18.00")


def test_same_role_per_hour_and_per_month_are_different_lines(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user
    services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate())

    services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=owner, data=_rate(unit="month", rate=Decimal("2800")))

    assert RateCardEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"rate": Decimal("0")}, "rate", "Enter the rate above zero."),
        ({"rate": Decimal("-1")}, "rate", "Enter the rate above zero."),
        ({"rate": "abc"}, "rate", "Enter the rate as a number, such as 45 or 45.50."),
        (
            {"rate": Decimal("1000.5"), "currency": "JPY"},
            "rate",
            "JPY amounts can’t have that many decimals; round the rate.",
        ),
        ({"seniority": "guru"}, "seniority", "Choose a seniority: junior, mid-level, senior or lead."),
        ({"unit": "day"}, "unit", "Choose whether the rate is per hour or per month."),
        ({"role": ""}, "role", "Enter the role."),
    ],
)
def test_rate_card_refusals(vendor_profile, vendor_member, overrides, field, message) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.rate_card_entry_add(vendor_id=vendor_profile.pk, by=vendor_member().user, data=_rate(**overrides))

    assert refused.value.field_errors == {field: [message]}
    assert not RateCardEntry.objects.exists()


def test_rate_card_is_for_owners_and_admins_only(vendor_profile, vendor_member) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.rate_card_entry_add(
            vendor_id=vendor_profile.pk, by=vendor_member(Membership.Role.FINANCE).user, data=_rate()
        )

    assert refused.value.status == 403
    assert not RateCardEntry.objects.exists()


def test_another_vendors_rate_card_line_is_not_found(vendor_profile, vendor_member) -> None:
    foreign = RateCardEntryFactory()

    with pytest.raises(RateCardEntry.DoesNotExist):
        services.rate_card_entry_remove(vendor_id=vendor_profile.pk, entry_id=foreign.pk, by=vendor_member().user)

    assert RateCardEntry.objects.filter(pk=foreign.pk).exists()


def test_team_member_add_update_remove(vendor_profile, vendor_member, skills) -> None:
    owner = vendor_member().user
    entry = RateCardEntryFactory(vendor=vendor_profile)

    member = services.vendor_team_member_add(
        vendor_id=vendor_profile.pk,
        by=owner,
        data=TeamMemberInput(
            full_name="Asha Rao", title="Team lead", rate_card_entry_id=entry.pk, skill_ids=[skills["python"].pk]
        ),
    )
    services.vendor_team_member_update(
        vendor_id=vendor_profile.pk,
        team_member_id=member.pk,
        by=owner,
        data=TeamMemberInput(full_name="Asha Rao", title="Team lead", skill_ids=[skills["django"].pk], is_active=False),
    )

    member.refresh_from_db()
    assert (member.rate_card_entry, member.is_active) == (None, False)
    assert list(member.skills.values_list("name", flat=True)) == ["Django"]
    event = AuditEvent.objects.get(action="vendor_team_member.updated")
    assert (event.from_state, event.to_state) == ("active", "inactive")
    services.vendor_team_member_remove(vendor_id=vendor_profile.pk, team_member_id=member.pk, by=owner)
    assert not VendorTeamMember.objects.exists()


def test_team_member_refusals(vendor_profile, vendor_member) -> None:
    owner = vendor_member().user
    foreign_entry = RateCardEntryFactory()

    with pytest.raises(ApplicationError) as refused:
        services.vendor_team_member_add(
            vendor_id=vendor_profile.pk,
            by=owner,
            data=TeamMemberInput(full_name="", title="Agent", rate_card_entry_id=foreign_entry.pk, skill_ids=[777777]),
        )

    assert refused.value.field_errors == {
        "full_name": ["Enter their full name."],
        "rate_card_entry": ["Choose a line of your own rate card."],
        "skills": ["Some of those skills don’t exist; choose skills from the list."],
    }
    assert not VendorTeamMember.objects.exists()


def test_a_team_member_proposed_on_a_bid_cannot_be_removed(vendor_profile, vendor_member, client_member) -> None:
    from marketplace.models import Bid, BidTeamMember, Gig

    owner = vendor_member().user
    member = VendorTeamMemberFactory(vendor=vendor_profile, full_name="Asha Rao")
    gig = Gig.objects.create(
        organization=client_member.organization,
        created_by=client_member.user,
        title="Support",
        description="Support",
        kind=Gig.Kind.HOURLY,
    )
    bid = Bid.objects.create(gig=gig, vendor=vendor_profile.organization, submitted_by=owner, cover_letter="Us")
    BidTeamMember.objects.create(bid=bid, team_member_id=member.pk, role="Agent", rate=Decimal("10"), currency="USD")

    with pytest.raises(ApplicationError) as refused:
        services.vendor_team_member_remove(vendor_id=vendor_profile.pk, team_member_id=member.pk, by=owner)

    assert refused.value.status == 409
    assert refused.value.message == (
        "Asha Rao has been proposed on bids, so their record stays; mark them inactive instead."
    )
    assert VendorTeamMember.objects.filter(pk=member.pk).exists()
    assert not AuditEvent.objects.filter(action="vendor_team_member.removed").exists()


# --- talent pools ----------------------------------------------------------------------------------------------
def test_pool_create(client_member) -> None:
    pool = services.talent_pool_create(
        organization_id=client_member.organization_id, by=client_member.user, name=" Backend bench ", description="APIs"
    )

    assert (pool.name, pool.description, pool.organization) == ("Backend bench", "APIs", client_member.organization)
    assert AuditEvent.objects.get(action="talent_pool.created").organization == client_member.organization


def test_pool_names_are_unique_per_organisation_whatever_the_case(client_member, other_client_member) -> None:
    TalentPoolFactory(organization=client_member.organization, name="Backend bench")
    TalentPoolFactory(organization=other_client_member.organization, name="Design")

    with pytest.raises(ApplicationError) as refused:
        services.talent_pool_create(
            organization_id=client_member.organization_id, by=client_member.user, name="BACKEND BENCH"
        )
    services.talent_pool_create(organization_id=client_member.organization_id, by=client_member.user, name="Design")

    assert refused.value.status == 409
    assert refused.value.message == (
        "Northwind Health already has a pool called “BACKEND BENCH”; choose another name or open that pool."
    )
    assert TalentPool.objects.filter(organization=client_member.organization).count() == 2


def test_pool_create_refusals(client_member, other_client_member, vendor_org, vendor_member) -> None:
    with pytest.raises(ApplicationError) as nameless:
        services.talent_pool_create(organization_id=client_member.organization_id, by=client_member.user, name=" ")
    with pytest.raises(Organization.DoesNotExist):
        services.talent_pool_create(
            organization_id=client_member.organization_id, by=other_client_member.user, name="Sneaky"
        )
    with pytest.raises(Organization.DoesNotExist):
        services.talent_pool_create(organization_id=vendor_org.pk, by=vendor_member().user, name="Vendor pool")

    assert nameless.value.field_errors == {"name": ["Enter a name for the pool."]}
    assert not TalentPool.objects.exists()


def test_member_add_freelancer_and_vendor(pool, client_member, freelancer, vendor_org) -> None:
    first = services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, freelancer_id=freelancer.pk)
    second = services.talent_pool_member_add(
        pool_id=pool.pk, by=client_member.user, vendor_id=vendor_org.pk, notes="SLA"
    )

    assert (first.freelancer, first.vendor, first.added_by) == (freelancer, None, client_member.user)
    assert (second.freelancer, second.vendor, second.notes) == (None, vendor_org, "SLA")
    assert AuditEvent.objects.filter(action="talent_pool.member_added", organization=pool.organization).count() == 2


def test_member_add_dedupes_with_a_conflict(pool, client_member, freelancer, vendor_org) -> None:
    services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, freelancer_id=freelancer.pk)
    services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, vendor_id=vendor_org.pk)

    with pytest.raises(ApplicationError) as again_freelancer:
        services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, freelancer_id=freelancer.pk)
    with pytest.raises(ApplicationError) as again_vendor:
        services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, vendor_id=vendor_org.pk)

    assert again_freelancer.value.status == 409
    assert again_freelancer.value.message == (
        "Marta Kowalska is already in “Backend bench”; edit their notes there instead of adding them again."
    )
    assert again_vendor.value.status == 409
    assert again_vendor.value.message.startswith("Indus Ridge is already in “Backend bench”")
    assert TalentPoolMember.objects.count() == 2


def test_member_add_refusals(pool, client_member, client_org, outsider, freelancer, vendor_org) -> None:
    cases = [
        (
            {"freelancer_id": outsider.pk},
            "That person isn’t a freelancer on Tandem; ask them to sign up as a freelancer first.",
        ),
        ({"vendor_id": client_org.pk}, "That organisation isn’t a vendor firm on Tandem; check the name or id."),
        ({}, "Choose one freelancer or one vendor firm to add."),
        (
            {"freelancer_id": freelancer.pk, "vendor_id": vendor_org.pk},
            "Choose one freelancer or one vendor firm to add.",
        ),
        (
            {"freelancer_id": freelancer.pk, "notes": "x" * 2001},
            "Keep the notes to 2000 characters (it has 2001); shorten it and save again.",
        ),
    ]

    for kwargs, message in cases:
        with pytest.raises(ApplicationError) as refused:
            services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, **kwargs)
        assert refused.value.message == message

    assert not TalentPoolMember.objects.exists()
    assert not AuditEvent.objects.exists()


def test_notes_update_and_remove(pool, client_member) -> None:
    member = TalentPoolMemberFactory(pool=pool)

    services.talent_pool_member_update_notes(pool_id=pool.pk, member_id=member.pk, by=client_member.user, notes="Top")
    member.refresh_from_db()
    assert member.notes == "Top"

    services.talent_pool_member_remove(pool_id=pool.pk, member_id=member.pk, by=client_member.user)
    assert not TalentPoolMember.objects.exists()
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "talent_pool.member_notes_updated",
        "talent_pool.member_removed",
    ]


def test_a_member_of_another_pool_is_not_found_through_this_pool(pool, client_member) -> None:
    other_pool = TalentPoolFactory(organization=client_member.organization)
    member = TalentPoolMemberFactory(pool=other_pool)

    with pytest.raises(TalentPoolMember.DoesNotExist):
        services.talent_pool_member_remove(pool_id=pool.pk, member_id=member.pk, by=client_member.user)

    assert TalentPoolMember.objects.filter(pk=member.pk).exists()


@pytest.mark.parametrize("who", ["other_client", "freelancer", "vendor", "anonymous"])
def test_pool_actions_by_anyone_outside_the_organisation_are_not_found(
    who, pool, other_client_member, freelancer, vendor_org, vendor_member, anonymous_user
) -> None:
    by = {
        "other_client": other_client_member.user,
        "freelancer": freelancer,
        "vendor": vendor_member().user,
        "anonymous": anonymous_user,
    }[who]
    member = TalentPoolMemberFactory(pool=pool, notes="Original")
    target = TalentProfileFactory().user
    actions = [
        lambda: services.talent_pool_member_add(pool_id=pool.pk, by=by, freelancer_id=target.pk),
        lambda: services.talent_pool_member_update_notes(pool_id=pool.pk, member_id=member.pk, by=by, notes="Hacked"),
        lambda: services.talent_pool_member_remove(pool_id=pool.pk, member_id=member.pk, by=by),
    ]

    for action in actions:
        with pytest.raises(TalentPool.DoesNotExist):
            action()

    assert list(TalentPoolMember.objects.values_list("pk", "notes")) == [(member.pk, "Original")]
    assert not AuditEvent.objects.exists()


def test_finance_and_member_roles_of_the_client_may_change_pools(pool, client_org, freelancer) -> None:
    finance = MembershipFactory(organization=client_org, role=Membership.Role.FINANCE).user

    services.talent_pool_member_add(pool_id=pool.pk, by=finance, freelancer_id=freelancer.pk)

    assert TalentPoolMember.objects.filter(pool=pool, freelancer=freelancer).exists()


def test_client_pools_do_not_leak_to_vendor_kind_organisations(freelancer) -> None:
    vendor_pool = TalentPoolFactory(organization=OrganizationFactory(kind=Organization.Kind.VENDOR))
    vendor_owner = MembershipFactory(organization=vendor_pool.organization).user

    with pytest.raises(TalentPool.DoesNotExist):
        services.talent_pool_member_add(pool_id=vendor_pool.pk, by=vendor_owner, freelancer_id=freelancer.pk)


def test_inactive_users_are_not_freelancers_to_add(pool, client_member) -> None:
    inactive = TalentProfileFactory(user=UserFactory(is_active=False)).user

    with pytest.raises(ApplicationError):
        services.talent_pool_member_add(pool_id=pool.pk, by=client_member.user, freelancer_id=inactive.pk)

    assert not TalentPoolMember.objects.exists()
