"""Talent pages: the freelancer's editor and public profile, the vendor firm's editor and page, talent pools.

Pages translate input and call the services; these tests check what each kind of user gets, that refusals
show their message and change nothing, and that the pages' query counts don't grow with their rows.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organization
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
from tests.factories import (
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.talent.factories import (
    PortfolioItemFactory,
    RateCardEntryFactory,
    TalentPoolFactory,
    TalentPoolMemberFactory,
    VendorCapabilityFactory,
    VendorCertificationFactory,
    VendorProfileFactory,
    VendorTeamMemberFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _html(response) -> str:
    return response.content.decode()


def _profile_post(**overrides) -> dict:
    data = {
        "headline": "Senior Django engineer",
        "bio": "APIs and payments.",
        "hourly_rate": "70",
        "currency": "EUR",
        "weekly_hours": "30",
        "country": "PL",
        "timezone": "Europe/Warsaw",
        "languages": "English, Polish",
        "visibility": "public",
    }
    data.update(overrides)
    return data


# --- freelancer profile editor ---------------------------------------------------------------------------------
def test_profile_editor_needs_login(client: Client) -> None:
    response = client.get("/talent/profile/edit/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_editor_is_for_freelancers_only(client: Client, client_member) -> None:
    client.force_login(client_member.user)

    response = client.get("/talent/profile/edit/")

    assert response.status_code == 403
    assert "Only freelancers have a talent profile." in _html(response)


def test_profile_editor_shows_the_profile_with_labelled_fields(client: Client, freelancer, skills) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    ProfileSkillFactory(profile=profile, skill=skills["django"], level=5, years=7)
    PortfolioItemFactory(profile=profile, title="Payments API")
    client.force_login(freelancer)

    response = client.get("/talent/profile/edit/")

    html = _html(response)
    assert response.status_code == 200
    assert 'value="Django"' in html and "Payments API" in html
    for field in ("headline", "bio", "hourly_rate", "currency", "weekly_hours", "country", "timezone", "languages"):
        assert f'for="id_{field}"' in html
    assert '<datalist id="skill-options">' in html
    assert 'hx-confirm="Remove “Payments API” from your portfolio?"' in html


def test_profile_details_are_saved(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    response = client.post("/talent/profile/edit/", _profile_post())

    assert response.status_code == 302
    profile = TalentProfile.objects.get(user=freelancer)
    assert (profile.hourly_rate, profile.currency, profile.languages) == (
        Decimal("70.00"),
        "EUR",
        ["English", "Polish"],
    )


def test_profile_details_refusal_shows_the_error_by_the_field_and_saves_nothing(client: Client, freelancer) -> None:
    client.force_login(freelancer)
    before = TalentProfile.objects.filter(user=freelancer).values().get()

    response = client.post("/talent/profile/edit/", _profile_post(weekly_hours="95", headline="Changed"))

    assert response.status_code == 200
    html = _html(response)
    assert "Enter the hours a week you can work, from 0 to 80." in html
    assert 'id="id_weekly_hours_error"' in html
    assert TalentProfile.objects.filter(user=freelancer).values().get() == before


def test_garbage_input_is_a_form_error_not_a_crash(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    response = client.post("/talent/profile/edit/", _profile_post(hourly_rate="lots", weekly_hours="x", timezone="?"))

    assert response.status_code == 200
    assert TalentProfile.objects.get(user=freelancer).headline == "Backend engineer"


def test_skills_are_saved_by_name_or_synonym_and_skill_ids_follow(client: Client, freelancer, skills) -> None:
    client.force_login(freelancer)

    response = client.post(
        "/talent/profile/skills/",
        {"skill": ["py", "Django", ""], "level": ["5", "4", "3"], "years": ["8", "6", "0"]},
        **HTMX,
    )

    assert response.status_code == 200
    html = _html(response)
    assert 'id="skills"' in html and "<html" not in html  # the section only
    assert "Skills saved: 2 listed." in html
    profile = TalentProfile.objects.get(user=freelancer)
    assert sorted(profile.profile_skills.values_list("skill__name", "level", "years")) == [
        ("Django", 4, 6),
        ("Python", 5, 8),
    ]
    assert profile.skill_ids == sorted([skills["python"].pk, skills["django"].pk])


def test_unknown_skill_is_reported_on_its_row_and_nothing_changes(client: Client, freelancer, skills) -> None:
    profile = TalentProfile.objects.get(user=freelancer)
    ProfileSkillFactory(profile=profile, skill=skills["figma"], level=2)
    client.force_login(freelancer)

    response = client.post(
        "/talent/profile/skills/", {"skill": ["Python", "Cobolt"], "level": ["3", "3"], "years": ["1", "1"]}, **HTMX
    )

    html = _html(response)
    assert "We don’t know “Cobolt”. Pick a skill from the suggestions as you type." in html
    assert 'aria-invalid="true"' in html
    assert list(ProfileSkill.objects.values_list("skill__name", flat=True)) == ["Figma"]


def test_more_than_thirty_skills_are_refused_with_the_services_message(client: Client, freelancer) -> None:
    names = [SkillFactory().name for _ in range(31)]
    client.force_login(freelancer)

    response = client.post(
        "/talent/profile/skills/", {"skill": names, "level": ["3"] * 31, "years": ["1"] * 31}, **HTMX
    )

    assert "List at most 30 skills; you listed 31. Remove the ones you use least." in _html(response)
    assert not ProfileSkill.objects.exists()


def test_skills_without_htmx_redirect_back(client: Client, freelancer, skills) -> None:
    client.force_login(freelancer)

    response = client.post("/talent/profile/skills/", {"skill": ["Python"], "level": ["3"], "years": ["2"]})

    assert response.status_code == 302
    assert response["Location"] == "/talent/profile/edit/#skills"


def test_a_blank_skill_row_for_htmx(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    with_years = _html(client.get("/talent/skill-row/", **HTMX))
    without_years = _html(client.get("/talent/skill-row/?years=0", **HTMX))

    assert 'name="skill"' in with_years and "autofocus" in with_years and 'name="years"' in with_years
    assert 'name="years"' not in without_years


def test_portfolio_add_with_htmx_returns_the_section(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    response = client.post(
        "/talent/profile/portfolio/", {"title": "Payments API", "url": "https://example.com", "description": ""}, **HTMX
    )

    assert "“Payments API” is in your portfolio." in _html(response)
    assert PortfolioItem.objects.get().title == "Payments API"


def test_portfolio_add_refusal(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    response = client.post("/talent/profile/portfolio/", {"title": "Site", "url": "javascript:alert(1)"}, **HTMX)

    assert "Enter a full web address starting with https://" in _html(response)
    assert not PortfolioItem.objects.exists()


def test_portfolio_remove_asks_first_without_javascript_then_removes(client: Client, freelancer) -> None:
    item = PortfolioItemFactory(profile=TalentProfile.objects.get(user=freelancer), title="Old site")
    client.force_login(freelancer)

    confirm = client.get(f"/talent/profile/portfolio/{item.pk}/remove/")
    assert confirm.status_code == 200 and "Remove “Old site”?" in _html(confirm)
    assert PortfolioItem.objects.exists()

    response = client.post(f"/talent/profile/portfolio/{item.pk}/remove/", **HTMX)

    assert "“Old site” was removed from your portfolio." in _html(response)
    assert not PortfolioItem.objects.exists()


def test_someone_elses_portfolio_item_is_a_404(client: Client, freelancer) -> None:
    other = PortfolioItemFactory()
    client.force_login(freelancer)

    assert client.get(f"/talent/profile/portfolio/{other.pk}/remove/").status_code == 404
    assert client.post(f"/talent/profile/portfolio/{other.pk}/remove/").status_code == 404
    assert PortfolioItem.objects.filter(pk=other.pk).exists()


# --- public freelancer profile ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("visibility", "viewer", "status"),
    [
        ("public", "client", 200),
        ("public", "vendor", 200),
        ("public", "freelancer", 200),
        ("clients", "client", 200),
        ("clients", "vendor", 404),
        ("clients", "freelancer", 404),
        ("private", "client", 404),
        ("private", "vendor", 404),
        ("private", "freelancer", 404),
        ("private", "owner", 200),
        ("clients", "owner", 200),
    ],
)
def test_public_profile_respects_visibility(client: Client, visibility, viewer, status, client_member, vendor_member):
    profile = TalentProfileFactory(visibility=visibility, headline="Data engineer", user__full_name="Ana Silva")
    viewers = {
        "client": client_member.user,
        "vendor": vendor_member().user,
        "freelancer": TalentProfileFactory().user,
        "owner": profile.user,
    }
    client.force_login(viewers[viewer])

    response = client.get(f"/talent/freelancers/{profile.user_id}/")

    assert response.status_code == status
    assert ("Ana Silva" in _html(response)) is (status == 200)


def test_public_profile_needs_login(client: Client, freelancer) -> None:
    response = client.get(f"/talent/freelancers/{freelancer.pk}/")

    assert response.status_code == 302


def test_owner_sees_how_others_see_the_profile(client: Client, freelancer) -> None:
    client.force_login(freelancer)

    response = client.get(f"/talent/freelancers/{freelancer.pk}/")

    assert "This is how others see your profile." in _html(response)


def test_profile_of_a_non_freelancer_is_a_404(client: Client, client_member, outsider) -> None:
    client.force_login(client_member.user)

    assert client.get(f"/talent/freelancers/{outsider.pk}/").status_code == 404


# --- vendor firm editor ----------------------------------------------------------------------------------------
def _vendor_client(client: Client, vendor_member, role: str = Membership.Role.OWNER) -> Membership:
    membership = vendor_member(role)
    client.force_login(membership.user)
    return membership


def test_vendor_editor_creates_the_profile_on_first_visit(client: Client, vendor_org, vendor_member) -> None:
    _vendor_client(client, vendor_member)

    response = client.get("/talent/vendor/edit/")

    assert response.status_code == 200
    assert VendorProfile.objects.filter(organization=vendor_org).count() == 1
    html = _html(response)
    assert 'action="/talent/vendor/rates/"' in html and "Save details" in html


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_save_the_firm_details(client: Client, vendor_profile, vendor_member, role) -> None:
    _vendor_client(client, vendor_member, role)

    response = client.post(
        "/talent/vendor/edit/",
        {
            "headline": "Support at scale",
            "description": "",
            "service_lines": "customer support, bpo",
            "headcount": "300",
            "timezone": "Asia/Kolkata",
            "countries_served": ["IN", "US"],
        },
    )

    assert response.status_code == 302
    vendor_profile.refresh_from_db()
    assert (vendor_profile.headline, vendor_profile.headcount) == ("Support at scale", 300)
    assert vendor_profile.service_lines == ["customer support", "bpo"]


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.FINANCE])
def test_members_and_finance_see_the_firm_profile_read_only(client: Client, vendor_profile, vendor_member, role):
    RateCardEntryFactory(vendor=vendor_profile, role="Support agent")
    _vendor_client(client, vendor_member, role)

    response = client.get("/talent/vendor/edit/")

    html = _html(response)
    assert response.status_code == 200
    assert "View only." in html
    assert "Support agent" in html
    assert 'action="/talent/vendor/rates/"' not in html
    assert "btn-danger" not in html and "hx-post" not in html and "Save details" not in html


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.FINANCE])
def test_members_and_finance_are_refused_every_change(client: Client, vendor_profile, vendor_member, skills, role):
    entry = RateCardEntryFactory(vendor=vendor_profile)
    certification = VendorCertificationFactory(vendor=vendor_profile)
    member = VendorTeamMemberFactory(vendor=vendor_profile)
    _vendor_client(client, vendor_member, role)
    before = {
        "profile": VendorProfile.objects.values().get(),
        "rates": list(RateCardEntry.objects.values()),
        "certifications": list(VendorCertification.objects.values()),
        "team": list(VendorTeamMember.objects.values()),
        "capabilities": list(VendorCapability.objects.values()),
    }
    attempts = [
        ("/talent/vendor/edit/", {"headline": "Hacked", "headcount": "1", "timezone": "UTC"}),
        ("/talent/vendor/capabilities/", {"skill": ["Python"], "level": ["5"]}),
        ("/talent/vendor/certifications/", {"name": "Fake cert"}),
        (f"/talent/vendor/certifications/{certification.pk}/remove/", {}),
        ("/talent/vendor/rates/", {"role": "X", "seniority": "mid", "rate": "5", "currency": "USD", "unit": "hour"}),
        (
            f"/talent/vendor/rates/{entry.pk}/edit/",
            {"role": "X", "seniority": "mid", "rate": "5", "currency": "USD", "unit": "hour"},
        ),
        (f"/talent/vendor/rates/{entry.pk}/remove/", {}),
        ("/talent/vendor/team/", {"team-full_name": "New", "team-title": "Agent"}),
        (f"/talent/vendor/team/{member.pk}/edit/", {"full_name": "New", "title": "Agent"}),
        (f"/talent/vendor/team/{member.pk}/remove/", {}),
    ]

    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Only owners and admins of Indus Ridge can change the firm profile." in _html(response), url

    assert before == {
        "profile": VendorProfile.objects.values().get(),
        "rates": list(RateCardEntry.objects.values()),
        "certifications": list(VendorCertification.objects.values()),
        "team": list(VendorTeamMember.objects.values()),
        "capabilities": list(VendorCapability.objects.values()),
    }


@pytest.mark.parametrize("who", ["client", "freelancer"])
def test_the_vendor_editor_is_for_vendor_firms(client: Client, who, client_member, freelancer) -> None:
    client.force_login(client_member.user if who == "client" else freelancer)

    response = client.get("/talent/vendor/edit/")

    assert response.status_code == 403
    assert "The firm profile editor is for members of vendor firms." in _html(response)
    assert not VendorProfile.objects.exists()


def test_vendor_editor_needs_login(client: Client) -> None:
    assert client.get("/talent/vendor/edit/")["Location"].startswith("/accounts/login/")


def test_capabilities_are_saved_with_htmx(client: Client, vendor_profile, vendor_member, skills) -> None:
    _vendor_client(client, vendor_member)

    response = client.post("/talent/vendor/capabilities/", {"skill": ["Python", "figma"], "level": ["5", "2"]}, **HTMX)

    assert "Capabilities saved: 2 listed." in _html(response)
    assert sorted(VendorCapability.objects.values_list("skill__name", "level")) == [("Figma", 2), ("Python", 5)]


def test_certification_badges_and_add(client: Client, vendor_profile, vendor_member) -> None:
    today = timezone.localdate()
    VendorCertificationFactory(vendor=vendor_profile, name="ISO 9001", expires_date=today - timedelta(days=3))
    VendorCertificationFactory(vendor=vendor_profile, name="SOC 2", expires_date=today + timedelta(days=20))
    _vendor_client(client, vendor_member)

    html = _html(client.get("/talent/vendor/edit/"))
    response = client.post(
        "/talent/vendor/certifications/",
        {
            "name": "PCI DSS",
            "issuer": "PCI SSC",
            "issued_date": str(today),
            "expires_date": str(today + timedelta(days=400)),
        },
        **HTMX,
    )

    assert "Expired" in html and "Expires soon" in html
    assert "“PCI DSS” was added." in _html(response)
    assert VendorCertification.objects.filter(name="PCI DSS").exists()


def test_duplicate_rate_is_refused_inline_with_what_to_do(client: Client, vendor_profile, vendor_member) -> None:
    RateCardEntryFactory(vendor=vendor_profile, role="Support agent", seniority="mid", unit="hour")
    _vendor_client(client, vendor_member)

    response = client.post(
        "/talent/vendor/rates/",
        {"role": "support agent", "seniority": "mid", "rate": "20", "currency": "USD", "unit": "hour"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Your rate card already has a Mid-level Support agent rate per hour; edit that line instead." in _html(
        response
    )
    assert RateCardEntry.objects.count() == 1


def test_rate_edit_page(client: Client, vendor_profile, vendor_member) -> None:
    entry = RateCardEntryFactory(vendor=vendor_profile, role="Support agent")
    _vendor_client(client, vendor_member)

    page = client.get(f"/talent/vendor/rates/{entry.pk}/edit/")
    response = client.post(
        f"/talent/vendor/rates/{entry.pk}/edit/",
        {"role": "Support agent", "seniority": "senior", "rate": "25.50", "currency": "USD", "unit": "hour"},
    )

    assert page.status_code == 200 and 'value="Support agent"' in _html(page)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.seniority, entry.rate) == ("senior", Decimal("25.50"))


def test_rate_of_another_vendor_is_a_404(client: Client, vendor_profile, vendor_member) -> None:
    foreign = RateCardEntryFactory()
    _vendor_client(client, vendor_member)

    assert client.get(f"/talent/vendor/rates/{foreign.pk}/edit/").status_code == 404
    assert client.post(f"/talent/vendor/rates/{foreign.pk}/remove/").status_code == 404
    assert RateCardEntry.objects.filter(pk=foreign.pk).exists()


def test_team_member_add_edit_remove(client: Client, vendor_profile, vendor_member, skills) -> None:
    entry = RateCardEntryFactory(vendor=vendor_profile, role="Support agent")
    VendorCapabilityFactory(vendor=vendor_profile, skill=skills["python"])
    _vendor_client(client, vendor_member)

    added = client.post(
        "/talent/vendor/team/",
        {
            "team-full_name": "Asha Rao",
            "team-title": "Agent",
            "team-rate_card_entry": str(entry.pk),
            "team-skills": [str(skills["python"].pk)],
            "team-is_active": "on",
        },
        **HTMX,
    )
    member = VendorTeamMember.objects.get()
    edited = client.post(
        f"/talent/vendor/team/{member.pk}/edit/", {"full_name": "Asha Rao", "title": "Team lead", "rate_card_entry": ""}
    )
    removed = client.post(f"/talent/vendor/team/{member.pk}/remove/", **HTMX)

    assert "Asha Rao joined the team list." in _html(added)
    assert edited.status_code == 302
    assert "Asha Rao was removed from the team list." in _html(removed)
    assert not VendorTeamMember.objects.exists()


def test_team_member_edit_form_errors_stay_on_the_page(client: Client, vendor_profile, vendor_member) -> None:
    member = VendorTeamMemberFactory(vendor=vendor_profile, full_name="Asha Rao")
    _vendor_client(client, vendor_member)

    response = client.post(f"/talent/vendor/team/{member.pk}/edit/", {"full_name": "", "title": "Lead"})

    assert response.status_code == 200
    assert VendorTeamMember.objects.get().full_name == "Asha Rao"


# --- public vendor page ----------------------------------------------------------------------------------------
def test_vendor_page_for_any_signed_in_user(client: Client, vendor_profile, client_member, skills) -> None:
    VendorCapabilityFactory(vendor=vendor_profile, skill=skills["python"])
    VendorTeamMemberFactory(vendor=vendor_profile, full_name="Active Person")
    VendorTeamMemberFactory(vendor=vendor_profile, full_name="Gone Person", is_active=False)
    client.force_login(client_member.user)

    response = client.get(f"/talent/vendors/{vendor_profile.organization_id}/")

    html = _html(response)
    assert response.status_code == 200
    assert "Indus Ridge" in html and "Python" in html and "Active Person" in html
    assert "Gone Person" not in html
    assert "Edit firm profile" not in html


def test_vendor_page_without_a_profile_yet_creates_nothing(client: Client, vendor_org, client_member) -> None:
    client.force_login(client_member.user)

    response = client.get(f"/talent/vendors/{vendor_org.pk}/")

    assert response.status_code == 200
    assert "hasn’t filled in its firm profile yet" in _html(response)
    assert not VendorProfile.objects.exists()


def test_vendor_page_of_a_client_organisation_is_a_404(client: Client, client_org, freelancer) -> None:
    client.force_login(freelancer)

    assert client.get(f"/talent/vendors/{client_org.pk}/").status_code == 404


def test_vendor_page_needs_login(client: Client, vendor_org) -> None:
    assert client.get(f"/talent/vendors/{vendor_org.pk}/").status_code == 302


# --- talent pools ----------------------------------------------------------------------------------------------
def test_pool_list_shows_the_organisations_pools_with_counts(client: Client, client_member, pool) -> None:
    TalentPoolMemberFactory.create_batch(2, pool=pool)
    client.force_login(client_member.user)

    response = client.get("/talent/pools/")

    html = _html(response)
    assert "Backend bench" in html
    assert "2 freelancers" in html and "0 vendor firms" in html


def test_empty_pool_list_says_what_to_do(client: Client, client_member) -> None:
    client.force_login(client_member.user)

    html = _html(client.get("/talent/pools/"))

    assert "No talent pools yet" in html and "Create your first pool" in html


def test_pool_create_page(client: Client, client_member) -> None:
    client.force_login(client_member.user)

    page = client.get("/talent/pools/new/")
    response = client.post(
        "/talent/pools/new/",
        {"name": "Design partners", "description": "", "organization": str(client_member.organization_id)},
    )

    pool = TalentPool.objects.get()
    assert page.status_code == 200
    assert response["Location"] == f"/talent/pools/{pool.pk}/"
    assert (pool.name, pool.organization_id) == ("Design partners", client_member.organization_id)


def test_pool_create_duplicate_name_shows_the_conflict(client: Client, client_member, pool) -> None:
    client.force_login(client_member.user)

    response = client.post(
        "/talent/pools/new/", {"name": "backend BENCH", "organization": str(client_member.organization_id)}
    )

    assert response.status_code == 200
    assert "Northwind Health already has a pool called “backend BENCH”" in _html(response)
    assert TalentPool.objects.count() == 1


def test_pool_create_in_someone_elses_organisation_is_refused(client: Client, client_member, other_client_member):
    client.force_login(client_member.user)

    response = client.post(
        "/talent/pools/new/", {"name": "Sneaky", "organization": str(other_client_member.organization_id)}
    )

    assert response.status_code == 200  # not one of the user's organisations: the choice is invalid
    assert not TalentPool.objects.exists()


def test_add_a_freelancer_by_email_and_a_vendor_by_name(client: Client, client_member, pool, freelancer, vendor_org):
    client.force_login(client_member.user)

    first = client.post(
        f"/talent/pools/{pool.pk}/members/",
        {"kind": "freelancer", "freelancer-email": "MARTA@example.com", "freelancer-notes": "Great"},
        **HTMX,
    )
    second = client.post(
        f"/talent/pools/{pool.pk}/members/", {"kind": "vendor", "vendor-vendor": "indus ridge"}, **HTMX
    )

    assert "Marta Kowalska was added to “Backend bench”." in _html(first)
    assert "Indus Ridge was added to “Backend bench”." in _html(second)
    assert "<html" not in _html(second)
    assert set(TalentPoolMember.objects.values_list("freelancer_id", "vendor_id", "notes")) == {
        (freelancer.pk, None, "Great"),
        (None, vendor_org.pk, ""),
    }


def test_adding_twice_shows_the_conflict_message(client: Client, client_member, pool, freelancer) -> None:
    TalentPoolMemberFactory(pool=pool, freelancer=freelancer)
    client.force_login(client_member.user)

    response = client.post(
        f"/talent/pools/{pool.pk}/members/", {"kind": "freelancer", "freelancer-email": freelancer.email}, **HTMX
    )

    assert response.status_code == 200
    assert "Marta Kowalska is already in “Backend bench”" in _html(response)
    assert TalentPoolMember.objects.count() == 1


def test_unknown_email_and_ambiguous_vendor_are_field_errors(client: Client, client_member, pool) -> None:
    VendorProfileFactory(organization__name="Acme Support")
    VendorProfileFactory(organization__name="Acme Data")
    client.force_login(client_member.user)

    unknown = client.post(
        f"/talent/pools/{pool.pk}/members/", {"kind": "freelancer", "freelancer-email": "nobody@example.com"}, **HTMX
    )
    ambiguous = client.post(f"/talent/pools/{pool.pk}/members/", {"kind": "vendor", "vendor-vendor": "acme"}, **HTMX)

    assert "No freelancer on Tandem uses that email." in _html(unknown)
    assert "Several firms match: Acme Data, Acme Support. Type the full name." in _html(ambiguous)
    assert not TalentPoolMember.objects.exists()


def test_edit_notes_inline_and_remove_a_member(client: Client, client_member, pool) -> None:
    member = TalentPoolMemberFactory(pool=pool, notes="Old")
    client.force_login(client_member.user)
    url = f"/talent/pools/{pool.pk}/members/{member.pk}/"

    form = client.get(url + "notes/", **HTMX)
    saved = client.post(url + "notes/", {"notes": "Rehire for Q3"}, **HTMX)
    confirm = client.get(url + "remove/")
    removed = client.post(url + "remove/", **HTMX)

    assert "<textarea" in _html(form) and "<html" not in _html(form)
    assert "Rehire for Q3" in _html(saved)
    assert "Your notes on them are deleted too." in _html(confirm)
    assert "was removed from “Backend bench”" in _html(removed)
    assert not TalentPoolMember.objects.exists()


def _pool_requests(pool, member, target_email: str) -> list[tuple[str, str, dict]]:
    base = f"/talent/pools/{pool.pk}/"
    return [
        ("get", base, {}),
        ("post", base + "members/", {"kind": "freelancer", "freelancer-email": target_email}),
        ("get", base + f"members/{member.pk}/notes/", {}),
        ("post", base + f"members/{member.pk}/notes/", {"notes": "Hacked"}),
        ("get", base + f"members/{member.pk}/remove/", {}),
        ("post", base + f"members/{member.pk}/remove/", {}),
    ]


@pytest.mark.parametrize("who", ["other_client", "freelancer", "vendor", "anonymous"])
@pytest.mark.parametrize("htmx", [False, True])
def test_every_pool_page_and_action_is_hidden_from_outsiders(
    client: Client, who, htmx, pool, other_client_member, vendor_member
) -> None:
    member = TalentPoolMemberFactory(pool=pool, notes="Original")
    target = TalentProfileFactory(user__email="target@example.com").user
    users = {
        "other_client": other_client_member.user,
        "freelancer": TalentProfileFactory().user,
        "vendor": vendor_member().user,
    }
    if who != "anonymous":
        client.force_login(users[who])
    headers = HTMX if htmx else {}

    for method, url, data in _pool_requests(pool, member, target.email):
        response = getattr(client, method)(url, data, **headers)
        if who == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
        else:
            assert response.status_code == 404, url
            assert "Original" not in _html(response) and "Backend bench" not in _html(response)

    assert list(TalentPoolMember.objects.values_list("pk", "notes")) == [(member.pk, "Original")]


@pytest.mark.parametrize("who", ["freelancer", "vendor", "anonymous"])
def test_pool_list_and_create_are_for_client_organisations(client: Client, who, vendor_member) -> None:
    users = {"freelancer": TalentProfileFactory().user, "vendor": vendor_member().user}
    if who != "anonymous":
        client.force_login(users[who])

    responses = [
        client.get("/talent/pools/"),
        client.get("/talent/pools/new/"),
        client.post("/talent/pools/new/", {"name": "X"}),
    ]

    expected = 302 if who == "anonymous" else 404
    assert [r.status_code for r in responses] == [expected] * 3
    assert not TalentPool.objects.exists()


def test_another_client_sees_only_its_own_pools(client: Client, pool, other_client_member) -> None:
    TalentPoolFactory(organization=other_client_member.organization, name="Their pool")
    client.force_login(other_client_member.user)

    html = _html(client.get("/talent/pools/"))

    assert "Their pool" in html and "Backend bench" not in html


# --- query counts ----------------------------------------------------------------------------------------------
POOL_LIST_QUERIES = 4
POOL_DETAIL_QUERIES = 7  # + the gigs a member can be invited to
VENDOR_PAGE_QUERIES = 9


def test_pool_list_query_count_does_not_grow(client: Client, client_member, django_assert_max_num_queries) -> None:
    organization = client_member.organization
    TalentPoolMemberFactory(pool=TalentPoolFactory(organization=organization))
    client.force_login(client_member.user)
    client.get("/talent/pools/")  # warm the session

    with django_assert_max_num_queries(POOL_LIST_QUERIES):
        small = client.get("/talent/pools/")
    for _ in range(15):
        pool = TalentPoolFactory(organization=organization)
        TalentPoolMemberFactory.create_batch(2, pool=pool)
        TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=VendorProfileFactory().organization)
    with django_assert_max_num_queries(POOL_LIST_QUERIES):
        large = client.get("/talent/pools/")

    assert small.status_code == large.status_code == 200
    assert len(large.context["pools"]) == 16


def test_pool_detail_query_count_does_not_grow(client: Client, client_member, pool, django_assert_max_num_queries):
    def add_members(count: int) -> None:
        for _ in range(count):
            profile = TalentProfileFactory()
            ProfileSkillFactory.create_batch(3, profile=profile)
            TalentPoolMemberFactory(pool=pool, freelancer=profile.user)
            TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=VendorProfileFactory().organization)
        TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=OrganizationFactory(kind=Organization.Kind.VENDOR))

    add_members(1)
    client.force_login(client_member.user)
    client.get(f"/talent/pools/{pool.pk}/")

    with django_assert_max_num_queries(POOL_DETAIL_QUERIES):
        small = client.get(f"/talent/pools/{pool.pk}/")
    add_members(20)
    with django_assert_max_num_queries(POOL_DETAIL_QUERIES):
        large = client.get(f"/talent/pools/{pool.pk}/")

    assert small.status_code == large.status_code == 200
    assert len(large.context["members"]) == 44


def test_vendor_page_query_count_does_not_grow(
    client: Client, vendor_profile, client_member, django_assert_max_num_queries
):
    def add_rows(count: int) -> None:
        for _ in range(count):
            VendorCapabilityFactory(vendor=vendor_profile)
            VendorCertificationFactory(vendor=vendor_profile)
            entry = RateCardEntryFactory(vendor=vendor_profile)
            VendorTeamMemberFactory(
                vendor=vendor_profile, rate_card_entry=entry, skills=[SkillFactory(), SkillFactory()]
            )

    add_rows(1)
    client.force_login(client_member.user)
    url = f"/talent/vendors/{vendor_profile.organization_id}/"
    client.get(url)

    with django_assert_max_num_queries(VENDOR_PAGE_QUERIES):
        small = client.get(url)
    add_rows(25)
    with django_assert_max_num_queries(VENDOR_PAGE_QUERIES):
        large = client.get(url)

    assert small.status_code == large.status_code == 200
    assert _html(large).count('class="person-name"') == 26
