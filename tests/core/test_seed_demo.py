from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Membership, Organization, User
from compliance.models import ClassificationAssessment, ScreeningHit
from engagements.models import Contract, Milestone, Timesheet
from marketplace.models import Bid, Gig, Match, Review
from talent.models import ProfileSkill, Skill, TalentProfile


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "clients": Organization.objects.filter(kind="client").count(),
        "vendors": Organization.objects.filter(kind="vendor").count(),
        "memberships": Membership.objects.count(),
        "freelancers": TalentProfile.objects.count(),
        "profile_skills": ProfileSkill.objects.count(),
        "skills": Skill.objects.count(),
        "gigs": Gig.objects.count(),
        "bids": Bid.objects.count(),
        "contracts": Contract.objects.count(),
        "matches": Match.objects.count(),
        "reviews": Review.objects.count(),
        "milestones": Milestone.objects.count(),
        "timesheets": Timesheet.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_loads_realistic_volumes_once_and_every_admin_page_renders_them(client) -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _counts()

    call_command("seed_demo", stdout=StringIO())

    assert _counts() == first
    assert first["clients"] >= 30 and first["vendors"] >= 15 and first["freelancers"] >= 300
    assert first["skills"] >= 400
    categories = set(Skill.objects.filter(profiles__isnull=False).values_list("category", flat=True))
    assert {"software", "design", "data", "customer_support", "bpo"} <= categories
    assert TalentProfile.objects.values("country").distinct().count() >= 10
    assert TalentProfile.objects.values("timezone").distinct().count() >= 10
    assert first["gigs"] >= 200
    assert set(Gig.objects.values_list("status", flat=True)) == {
        "draft",
        "open",
        "in_progress",
        "completed",
        "cancelled",
    }
    assert {"fixed", "hourly"} <= set(Gig.objects.values_list("kind", flat=True))
    assert first["bids"] > first["gigs"] and first["contracts"] > 0 and first["matches"] > 0 and first["reviews"] > 0
    assert set(Contract.objects.values_list("status", flat=True)) >= {"active", "paused", "disputed", "completed"}
    assert set(Milestone.objects.values_list("status", flat=True)) >= {"funded", "submitted", "approved", "released"}
    assert set(Timesheet.objects.values_list("status", flat=True)) == {"draft", "submitted", "approved"}
    # Screening against the bundled sample list leaves realistic hits for ops: a namesake and a look-alike firm.
    hits = ScreeningHit.objects.filter(status="pending")
    assert {"Dmytro Kovalenko"} <= set(hits.filter(user__isnull=False).values_list("screened_name", flat=True))
    assert "Obsidian Harbor Shipping Ltd" in set(
        hits.filter(organization__isnull=False).values_list("screened_name", flat=True)
    )
    # Two fresh hourly hires wait in pending_compliance for ops to sign off their high-risk classification.
    waiting = ClassificationAssessment.objects.filter(status="pending", risk="high")
    assert waiting.count() == 2
    assert set(waiting.values_list("contract__status", flat=True)) == {"pending_compliance"}
    demo = User.objects.get(email="client@tandem.test")
    assert demo.check_password("tandem-demo-2026")
    assert demo.memberships.get().organization.kind == "client"
    # Every admin changelist renders the seeded rows and searches them (seeding is slow: reuse it here).
    from django.contrib import admin as django_admin

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for model in django_admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
        assert client.get(url, {"q": "a"}).status_code == 200, url
