"""Data rights: a person downloads all their personal data, and asks to be erased.

**What is a person's data** is found by introspection over every installed app, not listed by hand:

1. every row of a model with a ForeignKey / OneToOneField to the user through a *subject* link in PERSON_LINKS
   (the row is about the person: their profile, bids, contracts, documents, …), plus the audit events they
   performed or that are about them;
2. every row that depends on such a row through a ForeignKey with on_delete=CASCADE, transitively (their profile's
   skills and portfolio, their contracts' milestones, timesheets and time entries, their invoices' lines, …).

*Actor* links record who acted for an organisation or for the platform (the member who posted a gig, the ops
reviewer of a document): those rows belong to the organisation; the export lists them as references, and after
erasure they point at the anonymised user. Every link to the user must be classified (a test enforces it), and
every model reachable from the subject links must have an erasure POLICY (the erasure refuses to run otherwise).

**Export**: a zip with one JSON file per model (every concrete field of every row, except EXPORT_OMITTED_FIELDS),
actions.json (the actor references), the person's uploaded compliance files, and a README. Built by a Celery task,
kept in private storage, downloadable by its owner with the emailed link for DATA_EXPORT_DAYS days.

**Erasure**: the person asks; ops confirm in the admin; a Celery task then, per model, deletes the rows, anonymises
them (blanks every personal field: text, email, URL, file and JSON fields, and country; NON_PERSONAL_FIELDS and
fields with choices such as status or currency stay), or keeps them (RETENTION). The user row becomes
erased-<id>@erased.invalid with no name, no password and is_active=False: they cannot log in again. Uploaded
compliance files and export zips are deleted from private storage. Audit events stay (the chain must verify) with
the person's labels erased by core.services.audit_erase_person; admin log entries about their rows lose their
labels.

RETENTION — kept as the law requires (reasons in RETENTION below; retention periods are enforced by ops, not here):

- billing: invoices and their lines, ledger accounts, payout accounts and payouts (and, not linked to a person,
  payments, refunds, credit notes, ledger transactions) — tax and bookkeeping law (e.g. 10 years in Germany,
  6 years in the UK, 7 in the US for tax records).
- engagements: contracts with their milestones, timesheets and time entries; classification assessments — the
  commercial contract and the evidence of the work invoiced, and of the employment-status decision.
- marketplace: micro-task units the person completed — the client's paid work product.
- compliance: tax-form documents (metadata and the encrypted tax id only: the file is deleted, and with it the
  original file name); confirmed sanctions-screening hits — tax reporting, and sanctions/AML record keeping (5 years);
  the erasure request itself — the proof that the erasure was done.
- core: audit events — the tamper-evident record of who changed what (labels erased, ids kept).
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from compliance.models import ComplianceDocument, DataExportRequest, ErasureRequest, ScreeningHit, private_storage
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_erase_person, audit_record

if TYPE_CHECKING:
    from accounts.models import User

DATA_EXPORT_DAYS = 7
STALE_EXPORT_AFTER = timedelta(hours=6)  # a pending export older than this failed (its task gave up)
REVIEW_PERMISSION = "compliance.review_compliance"

SUBJECT, ACTOR = "subject", "actor"
# Every ForeignKey / OneToOneField to the user in the installed apps, "app_label.model.field" → subject | actor.
PERSON_LINKS: dict[str, str] = {
    "account.emailaddress.user": SUBJECT,
    "accounts.membership.user": SUBJECT,
    "accounts.apikey.user": SUBJECT,  # a freelancer's own API keys
    "accounts.webhooksubscription.user": SUBJECT,  # a freelancer's own webhook subscriptions
    "talent.talentprofile.user": SUBJECT,
    "talent.talentpoolmember.freelancer": SUBJECT,
    "marketplace.bid.freelancer": SUBJECT,
    "marketplace.invitation.freelancer": SUBJECT,
    "marketplace.match.freelancer": SUBJECT,
    "marketplace.taskunit.claimed_by": SUBJECT,
    "marketplace.review.author": SUBJECT,
    "engagements.contract.freelancer": SUBJECT,
    "billing.invoice.issuer_user": SUBJECT,
    "billing.ledgeraccount.user": SUBJECT,
    "billing.payoutaccount.user": SUBJECT,
    "billing.payout.user": SUBJECT,
    "compliance.compliancedocument.user": SUBJECT,
    "compliance.screeninghit.user": SUBJECT,
    "compliance.onboardingemail.user": SUBJECT,
    "compliance.dataexportrequest.user": SUBJECT,
    "compliance.erasurerequest.user": SUBJECT,
    "core.auditevent.actor": SUBJECT,
    # Who acted for an organisation or the platform: the row is theirs, not the person's.
    "admin.logentry.user": ACTOR,
    "accounts.apikey.created_by": ACTOR,
    "accounts.apikey.revoked_by": ACTOR,
    "accounts.webhooksubscription.created_by": ACTOR,
    "talent.talentpoolmember.added_by": ACTOR,
    "marketplace.bid.submitted_by": ACTOR,
    "marketplace.invitation.invited_by": ACTOR,
    "marketplace.gig.created_by": ACTOR,
    "marketplace.taskbatch.created_by": ACTOR,
    "marketplace.taskunit.reviewed_by": ACTOR,
    "engagements.timesheet.decided_by": ACTOR,
    "engagements.statementofwork.created_by": ACTOR,
    "engagements.statementofwork.proposed_by": ACTOR,
    "engagements.statementofwork.client_signed_by": ACTOR,
    "engagements.statementofwork.vendor_signed_by": ACTOR,
    "engagements.slameasurement.recorded_by": ACTOR,
    "engagements.sowusage.recorded_by": ACTOR,
    "billing.feerate.updated_by": ACTOR,
    "billing.creditnote.created_by": ACTOR,
    "billing.payment.created_by": ACTOR,
    "billing.refund.created_by": ACTOR,
    "compliance.compliancedocument.uploaded_by": ACTOR,
    "compliance.compliancedocument.reviewed_by": ACTOR,
    "compliance.screeninghit.reviewed_by": ACTOR,
    "compliance.classificationassessment.reviewed_by": ACTOR,
    "compliance.erasurerequest.confirmed_by": ACTOR,
}

DELETE, ANONYMISE, RETAIN = "delete", "anonymise", "retain"
# What erasure does with each model reachable from the subject links (see the module doc).
POLICY: dict[str, str] = {
    "accounts.user": ANONYMISE,
    "account.emailaddress": DELETE,
    "account.emailconfirmation": DELETE,
    "accounts.membership": DELETE,
    "accounts.apikey": DELETE,
    "accounts.webhooksubscription": DELETE,
    "accounts.webhookdelivery": DELETE,
    "accounts.webhookattempt": DELETE,
    "talent.talentprofile": ANONYMISE,
    "talent.profileskill": DELETE,
    "talent.portfolioitem": DELETE,
    "talent.talentpoolmember": DELETE,
    "marketplace.bid": ANONYMISE,
    "marketplace.bidteammember": ANONYMISE,
    "marketplace.invitation": ANONYMISE,
    "marketplace.match": DELETE,
    "marketplace.review": ANONYMISE,
    "compliance.onboardingemail": DELETE,
    "compliance.dataexportrequest": DELETE,
    # Kept (RETENTION), or decided row by row (compliance documents, screening hits):
    "marketplace.taskunit": RETAIN,
    "engagements.contract": RETAIN,
    "engagements.milestone": RETAIN,
    "engagements.timesheet": RETAIN,
    "engagements.timeentry": RETAIN,
    "compliance.classificationassessment": RETAIN,
    "billing.invoice": RETAIN,
    "billing.invoiceline": RETAIN,
    "billing.ledgeraccount": RETAIN,
    "billing.payoutaccount": RETAIN,
    "billing.payout": RETAIN,
    "compliance.compliancedocument": RETAIN,  # tax forms only; the others are deleted (see _erase_documents)
    "compliance.screeninghit": RETAIN,  # confirmed hits only; the others are deleted
    "compliance.erasurerequest": RETAIN,
    "core.auditevent": RETAIN,
}

# model → (fields kept, or "*" for the whole row; why). The erasure test searches everything else.
RETENTION: dict[str, tuple[str | tuple[str, ...], str]] = {
    "billing.invoice": ("*", "Tax and bookkeeping law: invoices are kept as issued."),
    "billing.invoiceline": ("*", "Part of the invoice."),
    "billing.ledgeraccount": ("*", "Bookkeeping: the double-entry ledger."),
    "billing.payoutaccount": ("*", "Bookkeeping and anti-fraud: where money was paid."),
    "billing.payout": ("*", "Bookkeeping: money paid out."),
    "engagements.contract": ("*", "Commercial law: the contract, and what its invoices refer to."),
    "engagements.milestone": ("*", "Part of the contract; what was invoiced and paid."),
    "engagements.timesheet": ("*", "Evidence of the hours invoiced."),
    "engagements.timeentry": ("*", "Evidence of the hours invoiced."),
    "compliance.classificationassessment": ("*", "Evidence of the employment-status decision of the contract."),
    "marketplace.taskunit": ("*", "The client's paid work product and the payment for it."),
    "compliance.compliancedocument": (
        ("tax_id_encrypted", "tax_id_last4", "sha256", "content_type"),
        "Tax reporting (IRS W-9/W-8 records): tax-form metadata and the encrypted tax id; the file is deleted.",
    ),
    "compliance.screeninghit": ("*", "Sanctions and AML record keeping: confirmed matches only."),
    "compliance.erasurerequest": ("*", "Proof that the erasure was requested, confirmed and done."),
    "core.auditevent": ("*", "Tamper-evident audit trail; the person's labels are erased, ids kept."),
}

# Fields that say nothing about a person: neither blanked nor searched after erasure. Besides these, every field
# with choices (status, kind, currency, …) is not personal — except PERSONAL_CHOICE_FIELDS.
NON_PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "compliance.compliancedocument": frozenset({"content_type", "sha256"}),
    "compliance.screeninghit": frozenset({"listed_name", "list_entry_id", "list_source"}),  # the list's, not theirs
    "compliance.onboardingemail": frozenset({"kind"}),
    "compliance.dataexportrequest": frozenset({"download_token_hash"}),
    "compliance.classificationassessment": frozenset({"factors"}),
    "core.auditevent": frozenset(
        {"hash", "previous_hash", "actor_label_salt", "actor_label_digest", "target_label_salt", "target_label_digest"}
    ),
}
PERSONAL_CHOICE_FIELDS = frozenset({"country"})
# Never put in an export: secrets and machinery. The password is reset and the tax id kept encrypted (its last
# four digits are exported); the audit chain's hashes and salts are NON_PERSONAL; search vectors are derived.
EXPORT_OMITTED_FIELDS: dict[str, frozenset[str]] = {
    "accounts.user": frozenset({"password"}),
    "accounts.apikey": frozenset({"secret_hash"}),
    "accounts.webhooksubscription": frozenset({"secret_encrypted"}),
    "account.emailconfirmation": frozenset({"key"}),
    "compliance.compliancedocument": frozenset({"tax_id_encrypted"}),
    "compliance.dataexportrequest": frozenset({"download_token_hash"}),
    "core.auditevent": NON_PERSONAL_FIELDS["core.auditevent"],
}
# Anonymised values that are not simply "empty".
ANONYMISED_VALUES: dict[str, dict[str, Any]] = {
    "talent.talentprofile": {
        "visibility": "private",
        "timezone": "UTC",
        "search_vector": None,
        "skill_ids": [],
        "hourly_rate": None,
    },
}
_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.FileField)


def label_of(model: type[models.Model]) -> str:
    return model._meta.label_lower


def is_personal_field(model: type[models.Model], model_field: models.Field) -> bool:
    """A concrete text, email, URL, file, JSON or text-array field that can say something about a person."""
    if not model_field.concrete or model_field.is_relation or model_field.primary_key:
        return False
    if isinstance(model_field, ArrayField):
        if not isinstance(model_field.base_field, models.CharField | models.TextField):
            return False
    elif not isinstance(model_field, _TEXT_FIELDS):
        return False
    if model_field.choices and model_field.name not in PERSONAL_CHOICE_FIELDS:
        return False
    return model_field.name not in NON_PERSONAL_FIELDS.get(label_of(model), frozenset())


def personal_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if is_personal_field(model, f)]


def person_links() -> list[models.Field]:
    """Every ForeignKey / OneToOneField to the user model in the installed apps."""
    from accounts.models import User

    return [
        model_field
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if model_field.is_relation and model_field.related_model is User
    ]


def _link_name(model_field: models.Field) -> str:
    return f"{label_of(model_field.model)}.{model_field.name}"


def subject_links() -> list[models.Field]:
    unclassified = [_link_name(f) for f in person_links() if _link_name(f) not in PERSON_LINKS]
    if unclassified:
        raise ImproperlyConfigured(
            f"Links to the user not classified in compliance.services.data_rights.PERSON_LINKS: {unclassified}"
        )
    return [f for f in person_links() if PERSON_LINKS[_link_name(f)] == SUBJECT]


def cascade_children(model: type[models.Model]) -> list[models.Field]:
    """ForeignKeys to `model` whose rows are deleted with it: their rows depend on it."""
    return [
        relation.remote_field
        for relation in model._meta.related_objects
        if relation.on_delete is models.CASCADE
        and not relation.related_model._meta.auto_created
        and relation.related_model._meta.concrete_fields  # a real model, not an abstract leftover
        and (relation.one_to_many or relation.one_to_one)
    ]


def personal_models() -> list[type[models.Model]]:
    """Every model that can hold a person's data: the user, the subject links' models, and their cascade
    children, transitively (static: from the models, not the rows)."""
    from accounts.models import User

    found: list[type[models.Model]] = [User]
    queue = [link.model for link in subject_links()]
    while queue:
        model = queue.pop(0)
        if model in found:
            continue
        found.append(model)
        queue.extend(child.model for child in cascade_children(model))
    return found


def personal_rows(user: User) -> dict[type[models.Model], models.QuerySet]:
    """The person's rows of each personal model (see the module doc), one queryset per model: rows linked to the
    user by a subject link, or depending through a CASCADE foreign key on a row that is the person's."""
    from accounts.models import User

    direct: dict[type[models.Model], Q] = defaultdict(lambda: Q(pk__in=[]))
    direct[User] = Q(pk=user.pk)
    for link in subject_links():
        direct[link.model] |= Q(**{link.name: user})
    direct[AuditEvent] |= Q(target_type=label_of(User), target_id=str(user.pk))
    parents: dict[type[models.Model], list[tuple[type[models.Model], str]]] = defaultdict(list)
    for model in personal_models():
        for child in cascade_children(model):
            if child.model is not model and model is not User:  # the user's own children are the subject links
                parents[child.model].append((model, child.name))
    querysets: dict[type[models.Model], models.QuerySet] = {}
    visiting: set[type[models.Model]] = set()

    def rows_of(model: type[models.Model]) -> models.QuerySet:
        if model in querysets:
            return querysets[model]
        if model in visiting:
            raise ImproperlyConfigured(f"Cascading foreign keys form a cycle through {label_of(model)}.")
        visiting.add(model)
        condition = direct[model]
        for parent, name in parents[model]:
            condition |= Q(**{f"{name}__in": rows_of(parent).values("pk")})
        querysets[model] = model._default_manager.filter(condition).order_by("pk")
        return querysets[model]

    for model in personal_models():
        rows_of(model)
    return querysets


