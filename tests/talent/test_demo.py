"""The talent demo data: realistic volumes on top of seed_demo, and idempotent whatever the random state."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.core.management import call_command

from accounts.models import Organization
from talent.demo import seed_talent_demo, talent_demo_counts
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    TalentPool,
    TalentProfile,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)


@pytest.mark.django_db
def test_seed_talent_demo_builds_realistic_data_once() -> None:
    call_command("seed_demo", stdout=None)

    first = seed_talent_demo(rng=random.Random(2026))
    second = seed_talent_demo(rng=random.Random(7))  # another random state must not add anything

    assert second == first == talent_demo_counts()
    vendors = Organization.objects.filter(kind=Organization.Kind.VENDOR)
    assert first["vendor_profiles"] == vendors.count() >= 15

    for vendor in VendorProfile.objects.prefetch_related(
        "vendor_capabilities", "certifications", "rate_card", "team_members__rate_card_entry"
    ):
        assert 4 <= len(vendor.vendor_capabilities.all()) <= 10, vendor
        assert 1 <= len(vendor.certifications.all()) <= 3, vendor
        assert 4 <= len(vendor.rate_card.all()) <= 8, vendor
        assert 3 <= len(vendor.team_members.all()) <= 8, vendor
        assert vendor.service_lines and vendor.headcount >= 1 and vendor.countries_served
        assert all(member.rate_card_entry.vendor_id == vendor.pk for member in vendor.team_members.all())
    statuses = Counter(certification.expiry_status for certification in VendorCertification.objects.all())
    assert statuses["expired"] >= 1 and statuses["expiring"] >= 1 and statuses["valid"] >= 1
    assert VendorTeamMember.objects.filter(skills__isnull=False).distinct().count() == VendorTeamMember.objects.count()

    profiles = TalentProfile.objects.count()
    with_portfolio = PortfolioItem.objects.values("profile").distinct().count()
    assert 0.2 * profiles <= with_portfolio <= 0.45 * profiles
    assert not TalentProfile.objects.filter(languages=[]).exists()
    skills_by_profile: dict[int, set[int]] = {}
    for profile_id, skill_id in ProfileSkill.objects.values_list("profile_id", "skill_id"):
        skills_by_profile.setdefault(profile_id, set()).add(skill_id)
    for profile in TalentProfile.objects.only("pk", "skill_ids"):
        assert sorted(profile.skill_ids) == sorted(skills_by_profile.get(profile.pk, set()))

    clients = list(Organization.objects.filter(kind=Organization.Kind.CLIENT).order_by("pk")[:10])
    assert TalentPool.objects.count() == 20
    for organization in clients:
        pools = TalentPool.objects.filter(organization=organization).prefetch_related("members")
        assert pools.count() == 2
        for pool in pools:
            members = list(pool.members.all())
            assert 5 <= sum(1 for m in members if m.freelancer_id) <= 15, pool
            assert 1 <= sum(1 for m in members if m.vendor_id) <= 3, pool
            assert any(m.notes for m in members)
    assert Organization.objects.get(slug="ledgerline-payments").talent_pools.count() == 2
