"""Ops admin for talent: every model's list, search and change pages answer; inline skill edits re-sync
the derived skill_ids."""

from __future__ import annotations

import pytest
from django.test import Client

from talent.models import TalentProfile
from tests.factories import ProfileSkillFactory, SkillFactory, TalentProfileFactory, UserFactory
from tests.talent.factories import (
    PortfolioItemFactory,
    RateCardEntryFactory,
    TalentPoolMemberFactory,
    VendorCapabilityFactory,
    VendorCertificationFactory,
    VendorTeamMemberFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "skill",
    "talentprofile",
    "portfolioitem",
    "vendorprofile",
    "vendorcertification",
    "ratecardentry",
    "vendorteammember",
    "talentpool",
    "talentpoolmember",
]


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows():
    profile = ProfileSkillFactory().profile
    PortfolioItemFactory(profile=profile)
    capability = VendorCapabilityFactory()
    VendorCertificationFactory(vendor=capability.vendor)
    entry = RateCardEntryFactory(vendor=capability.vendor)
    VendorTeamMemberFactory(vendor=capability.vendor, rate_card_entry=entry)
    member = TalentPoolMemberFactory()
    return {"talentprofile": profile, "vendorprofile": capability.vendor, "talentpool": member.pool}


@pytest.mark.parametrize("model", MODELS)
def test_every_talent_model_has_a_searchable_filterable_list(admin_client: Client, rows, model: str) -> None:
    listing = admin_client.get(f"/admin/talent/{model}/")
    search = admin_client.get(f"/admin/talent/{model}/?q=a")

    assert listing.status_code == 200
    assert search.status_code == 200


@pytest.mark.parametrize("model", ["talentprofile", "vendorprofile", "talentpool"])
def test_change_pages_with_inlines(admin_client: Client, rows, model: str) -> None:
    response = admin_client.get(f"/admin/talent/{model}/{rows[model].pk}/change/")

    assert response.status_code == 200


def test_certification_expiry_filter(admin_client: Client, rows) -> None:
    for value in ("expired", "soon", "valid", "none"):
        assert admin_client.get(f"/admin/talent/vendorcertification/?expiry={value}").status_code == 200


def test_saving_skills_inline_resyncs_skill_ids(admin_client: Client) -> None:
    profile = TalentProfileFactory()
    skill = SkillFactory(name="Rust", slug="rust")
    data = {
        "user": profile.user_id,
        "headline": profile.headline,
        "bio": "",
        "visibility": "public",
        "hourly_rate": "",
        "currency": "USD",
        "weekly_hours": "40",
        "country": "GB",
        "timezone": "Europe/London",
        "languages": "",
        "profile_skills-TOTAL_FORMS": "1",
        "profile_skills-INITIAL_FORMS": "0",
        "profile_skills-0-skill": str(skill.pk),
        "profile_skills-0-level": "4",
        "profile_skills-0-years": "3",
        "portfolio_items-TOTAL_FORMS": "0",
        "portfolio_items-INITIAL_FORMS": "0",
    }

    response = admin_client.post(f"/admin/talent/talentprofile/{profile.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert TalentProfile.objects.get(pk=profile.pk).skill_ids == [skill.pk]