def _audit_targets(rows: dict[type[models.Model], list[int]]) -> Q:
    condition = Q(pk__in=[])
    for model, pks in rows.items():
        if pks and model is not AuditEvent:
            condition |= Q(target_type=label_of(model), target_id__in=[str(pk) for pk in pks])
    return condition


# --- Export -----------------------------------------------------------------------------------------------------


def _row(obj: models.Model, omitted: frozenset[str]) -> dict[str, Any]:
    from django.contrib.postgres.search import SearchVectorField

    row: dict[str, Any] = {}
    for model_field in obj._meta.concrete_fields:
        if model_field.name in omitted or isinstance(model_field, SearchVectorField):
            continue
        value = model_field.value_from_object(obj)
        if isinstance(model_field, models.FileField):
            value = value.name if value else ""
        row[model_field.attname] = value
    return row


def personal_data_collect(user: User) -> dict[str, bytes]:
    """The export's files: name → content."""
    files: dict[str, bytes] = {}
    querysets = personal_rows(user)
    ids: dict[type[models.Model], list[int]] = {}
    for model, queryset in querysets.items():
        rows = list(queryset)
        ids[model] = [obj.pk for obj in rows]
        if model is AuditEvent:
            continue
        omitted = EXPORT_OMITTED_FIELDS.get(label_of(model), frozenset())
        if rows:
            files[f"{label_of(model)}.json"] = _json([_row(obj, omitted) for obj in rows])
    audit_omitted = EXPORT_OMITTED_FIELDS[label_of(AuditEvent)]
    events = AuditEvent.objects.filter(Q(actor=user) | _audit_targets(ids)).order_by("id")
    files[f"{label_of(AuditEvent)}.json"] = _json([_row(event, audit_omitted) for event in events])
    files["actions.json"] = _json(_actions(user))
    for document in ComplianceDocument.objects.filter(user=user).order_by("pk"):
        stored = document.file.name or ""
        if stored and private_storage.exists(stored):
            with private_storage.open(stored, "rb") as handle:
                files[f"files/compliance-documents/{document.pk}-{PurePath(stored).name}"] = handle.read()
    files["README.txt"] = _readme(user, sorted(files)).encode()
    return files


