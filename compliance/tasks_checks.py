"""Celery tasks of the compliance checks, onboarding emails and data rights (names "compliance.tasks.<service>").

Each wraps one service and takes ids; all are idempotent (see the services). Emails go to the email queue. The
daily beat tasks (`*_due`, `screening_rescreen`, `data_exports_expire`) only find what is due and enqueue one task
per item, so a run stays short however much is due.

`signals_connect()` hooks sign-up (allauth's user_signed_up) to the welcome email and to screening the new person
and the organisation they created; call it from ComplianceConfig.ready().
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction

RESCREEN_BATCH = 200
RETRY_ON = (ConnectionError, TimeoutError)  # transient: the broker, the database or the mail server


# --- Screening and classification -------------------------------------------------------------------------------


@shared_task(
    name="compliance.tasks.screening_run", acks_late=True, autoretry_for=RETRY_ON, retry_backoff=True, max_retries=8
)
def screening_run(*, user_id: int | None = None, organization_id: int | None = None) -> int:
    from compliance.services.checks import screening_run as run

    return len(run(user_id=user_id, organization_id=organization_id))


@shared_task(
    name="compliance.tasks.screening_run_batch",
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    max_retries=8,
)
def screening_run_batch(*, user_ids: list[int] | None = None, organization_ids: list[int] | None = None) -> int:
    from compliance.services.checks import screening_run as run

    hits = sum(len(run(user_id=user_id)) for user_id in user_ids or [])
    return hits + sum(len(run(organization_id=organization_id)) for organization_id in organization_ids or [])


@shared_task(name="compliance.tasks.screening_rescreen", acks_late=True)
def screening_rescreen() -> int:
    """Daily (beat): re-screen everyone whose name changed since the last run (everyone after a new list), in
    batches of RESCREEN_BATCH."""
    from compliance.services.checks import screening_rescreen_subjects

    user_ids, organization_ids = screening_rescreen_subjects()
    for start in range(0, len(user_ids), RESCREEN_BATCH):
        screening_run_batch.delay(user_ids=user_ids[start : start + RESCREEN_BATCH])
    for start in range(0, len(organization_ids), RESCREEN_BATCH):
        screening_run_batch.delay(organization_ids=organization_ids[start : start + RESCREEN_BATCH])
    return len(user_ids) + len(organization_ids)


# --- Onboarding emails (email queue) ----------------------------------------------------------------------------


@shared_task(
    name="compliance.tasks.welcome_email_send",
    queue="email",
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    max_retries=8,
)
def welcome_email_send(*, user_id: int) -> bool:
    from compliance.services.emails import welcome_email_send as send

    return send(user_id=user_id)


@shared_task(
    name="compliance.tasks.onboarding_reminder_email_send",
    queue="email",
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    max_retries=8,
)
def onboarding_reminder_email_send(*, user_id: int, day: int) -> bool:
    from compliance.services.emails import onboarding_reminder_email_send as send

    return send(user_id=user_id, day=day)


@shared_task(name="compliance.tasks.onboarding_reminders_due", acks_late=True)
def onboarding_reminders_due() -> int:
    """Daily (beat): the day-1, -3 and -7 reminders that are due."""
    from compliance.services.emails import onboarding_reminders_due as due

    reminders = due()
    for user_id, day in reminders:
        onboarding_reminder_email_send.delay(user_id=user_id, day=day)
    return len(reminders)


@shared_task(
    name="compliance.tasks.document_decided_email_send",
    queue="email",
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    max_retries=8,
)
def document_decided_email_send(*, document_id: int) -> bool:
    from compliance.services.emails import document_decided_email_send as send

    return send(document_id)


@shared_task(
    name="compliance.tasks.document_expiry_email_send",
    queue="email",
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=True,
    max_retries=8,
)
def document_expiry_email_send(*, document_id: int, days: int) -> bool:
    from compliance.services.emails import document_expiry_email_send as send

    return send(document_id=document_id, days=days)


@shared_task(name="compliance.tasks.document_expiry_warnings_due", acks_late=True)
def document_expiry_warnings_due() -> int:
    """Daily (beat): the 30- and 7-day expiry warnings that are due."""
    from compliance.services.emails import document_expiry_warnings_due as due

    warnings = due()
    for document_id, days in warnings:
        document_expiry_email_send.delay(document_id=document_id, days=days)
    return len(warnings)


# --- Data rights ------------------------------------------------------------------------------------------------


@shared_task(
    name="compliance.tasks.data_export_build", acks_late=True, autoretry_for=RETRY_ON, retry_backoff=True, max_retries=8
)
def data_export_build(*, request_id: int) -> str | None:
    from compliance.services.data_rights import data_export_build as build

    request = build(request_id=request_id)
    return request.status if request else None


@shared_task(name="compliance.tasks.data_exports_expire", acks_late=True)
def data_exports_expire() -> int:
    from compliance.services.data_rights import data_exports_expire as expire

    return expire()


@shared_task(
    name="compliance.tasks.erasure_perform", acks_late=True, autoretry_for=RETRY_ON, retry_backoff=True, max_retries=8
)
def erasure_perform(*, request_id: int) -> str | None:
    from compliance.services.data_rights import erasure_perform as perform

    request = perform(request_id=request_id)
    return request.status if request else None


# --- Sign-up hook -----------------------------------------------------------------------------------------------


def on_user_signed_up(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """allauth announces sign-ups only by signal: enqueue the welcome email and the screening of the new person
    and of the organisations they created, once the sign-up has committed."""
    from accounts.models import Membership

    organization_ids = list(
        Membership.objects.filter(user=user, role=Membership.Role.OWNER).values_list("organization_id", flat=True)
    )

    def enqueue() -> None:
        welcome_email_send.delay(user_id=user.pk)
        screening_run.delay(user_id=user.pk)
        for organization_id in organization_ids:
            screening_run.delay(organization_id=organization_id)

    transaction.on_commit(enqueue)


def signals_connect() -> None:
    from allauth.account.signals import user_signed_up

    user_signed_up.connect(on_user_signed_up, dispatch_uid="compliance_on_user_signed_up")
