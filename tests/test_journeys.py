"""Cross-app journeys with the real Celery worker."""

from decimal import Decimal

import pytest
from django.core import mail

from marketplace.models import Match
from marketplace.services.gigs import gig_publish
from marketplace.tasks.matching import match_gig
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)
from tests.marketplace.conftest import make_gig


@pytest.mark.django_db(transaction=True)
def test_publishing_ranks_talent_in_the_worker_and_emails_the_top_matches_once(celery_worker) -> None:
    skill = SkillFactory(name="Django", slug="django")
    member = MembershipFactory(organization=OrganizationFactory(kind="client"))
    for i in range(7):
        profile = TalentProfileFactory(user__email=f"talent{i}@example.com", hourly_rate=Decimal("50"))
        ProfileSkillFactory(profile=profile, skill=skill, level=3 + i % 3)
        profile.skill_ids = [skill.pk]
        profile.save()
    gig = make_gig(member, skill, publish=False)

    gig_publish(gig_id=gig.pk, by=member.user)  # enqueues match_gig after the commit
    match_gig.delay(gig_id=gig.pk).get(timeout=30)  # a redelivery: runs the task a second time

    assert Match.objects.filter(gig=gig).count() == 7
    assert Match.objects.filter(gig=gig, invited_at__isnull=False).count() == 5
    # The worker runs tasks in order; wait for the email tasks the two runs queued, then count the emails.
    from marketplace.tasks.matching import match_invitation_email_send

    top = Match.objects.get(gig=gig, rank=1)
    match_invitation_email_send.delay(gig_id=gig.pk, freelancer_id=top.freelancer_id).get(timeout=30)
    invited = sorted(message.to[0] for message in mail.outbox)
    assert len(invited) == 5 and len(set(invited)) == 5
