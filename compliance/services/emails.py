"""Onboarding emails: welcome on sign-up; reminders of missing requirements 1, 3 and 7 days after sign-up; document
approved or rejected; expiry warnings 30 and 7 days ahead; the data-export link.

Each is sent once: its OnboardingEmail key (for example "reminder:42:day3", "expiry:17:30") is claimed inside a
transaction and the email sent before that transaction commits. A second run, or a redelivered task, finds the key
and sends nothing; a send that fails rolls the claim back, so the retry sends it. Plain-text bodies live under
templates/compliance/email/. The Celery tasks (email queue) are in compliance/tasks_checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Membership, User
from compliance.gate import Party, RequirementState, checklist_for, expiring_documents
from compliance.models import ComplianceDocument, OnboardingEmail

REMINDER_DAYS = (1, 3, 7)
EXPIRY_WARNING_DAYS = (30, 7)
MANAGER_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _site_url() -> str:
    return str(getattr(settings, "SITE_URL", "")).rstrip("/")


def _url(name: str, *, fallback: str, args: list[Any] | None = None) -> str:
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        path = fallback
    return f"{_site_url()}{path}"


def _send_once(
    *, key: str, kind: str, user: User, recipients: list[str], subject: str, template: str, context: dict[str, Any]
) -> bool:
    """Claim `key`, then send; both in one transaction. False when the key was already claimed (sent before) or
    there is nobody to send to (nothing is claimed then, so a later run may still send it)."""
    if not recipients:
        return False
    with transaction.atomic():
        # A concurrent claimant of the same key waits here on the unique index until this commits, then finds it.
        _, claimed = OnboardingEmail.objects.get_or_create(key=key, defaults={"user": user, "kind": kind})
        if not claimed:
            return False
        body = render_to_string(template, {"site_name": settings.SITE_NAME, **context})
        send_mail(f"{settings.SITE_NAME}: {subject}", body, None, recipients)
    return True


def parties_of(user: User) -> list[Party]:
    """Whose requirements a person answers for: their own as a freelancer, and each vendor firm they own or
    administer. Client members have none."""
    parties: list[Party] = []
    if hasattr(user, "talent_profile"):
        parties.append(Party(user=user))
    memberships = Membership.objects.filter(
        user=user, role__in=MANAGER_ROLES, organization__kind="vendor"
    ).select_related("organization")
    parties.extend(Party(organization=membership.organization) for membership in memberships)
    return parties


@dataclass(frozen=True)
class MissingItems:
    party_label: str
    states: list[RequirementState]


def _missing(user: User) -> list[MissingItems]:
    missing = []
    for party in parties_of(user):
        states = [state for state in checklist_for(party=party) if not state.is_met]
        if states:
            label = party.organization.name if party.organization is not None else "you"
            missing.append(MissingItems(party_label=label, states=states))
    return missing


def welcome_email_send(*, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return _send_once(
        key=f"welcome:{user.pk}",
        kind="welcome",
        user=user,
        recipients=[user.email],
        subject="welcome — here is how to get started",
        template="compliance/email/welcome.txt",
        context={
            "user": user,
            "is_freelancer": hasattr(user, "talent_profile"),
            "missing": _missing(user),
            "checklist_url": _url("compliance:checklist", fallback="/compliance/"),
            "dashboard_url": _url("core:dashboard", fallback="/dashboard/"),
        },
    )


def onboarding_reminders_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(user id, day) of each reminder due now and not yet sent: the latest of days 1, 3 and 7 each person who
    signed up in the last 8 days has reached (a missed run skips a stage rather than sending two at once).

    Bounded by the sign-up window; whether anything is still missing is decided when sending."""
    now = now or timezone.now()
    window_start = now - timedelta(days=REMINDER_DAYS[-1] + 1)
    joined = dict(
        User.objects.filter(
            is_active=True,
            is_staff=False,
            is_service_account=False,
            date_joined__gt=window_start,
            date_joined__lte=now - timedelta(days=1),
        ).values_list("pk", "date_joined")
    )
    sent = set(OnboardingEmail.objects.filter(user_id__in=joined, kind="reminder").values_list("key", flat=True))
    due = []
    for user_id, date_joined in sorted(joined.items()):
        day = max(day for day in REMINDER_DAYS if date_joined <= now - timedelta(days=day))
        if f"reminder:{user_id}:day{day}" not in sent:
            due.append((user_id, day))
    return due


def onboarding_reminder_email_send(*, user_id: int, day: int) -> bool:
    """The day-1, -3 or -7 reminder of what is still missing; nothing is sent (or claimed) when nothing is."""
    if day not in REMINDER_DAYS:
        raise ValueError(f"Reminders are sent on days {REMINDER_DAYS}.")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    missing = _missing(user)
    if not missing:
        return False
    count = sum(len(items.states) for items in missing)
    return _send_once(
        key=f"reminder:{user.pk}:day{day}",
        kind="reminder",
        user=user,
        recipients=[user.email],
        subject=f"{count} compliance item{'s' if count != 1 else ''} still to do",
        template="compliance/email/reminder.txt",
        context={
            "user": user,
            "day": day,
            "missing": missing,
            "checklist_url": _url("compliance:checklist", fallback="/compliance/"),
        },
    )


