"""Onboarding emails: welcome, reminders of what is still missing (days 1, 3, 7), document decisions, expiry
warnings (30 and 7 days ahead). Each is sent once, however often its task runs."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from django.utils.functional import empty

from accounts.models import Membership, Organization
from compliance import tasks_checks
from compliance.models import ComplianceDocument, OnboardingEmail, Requirement, private_storage
from compliance.services import emails
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path: Path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    private_storage._wrapped = empty  # type: ignore[assignment]  # the lazy storage reads the setting again
    yield
    private_storage._wrapped = empty  # type: ignore[assignment]


def freelancer(**kwargs):
    return TalentProfileFactory(user=UserFactory(**kwargs)).user


def document(*, code: str, status: str, user=None, organization=None, **fields) -> ComplianceDocument:
    doc = ComplianceDocument(
        requirement=Requirement.objects.get(code=code),
        user=user,
        organization=organization,
        original_name=f"{code}.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        status=status,
        **fields,
    )
    doc.file.save(f"{code}.pdf", ContentFile(PDF), save=False)
    doc.save()
    return doc


def keys() -> list[str]:
    return sorted(OnboardingEmail.objects.values_list("key", flat=True))


# --- welcome ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_welcome_lists_what_a_freelancer_still_needs_and_is_sent_once():
    user = freelancer(full_name="Ada Lovelace", country="GB")

    first = tasks_checks.welcome_email_send(user_id=user.pk)
    second = tasks_checks.welcome_email_send(user_id=user.pk)

    assert (first, second) == (True, False)
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "Tandem: welcome — here is how to get started"
    assert message.body.startswith("Hello Ada,\n\nWelcome to Tandem.")
    assert "- Identity verification: missing — upload it on your compliance checklist." in message.body
    assert "- W-8BEN tax form: missing" in message.body
    assert "/compliance/" in message.body
    assert keys() == [f"welcome:{user.pk}"]
    assert OnboardingEmail.objects.get().kind == "welcome"


@pytest.mark.django_db
def test_welcome_of_a_client_points_to_the_dashboard():
    member = MembershipFactory(organization=OrganizationFactory(kind=Organization.Kind.CLIENT))

    assert emails.welcome_email_send(user_id=member.user_id) is True

    [message] = mail.outbox
    assert "compliance gate needs" not in message.body
    assert "Your dashboard shows your next steps: /dashboard/" in message.body


@pytest.mark.django_db
def test_welcome_of_a_vendor_owner_lists_the_firms_requirements():
    membership = MembershipFactory(
        role=Membership.Role.OWNER, organization=OrganizationFactory(kind=Organization.Kind.VENDOR, country="DE")
    )

    emails.welcome_email_send(user_id=membership.user_id)

    [message] = mail.outbox
    assert "W-8BEN-E tax form: missing" in message.body
    assert "Identity verification" not in message.body  # a freelancer requirement


@pytest.mark.django_db(transaction=True)
def test_welcome_is_sent_once_when_two_workers_run_the_task_at_the_same_moment():
    user = freelancer()
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(tasks_checks.welcome_email_send(user_id=user.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    assert keys() == [f"welcome:{user.pk}"]


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim_so_the_retry_sends():
    user = freelancer()

    with (
        mock.patch("compliance.services.emails.send_mail", side_effect=ConnectionError("SMTP down")),
        pytest.raises(ConnectionError),
    ):
        emails.welcome_email_send(user_id=user.pk)
    assert keys() == []

    assert emails.welcome_email_send(user_id=user.pk) is True
    assert len(mail.outbox) == 1


# --- reminders ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reminders_due_are_the_latest_stage_reached_in_the_last_eight_days():
    now = timezone.now()
    joined = {hours: freelancer(date_joined=now - timedelta(hours=hours)) for hours in (12, 30, 60, 80, 170, 200)}
    UserFactory(is_staff=True, date_joined=now - timedelta(hours=30))
    UserFactory(is_active=False, date_joined=now - timedelta(hours=30))

    due = emails.onboarding_reminders_due(now=now)

    assert due == [
        (joined[30].pk, 1),
        (joined[60].pk, 1),
        (joined[80].pk, 3),
        (joined[170].pk, 7),
    ]


@pytest.mark.django_db
def test_a_sent_reminder_is_no_longer_due_and_the_next_stage_comes_later():
    now = timezone.now()
    user = freelancer(date_joined=now - timedelta(hours=30))

    emails.onboarding_reminder_email_send(user_id=user.pk, day=1)

    assert emails.onboarding_reminders_due(now=now) == []
    assert emails.onboarding_reminders_due(now=now + timedelta(days=2)) == [(user.pk, 3)]


@pytest.mark.django_db
def test_a_reminder_lists_only_what_is_not_met_and_is_sent_once():
    user = freelancer(full_name="Grace Hopper", country="GB", date_joined=timezone.now() - timedelta(days=3, hours=1))
    document(code="identity", status=ComplianceDocument.Status.APPROVED, user=user, reviewed_at=timezone.now())

    assert tasks_checks.onboarding_reminder_email_send(user_id=user.pk, day=3) is True
    assert tasks_checks.onboarding_reminder_email_send(user_id=user.pk, day=3) is False

    [message] = mail.outbox
    assert message.subject.startswith("Tandem: ") and message.subject.endswith("compliance items still to do")
    assert "You joined Tandem 3 days ago." in message.body
    assert "W-8BEN tax form: missing" in message.body
    assert "Identity verification" not in message.body
    assert keys() == [f"reminder:{user.pk}:day3"]


@pytest.mark.django_db
def test_nothing_missing_means_no_reminder_and_nothing_claimed():
    member = MembershipFactory(organization=OrganizationFactory(kind=Organization.Kind.CLIENT))

    assert emails.onboarding_reminder_email_send(user_id=member.user_id, day=1) is False

    assert mail.outbox == []
    assert keys() == []


@pytest.mark.django_db
def test_the_daily_reminder_task_enqueues_each_due_reminder_and_twice_sends_once():
    user = freelancer(date_joined=timezone.now() - timedelta(days=1, hours=2))

    with mock.patch.object(tasks_checks.onboarding_reminder_email_send, "delay") as delay:
        assert tasks_checks.onboarding_reminders_due() == 1
    delay.assert_called_once_with(user_id=user.pk, day=1)

    for _ in range(2):  # the enqueued task, delivered twice
        tasks_checks.onboarding_reminder_email_send(user_id=user.pk, day=1)
    assert len(mail.outbox) == 1
    with mock.patch.object(tasks_checks.onboarding_reminder_email_send, "delay") as delay:
        assert tasks_checks.onboarding_reminders_due() == 0
    delay.assert_not_called()


# --- document decisions -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_is_emailed_once():
    user = freelancer()
    doc = document(
        code="identity",
        status=ComplianceDocument.Status.APPROVED,
        user=user,
        expires_at=timezone.now() + timedelta(days=365),
    )

    assert emails.document_decided_email_send(doc.pk) is True
    assert tasks_checks.document_decided_email_send(document_id=doc.pk) is False

    [message] = mail.outbox
    assert (message.to, message.subject) == ([user.email], "Tandem: Identity verification approved")
    assert "approved the Identity verification that you uploaded (identity.pdf)" in message.body
    assert "we will remind you 30 and 7 days before it expires" in message.body
    assert keys() == [f"document:{doc.pk}:approved"]


@pytest.mark.django_db
def test_a_rejection_gives_the_reason_and_a_second_rejection_after_the_appeal_is_a_new_email():
    user = freelancer()
    doc = document(
        code="identity", status=ComplianceDocument.Status.REJECTED, user=user, rejection_reason="The scan is blurred."
    )

    emails.document_decided_email_send(doc.pk)
    ComplianceDocument.objects.filter(pk=doc.pk).update(appealed_at=timezone.now(), rejection_reason="Still blurred.")
    emails.document_decided_email_send(doc.pk)
    emails.document_decided_email_send(doc.pk)

    first, second = mail.outbox
    assert first.subject == "Tandem: Identity verification was not accepted"
    assert "Reason: The scan is blurred." in first.body
    assert "or appeal this decision there once" in first.body
    assert "Reason: Still blurred." in second.body
    assert "appeal" not in second.body.split("What to do:")[1]
    assert keys() == sorted([f"document:{doc.pk}:rejected", f"document:{doc.pk}:rejected:appeal"])


@pytest.mark.django_db
def test_a_firms_document_decision_goes_to_its_owners_and_admins():
    firm = OrganizationFactory(kind=Organization.Kind.VENDOR, name="Helpdesk Partners")
    owner = MembershipFactory(organization=firm, role=Membership.Role.OWNER).user
    admin = MembershipFactory(organization=firm, role=Membership.Role.ADMIN).user
    MembershipFactory(organization=firm, role=Membership.Role.MEMBER)
    doc = document(code="nda", status=ComplianceDocument.Status.APPROVED, organization=firm, uploaded_by=admin)

    emails.document_decided_email_send(doc.pk)

    [message] = mail.outbox
    assert sorted(message.to) == sorted([owner.email, admin.email])
    assert "that Helpdesk Partners uploaded" in message.body


@pytest.mark.django_db
def test_an_undecided_document_sends_nothing():
    doc = document(code="identity", status=ComplianceDocument.Status.SUBMITTED, user=freelancer())

    assert emails.document_decided_email_send(doc.pk) is False
    assert mail.outbox == []


# --- expiry warnings ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expiry_warnings_due_30_and_7_days_ahead():
    now = timezone.now()
    user = freelancer()
    in_20 = document(code="identity", status="approved", user=user, expires_at=now + timedelta(days=20))
    in_5 = document(code="nda", status="approved", user=user, expires_at=now + timedelta(days=5))
    document(code="tax-form-w8ben", status="approved", user=user, expires_at=now + timedelta(days=40))
    document(code="insurance", status="submitted", user=user, expires_at=now + timedelta(days=5))

    assert sorted(emails.document_expiry_warnings_due(now=now)) == sorted([(in_20.pk, 30), (in_5.pk, 7)])


@pytest.mark.django_db
def test_each_expiry_warning_is_sent_once_and_the_7_day_one_follows_the_30_day_one():
    user = freelancer()
    doc = document(code="identity", status="approved", user=user, expires_at=timezone.now() + timedelta(days=20))

    with mock.patch.object(tasks_checks.document_expiry_email_send, "delay") as delay:
        tasks_checks.document_expiry_warnings_due()
    delay.assert_called_once_with(document_id=doc.pk, days=30)
    assert tasks_checks.document_expiry_email_send(document_id=doc.pk, days=30) is True
    assert tasks_checks.document_expiry_email_send(document_id=doc.pk, days=30) is False
    assert emails.document_expiry_warnings_due() == []

    ComplianceDocument.objects.filter(pk=doc.pk).update(expires_at=timezone.now() + timedelta(days=6))
    assert emails.document_expiry_warnings_due() == [(doc.pk, 7)]
    assert emails.document_expiry_email_send(document_id=doc.pk, days=7) is True

    first, second = mail.outbox
    assert first.subject.startswith("Tandem: Identity verification expires on ")
    assert "in 19 days" in first.body or "in 20 days" in first.body
    assert "in 5 days" in second.body or "in 6 days" in second.body
    assert "new contracts and payouts that need it are blocked" in first.body
    assert keys() == sorted([f"expiry:{doc.pk}:30", f"expiry:{doc.pk}:7"])


@pytest.mark.django_db
def test_no_warning_for_a_document_renewed_or_expired_meanwhile():
    doc = document(
        code="identity", status="approved", user=freelancer(), expires_at=timezone.now() + timedelta(days=20)
    )
    ComplianceDocument.objects.filter(pk=doc.pk).update(expires_at=timezone.now() + timedelta(days=400))

    assert emails.document_expiry_email_send(document_id=doc.pk, days=30) is False
    assert mail.outbox == []
    assert keys() == []


@pytest.mark.django_db
def test_email_tasks_run_on_the_email_queue():
    from config.celery import app

    for task in (
        tasks_checks.welcome_email_send,
        tasks_checks.onboarding_reminder_email_send,
        tasks_checks.document_decided_email_send,
        tasks_checks.document_expiry_email_send,
    ):
        route = app.amqp.router.route({}, task.name)
        assert route["queue"].name == "email", task.name
