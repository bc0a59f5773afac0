"""Matching and invitation emails (queues: matching, email)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

TOP_MATCHES_INVITED = 5


@shared_task(name="marketplace.tasks.match_gig", queue="matching", acks_late=True, max_retries=3)
def match_gig(*, gig_id: int) -> int:
    """Rank talent for the gig and invite the top matches by email, each at most once."""
    from marketplace.services.matching import match_gig as rank_and_store
    from marketplace.services.matching import match_top_to_invite

    with transaction.atomic():
        matches = rank_and_store(gig_id=gig_id)
        for match in match_top_to_invite(gig_id=gig_id, count=TOP_MATCHES_INVITED):
            # By who, not by match id: a later re-ranking replaces the match rows.
            match_invitation_email_send.delay_on_commit(  # type: ignore[attr-defined]
                gig_id=gig_id, freelancer_id=match.freelancer_id, vendor_id=match.vendor_id
            )
    return len(matches)


@shared_task(name="marketplace.tasks.match_open_gigs", queue="matching", acks_late=True)
def match_open_gigs() -> int:
    """Nightly: re-rank every open gig (new talent, changed rates and availability)."""
    from marketplace.models import Gig

    gig_ids = list(Gig.objects.filter(status=Gig.Status.OPEN).exclude(kind="micro_task").values_list("pk", flat=True))
    for gig_id in gig_ids:
        match_gig.delay(gig_id=gig_id)
    return len(gig_ids)


def _send_once(key: str, *, subject: str, body: str, recipients: list[str]) -> bool:
    # The cache's atomic add is the idempotency guard: a redelivered task finds the key and sends nothing.
    if not recipients or not cache.add(key, 1, timeout=60 * 60 * 24 * 30):
        return False
    send_mail(subject, body, None, recipients)
    return True


def _recipients(*, freelancer_id: int | None, vendor_id: int | None) -> list[str]:
    from accounts.models import Membership, User

    if freelancer_id is not None:
        return list(User.objects.filter(pk=freelancer_id, is_active=True).values_list("email", flat=True))
    if vendor_id is None:
        return []
    return list(
        Membership.objects.filter(
            organization_id=vendor_id,
            role__in=["owner", "admin"],
            user__is_active=True,
            user__is_service_account=False,
        ).values_list("user__email", flat=True)
    )


@shared_task(name="marketplace.tasks.match_invitation_email_send", queue="email", acks_late=True)
def match_invitation_email_send(*, gig_id: int, freelancer_id: int | None = None, vendor_id: int | None = None) -> bool:
    from marketplace.models import Gig

    gig = Gig.objects.select_related("organization").filter(pk=gig_id).first()
    if gig is None:
        return False
    return _send_once(
        f"email:match-invitation:{gig_id}:{freelancer_id}:{vendor_id}",
        subject=f"You're a top match for “{gig.title}”",
        body=(
            f"{gig.organization.name} posted a gig that fits your skills: {gig.title}.\n\n"
            f"See it and bid: {reverse('marketplace:gig_detail', args=[gig.pk])}\n"
        ),
        recipients=_recipients(freelancer_id=freelancer_id, vendor_id=vendor_id),
    )


@shared_task(name="marketplace.tasks.invitation_email_send", queue="email", acks_late=True)
def invitation_email_send(*, invitation_id: int) -> bool:
    from marketplace.models import Invitation

    invitation = Invitation.objects.select_related("gig__organization").filter(pk=invitation_id).first()
    if invitation is None:
        return False
    gig = invitation.gig
    message = f"\n\nTheir note: {invitation.message}" if invitation.message else ""
    return _send_once(
        f"email:invitation:{invitation.pk}",
        subject=f"{gig.organization.name} invites you to bid on “{gig.title}”",
        body=f"See the gig and bid: {reverse('marketplace:gig_detail', args=[gig.pk])}{message}\n",
        recipients=_recipients(freelancer_id=invitation.freelancer_id, vendor_id=invitation.vendor_id),
    )