def _actions(user: User) -> list[dict[str, Any]]:
    actions = []
    for link in person_links():
        if PERSON_LINKS.get(_link_name(link)) != ACTOR:
            continue
        for pk in link.model._default_manager.filter(**{link.name: user}).order_by("pk").values_list("pk", flat=True):
            actions.append({"model": label_of(link.model), "id": pk, "as": link.name})
    return actions


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _readme(user: User, names: list[str]) -> str:
    return (
        f"Your personal data at Tandem, exported {timezone.now():%Y-%m-%d %H:%M} UTC for account {user.pk}.\n\n"
        "One JSON file per kind of record (app.model.json), each a list of rows with every field we keep; ids of\n"
        "other records are given as <field>_id. actions.json lists records of organisations in which you acted\n"
        "(for example gigs you posted for your company). files/ holds the documents you uploaded.\n"
        "Not included: your password (only a hash is stored), your full tax id (its last four digits are).\n\n"
        "Files:\n" + "".join(f"- {name}\n" for name in names)
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def data_export_request(*, user: User) -> DataExportRequest:
    """Ask for a copy of one's data; the zip is built in the background and its link emailed."""
    from accounts.models import User as UserModel

    UserModel.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per person
    stale = DataExportRequest.objects.filter(
        user=user, status=DataExportRequest.Status.PENDING, created_at__lt=timezone.now() - STALE_EXPORT_AFTER
    )
    stale.update(status=DataExportRequest.Status.FAILED, finished_at=timezone.now())
    if DataExportRequest.objects.filter(user=user, status=DataExportRequest.Status.PENDING).exists():
        raise ApplicationError(
            "Your export is being prepared; we will email you the link in a few minutes.",
            code="export_pending",
            status=409,
        )
    request = DataExportRequest.objects.create(user=user)
    audit_record(actor=user, action="data_export.requested", target=request, to_state=request.status)
    from compliance.tasks_checks import data_export_build as build_task

    build_task.delay_on_commit(request_id=request.pk)  # type: ignore[attr-defined]
    return request


def data_export_build(*, request_id: int) -> DataExportRequest | None:
    """Build the zip, store it privately, email the link. Idempotent: only a pending request is built. The email
    is sent before the transaction commits, so a failure to send leaves the request pending for the retry (and the
    stored zip is deleted)."""
    from compliance.services.emails import data_export_ready_email_send

    with transaction.atomic():
        request = (
            DataExportRequest.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.status != DataExportRequest.Status.PENDING:
            return request
        user = request.user
        content = _zip(personal_data_collect(user))
        request.file.save(f"data-export-{user.pk}-{request.pk}.zip", ContentFile(content), save=False)
        try:
            token = secrets.token_urlsafe(32)
            now = timezone.now()
            previous = request.transition_to(DataExportRequest.Status.READY)
            request.download_token_hash = token_hash(token)
            request.finished_at, request.expires_at = now, now + timedelta(days=DATA_EXPORT_DAYS)
            request.save()
            data_export_ready_email_send(request_id=request.pk, user=user, token=token, expires_at=request.expires_at)
            audit_record(
                actor=None, action="data_export.ready", target=request, from_state=previous, to_state=request.status
            )
        except BaseException:
            private_storage.delete(request.file.name)
            raise
    return request


def data_export_for_download(*, token: str, user: User) -> DataExportRequest:
    """The owner's ready, unexpired export for this link; DoesNotExist (→ 404) for anyone else or anything else."""
    return DataExportRequest.objects.get(
        download_token_hash=token_hash(token),
        user_id=user.pk,
        status=DataExportRequest.Status.READY,
        expires_at__gt=timezone.now(),
    )


def data_exports_expire() -> int:
    """Daily: expired export zips are deleted (the download link stopped working when they expired)."""
    expired = 0
    due = DataExportRequest.objects.filter(status=DataExportRequest.Status.READY, expires_at__lte=timezone.now())
    for request_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            request = DataExportRequest.objects.select_for_update().filter(pk=request_id).first()
            if request is None or request.status != DataExportRequest.Status.READY:
                continue
            if request.file:
                private_storage.delete(request.file.name)
            previous = request.transition_to(DataExportRequest.Status.EXPIRED)
            request.file = ""  # type: ignore[assignment]
            request.save()
            audit_record(
                actor=None, action="data_export.expired", target=request, from_state=previous, to_state=request.status
            )
            expired += 1
    return expired


def data_rights_overview(*, user: User) -> dict[str, Any]:
    """What the data-rights page shows its owner."""
    return {
        "exports": list(DataExportRequest.objects.filter(user=user).order_by("-created_at")[:5]),
        "erasure": ErasureRequest.objects.filter(user=user).order_by("-requested_at").first(),
    }


# --- Erasure ----------------------------------------------------------------------------------------------------


@transaction.atomic
def erasure_request(*, user: User) -> ErasureRequest:
    """The person asks to be erased; ops review and confirm it (compliance.review_compliance)."""
    from accounts.models import User as UserModel

    UserModel.objects.select_for_update().filter(pk=user.pk).first()
    if ErasureRequest.objects.filter(user=user, status__in=ErasureRequest.OPEN_STATUSES).exists():
        raise ApplicationError(
            "You have already asked for erasure; our team is reviewing it (this page shows where it stands).",
            code="erasure_open",
            status=409,
        )
    request = ErasureRequest.objects.create(user=user)
    audit_record(actor=user, action="erasure.requested", target=request, to_state=request.status)
    return request


def erasure_open_business(*, user: User) -> str:
    """What ops should settle before confirming (live or disputed contracts, payouts not yet paid); "" if none."""
    from accounts.models import Membership
    from billing.models import Payout
    from engagements.models import Contract

    live = Contract.objects.filter(
        freelancer=user,
        status__in=[
            Contract.Status.PENDING_COMPLIANCE,
            Contract.Status.ACTIVE,
            Contract.Status.PAUSED,
            Contract.Status.DISPUTED,
        ],
    ).count()
    payouts = Payout.objects.filter(user=user, status__in=[Payout.Status.PENDING, Payout.Status.FAILED]).count()
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("organization_id")
    sole_owner = (
        Membership.objects.filter(organization_id__in=owned, role=Membership.Role.OWNER)
        .values("organization_id")
        .annotate(owners=Count("pk"))
        .filter(owners=1)
        .count()
    )
    parts = [
        f"{live} live or disputed contract(s)" if live else "",
        f"{payouts} unpaid payout(s)" if payouts else "",
        f"sole owner of {sole_owner} organisation(s), which erasure leaves without an owner" if sole_owner else "",
    ]
    return ", ".join(part for part in parts if part)


def _require_erasure_reviewer(user: User) -> None:
    if not (user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("Only compliance reviewers can confirm or decline erasure.")


def _erasure_for_update(request_id: int) -> ErasureRequest:
    request = ErasureRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise ErasureRequest.DoesNotExist
    return request


@transaction.atomic
def erasure_confirm(*, request_id: int, by: User, note: str = "") -> ErasureRequest:
    """Ops confirm: the erasure runs in the background (erasure_perform)."""
    _require_erasure_reviewer(by)
    request = _erasure_for_update(request_id)
    previous = request.transition_to(ErasureRequest.Status.CONFIRMED)
    request.confirmed_by, request.confirmed_at, request.decision_note = by, timezone.now(), note.strip()
    request.save()
    audit_record(actor=by, action="erasure.confirmed", target=request, from_state=previous, to_state=request.status)
    from compliance.tasks_checks import erasure_perform as perform_task

    perform_task.delay_on_commit(request_id=request.pk)  # type: ignore[attr-defined]
    return request


@transaction.atomic
def erasure_decline(*, request_id: int, by: User, note: str) -> ErasureRequest:
    """Ops decline (for example while a dispute or a legal claim is open); the reason is required."""
    _require_erasure_reviewer(by)
    if not note.strip():
        raise ApplicationError(
            "Say why the erasure is declined; the person sees it on their data page.", code="note_required"
        )
    request = _erasure_for_update(request_id)
    previous = request.transition_to(ErasureRequest.Status.DECLINED)
    request.confirmed_by, request.confirmed_at, request.decision_note = by, timezone.now(), note.strip()
    request.save()
    audit_record(actor=by, action="erasure.declined", target=request, from_state=previous, to_state=request.status)
    return request


def _empty_value(model_field: models.Field) -> Any:
    if isinstance(model_field, models.JSONField | ArrayField):
        return model_field.get_default() if model_field.has_default() else (None if model_field.null else [])
    return ""


@dataclass
class ErasureSummary:
    anonymised: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    files_deleted: int = 0
    audit_labels_erased: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "anonymised": self.anonymised,
            "deleted": self.deleted,
            "kept": self.kept,
            "files_deleted": self.files_deleted,
            "audit_labels_erased": self.audit_labels_erased,
        }


def _person_files(user: User) -> list[str]:
    names = list(ComplianceDocument.objects.filter(user=user).exclude(file="").values_list("file", flat=True))
    names += list(DataExportRequest.objects.filter(user=user).exclude(file="").values_list("file", flat=True))
    return names


def erasure_perform(*, request_id: int) -> ErasureRequest | None:
    """Erase a confirmed request's person (see the module doc). Idempotent: only a confirmed request is performed,
    and each step is safe to repeat. The files go first: if the database step then fails, the retry finds rows
    whose files are already gone and finishes; nothing is left that no row points to."""
    request = ErasureRequest.objects.select_related("user").filter(pk=request_id).first()
    if request is None or request.status != ErasureRequest.Status.CONFIRMED:
        return request
    files = _person_files(request.user)
    for name in files:
        private_storage.delete(name)
    with transaction.atomic():
        request = _erasure_for_update(request_id)
        if request.status != ErasureRequest.Status.CONFIRMED:
            return request
        summary = _erase(user=request.user, by=request.confirmed_by)
        summary.files_deleted = len(files)
        previous = request.transition_to(ErasureRequest.Status.DONE)
        request.done_at, request.summary = timezone.now(), summary.as_dict()
        request.save()
        audit_record(actor=None, action="erasure.done", target=request, from_state=previous, to_state=request.status)
    return request


def _erase(*, user: User, by: User | None) -> ErasureSummary:
    from accounts.models import User as UserModel

    UserModel.objects.select_for_update().get(pk=user.pk)  # nothing else changes the person meanwhile
    missing = [label_of(model) for model in personal_models() if label_of(model) not in POLICY]
    if missing:
        raise ImproperlyConfigured(f"No erasure POLICY for {missing} (compliance.services.data_rights).")
    summary = ErasureSummary()
    querysets = personal_rows(user)
    rows = {model: list(queryset.values_list("pk", flat=True)) for model, queryset in querysets.items()}
    _erase_admin_log_labels(rows)
    # Children before parents, so a parent's delete does not cascade into rows counted under another policy.
    for model in reversed(list(querysets)):
        pks = rows[model]
        if not pks:
            continue
        label = label_of(model)
        if model is UserModel:
            continue
        if model is ComplianceDocument:
            _erase_documents(pks, summary)
        elif model is ScreeningHit:
            hits = ScreeningHit.objects.filter(pk__in=pks)
            summary.kept[label] = hits.filter(status=ScreeningHit.Status.CONFIRMED).count()
            summary.deleted[label] = (
                hits.exclude(status=ScreeningHit.Status.CONFIRMED).delete()[1].get(model._meta.label, 0)
            )
        elif POLICY[label] == DELETE:
            summary.deleted[label] = model._default_manager.filter(pk__in=pks).delete()[1].get(model._meta.label, 0)
        elif POLICY[label] == ANONYMISE:
            summary.anonymised[label] = _anonymise(model, pks)
        else:
            summary.kept[label] = len(pks)
    _anonymise_user(user)
    summary.anonymised[label_of(UserModel)] = 1
    # Last, so that every row the erasure anonymised above has its labels erased in the trail too.
    targets = [(label_of(model), str(pk)) for model, pks in rows.items() if model is not AuditEvent for pk in pks]
    summary.audit_labels_erased = audit_erase_person(user_id=user.pk, by=by, targets=targets)
    return summary


def _anonymise(model: type[models.Model], pks: Iterable[int]) -> int:
    values = {f.name: _empty_value(f) for f in personal_fields(model)}
    values.update(ANONYMISED_VALUES.get(label_of(model), {}))
    if not values:
        return 0
    return model._default_manager.filter(pk__in=pks).update(**values)


def _anonymise_user(user: User) -> None:
    from accounts.models import User as UserModel

    values = {f.name: _empty_value(f) for f in personal_fields(UserModel)}
    person = UserModel.objects.get(pk=user.pk)
    for name, value in values.items():
        setattr(person, name, value)
    person.email = f"erased-{person.pk}@erased.invalid"
    person.timezone = "UTC"
    person.is_active = person.is_staff = person.is_superuser = False
    person.last_login = None
    person.set_unusable_password()
    person.save()
    person.groups.clear()
    person.user_permissions.clear()


def _erase_documents(pks: list[int], summary: ErasureSummary) -> None:
    """Files are already deleted. Tax forms keep their retained metadata; every other document goes."""
    label = label_of(ComplianceDocument)
    documents = ComplianceDocument.objects.filter(pk__in=pks)
    tax_forms = documents.filter(requirement__asks_tax_id=True)
    kept_fields = set(RETENTION[label][0])
    values = {f.name: _empty_value(f) for f in personal_fields(ComplianceDocument) if f.name not in kept_fields}
    summary.kept[label] = tax_forms.update(**values)
    summary.deleted[label] = (
        documents.filter(requirement__asks_tax_id=False).delete()[1].get(ComplianceDocument._meta.label, 0)
    )


def _erase_admin_log_labels(rows: dict[type[models.Model], list[int]]) -> None:
    """Django's admin log keeps each changed object's str() (often a name or an email): blank those of the
    person's rows. The log entries themselves stay (who in ops changed what, when)."""
    condition = Q(pk__in=[])
    for model, pks in rows.items():
        if pks:
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            condition |= Q(content_type=content_type, object_id__in=[str(pk) for pk in pks])
    LogEntry.objects.filter(condition).update(object_repr="erased", change_message="")