def _document_recipients(document: ComplianceDocument) -> list[User]:
    if document.user_id is not None:
        return [document.user] if document.user and document.user.is_active else []
    return [
        membership.user
        for membership in Membership.objects.filter(
            organization_id=document.organization_id or 0,
            role__in=MANAGER_ROLES,
            user__is_active=True,
            user__is_service_account=False,
        )
        .select_related("user")
        .order_by("pk")
    ]


def document_decided_email_send(document_id: int) -> bool:
    """Tell the document's owner (the freelancer, or the firm's owners and admins) that ops approved or rejected it,
    with the reason and what to do. Once per decision: a rejection after the appeal is a second decision."""
    document = (
        ComplianceDocument.objects.select_related("requirement", "user", "organization").filter(pk=document_id).first()
    )
    if document is None or document.status not in (
        ComplianceDocument.Status.APPROVED,
        ComplianceDocument.Status.REJECTED,
    ):
        return False
    recipients = _document_recipients(document)
    if not recipients:
        return False
    appeal = ":appeal" if document.appealed_at else ""
    approved = document.status == ComplianceDocument.Status.APPROVED
    return _send_once(
        key=f"document:{document.pk}:{document.status}{appeal}",
        kind=f"document_{document.status}",
        user=document.user or recipients[0],
        recipients=[user.email for user in recipients],
        subject=f"{document.requirement.name} {'approved' if approved else 'was not accepted'}",
        template=f"compliance/email/document_{document.status}.txt",
        context={
            "document": document,
            "requirement": document.requirement,
            "owner": document.organization.name if document.organization else "you",
            "can_appeal": not document.appealed_at,
            "checklist_url": _url("compliance:checklist", fallback="/compliance/"),
        },
    )


def document_expiry_warnings_due(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """(document id, days) of each expiry warning due and not yet sent: approved documents expiring within 30 days
    get the 30-day warning, within 7 days the 7-day one (only that one, if the 30-day window was missed)."""
    now = now or timezone.now()
    documents = list(
        expiring_documents(within_days=EXPIRY_WARNING_DAYS[0]).values_list("pk", "expires_at").order_by("expires_at")
    )
    sent = set(
        OnboardingEmail.objects.filter(
            kind="expiry_warning",
            key__in=[f"expiry:{pk}:{days}" for pk, _ in documents for days in EXPIRY_WARNING_DAYS],
        ).values_list("key", flat=True)
    )
    due = []
    for pk, expires_at in documents:
        if expires_at is None:  # excluded by expiring_documents; for the type checker
            continue
        days = (
            EXPIRY_WARNING_DAYS[1]
            if expires_at <= now + timedelta(days=EXPIRY_WARNING_DAYS[1])
            else EXPIRY_WARNING_DAYS[0]
        )
        if f"expiry:{pk}:{days}" not in sent:
            due.append((pk, days))
    return due


def document_expiry_email_send(*, document_id: int, days: int) -> bool:
    if days not in EXPIRY_WARNING_DAYS:
        raise ValueError(f"Expiry warnings are sent {EXPIRY_WARNING_DAYS} days ahead.")
    now = timezone.now()
    document = (
        ComplianceDocument.objects.select_related("requirement", "user", "organization")
        .filter(
            pk=document_id,
            status=ComplianceDocument.Status.APPROVED,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .first()
    )
    if document is None or document.expires_at is None:
        return False
    recipients = _document_recipients(document)
    if not recipients:
        return False
    return _send_once(
        key=f"expiry:{document.pk}:{days}",
        kind="expiry_warning",
        user=document.user or recipients[0],
        recipients=[user.email for user in recipients],
        subject=f"{document.requirement.name} expires on {timezone.localtime(document.expires_at):%-d %B %Y}",
        template="compliance/email/document_expiry.txt",
        context={
            "document": document,
            "requirement": document.requirement,
            "owner": document.organization.name if document.organization else "you",
            "days_left": max(0, (document.expires_at - now).days),
            "checklist_url": _url("compliance:checklist", fallback="/compliance/"),
        },
    )


def data_export_ready_email_send(*, request_id: int, user: User, token: str, expires_at: datetime) -> bool:
    """The download link of a finished export. Called by the export task itself: the token exists only there and
    in this email (the database keeps its hash)."""
    return _send_once(
        key=f"export:{request_id}",
        kind="data_export",
        user=user,
        recipients=[user.email],
        subject="your data export is ready",
        template="compliance/email/data_export_ready.txt",
        context={
            "user": user,
            "download_url": _url(
                "compliance_data:export_download", fallback=f"/compliance/data/export/{token}/", args=[token]
            ),
            "expires_at": expires_at,
        },
    )
