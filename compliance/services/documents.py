"""Compliance documents: upload (checked by content, hashed, stored privately), review by ops (approve, reject with
a reason; one by one or in bulk), the owner's one appeal of a rejection, and the daily expiry.

Who owns a document: a freelancer (the user), or a vendor firm (the organisation), whose owners and admins act for
it. Who decides: staff with `compliance.review_compliance`; anyone else is refused with PermissionDenied (→ 403).

Files are judged by their first bytes only: the name and content type the browser sends are ignored (a renamed
HTML or SVG file is neither a PDF nor an image). They are stored in `private_storage` under a random name, outside
every public URL, and served only by compliance.views.document_file.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, Organization, User
from compliance.crypto import tax_id_encrypt
from compliance.gate import Party
from compliance.models import ComplianceDocument, Requirement, private_storage
from compliance.tax_ids import tax_id_validate
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record, audit_record_many

REVIEW_PERMISSION = "compliance.review_compliance"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_TEXT_LENGTH = 2000
EXPIRE_BATCH_SIZE = 500
# (first bytes, stored content type, stored extension): PDF, PNG, JPEG. Nothing else is accepted.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
SIGNATURE_LENGTH = max(len(signature) for signature, _, _ in SIGNATURES)

FILE_MISSING = "Choose the file to upload: a PDF, PNG or JPEG of up to 10 MB."
FILE_EMPTY = "This file is empty. Choose the PDF, PNG or JPEG of your document."
FILE_TOO_LARGE = "This file is larger than 10 MB. Upload a smaller scan or a compressed PDF."
FILE_WRONG_TYPE = (
    "Only PDF, PNG and JPEG files are accepted, and this file's content is none of them (its name doesn't count). "
    "Save or scan the document as a PDF, PNG or JPEG and upload that."
)
NOT_A_REVIEWER = "Only compliance reviewers can approve or reject documents."


# --- who may see and act --------------------------------------------------------------------------------------------
# Reads used by the services and the file view. They belong in compliance/selectors.py, which this module may not
# change yet; the lead can move them.
def user_is_reviewer(*, user: User | object) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and user.has_perm(REVIEW_PERMISSION)  # type: ignore[union-attr]
    )


def _managed_vendor_ids(user: User) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(
        user=user, role__in=Membership.MANAGER_ROLES, organization__kind=Organization.Kind.VENDOR
    ).values("organization_id")


def documents_owned_by(*, user: User) -> QuerySet[ComplianceDocument]:
    """The documents `user` owns: their own, and their vendor firms' where they are an owner or admin."""
    if not user.is_authenticated:
        return ComplianceDocument.objects.none()
    return ComplianceDocument.objects.filter(Q(user=user) | Q(organization__in=_managed_vendor_ids(user)))


def document_get_for_file(*, document_id: int, user: User | object) -> ComplianceDocument:
    """The document if `user` owns it or reviews documents; ComplianceDocument.DoesNotExist (→ 404) otherwise, also
    for anonymous users, so nobody learns which ids exist."""
    if user_is_reviewer(user=user):
        return ComplianceDocument.objects.get(pk=document_id)
    if not getattr(user, "is_authenticated", False):
        raise ComplianceDocument.DoesNotExist
    return documents_owned_by(user=user).get(pk=document_id)  # type: ignore[arg-type]


def party_of(document: ComplianceDocument) -> Party:
    return Party(user=document.user if document.organization_id is None else None, organization=document.organization)


def _require_reviewer(by: User) -> None:
    if not user_is_reviewer(user=by):
        raise PermissionDenied(NOT_A_REVIEWER)


# --- the lead's hook -------------------------------------------------------------------------------------------------
def on_compliance_changed(party: Party) -> None:
    """A requirement of `party` became met (a document approved, a screening hit cleared, an assessment signed
    off): contracts and SOWs waiting for compliance try to start, each in its own task after this commits."""
    from engagements.models import Contract, StatementOfWork
    from engagements.tasks import contract_activate_if_ready, sows_activate_due

    waiting = Contract.objects.filter(status=Contract.Status.PENDING_COMPLIANCE)
    if party.organization is not None:
        waiting = waiting.filter(vendor=party.organization)
    else:
        waiting = waiting.filter(freelancer=party.user)
    for contract_id in waiting.values_list("pk", flat=True):
        contract_activate_if_ready.delay_on_commit(contract_id=contract_id)  # type: ignore[attr-defined]
    if (
        party.organization is not None
        and StatementOfWork.objects.filter(vendor=party.organization, status=StatementOfWork.Status.SIGNED).exists()
    ):
        sows_activate_due.delay_on_commit()  # type: ignore[attr-defined]


# --- upload ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    size: int
    sha256: str


def document_file_check(file: File | None) -> CheckedFile:
    """Size, SHA-256 and type of an uploaded file, read in chunks; ApplicationError (field `file`) if it is
    missing, empty, over 10 MB, or not a PDF, PNG or JPEG by its first bytes."""

    def refuse(message: str) -> ApplicationError:
        return ApplicationError(message, field_errors={"file": [message]})

    if file is None:
        raise refuse(FILE_MISSING)
    digest = hashlib.sha256()
    head = b""
    size = 0
    for chunk in file.chunks():
        if len(head) < SIGNATURE_LENGTH:
            head += chunk[: SIGNATURE_LENGTH - len(head)]
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise refuse(FILE_TOO_LARGE)
        digest.update(chunk)
    if size == 0:
        raise refuse(FILE_EMPTY)
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            return CheckedFile(content_type, extension, size, digest.hexdigest())
    raise refuse(FILE_WRONG_TYPE)


def _display_name(name: str | None, extension: str) -> str:
    """The uploader's file name, for display only: no path, no control characters, at most 200 characters."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (base or f"document{extension}")[:200]


def _upload_party(*, by: User, organization_id: int | None) -> Party:
    if organization_id is None:
        from accounts.selectors import user_is_freelancer

        if not user_is_freelancer(user=by):
            raise ApplicationError(
                "Compliance documents are uploaded by freelancers, and by a vendor firm's owners and admins for "
                "the firm. Create your freelancer profile first.",
                status=403,
            )
        return Party(user=by)
    membership = (
        Membership.objects.select_related("organization").filter(user=by, organization_id=organization_id).first()
    )
    if membership is None:
        raise Organization.DoesNotExist
    if membership.organization.kind != Organization.Kind.VENDOR or not membership.can_manage:
        raise ApplicationError(
            "Only a vendor firm's owners and admins can upload its compliance documents. Ask one of them.",
            status=403,
        )
    return Party(organization=membership.organization)


def _lock_party(party: Party) -> None:
    """Serialises uploads of one party, so two requests cannot both add a document waiting for review."""
    if party.organization is not None:
        Organization.objects.select_for_update().filter(pk=party.organization.pk).first()
    else:
        User.objects.select_for_update().filter(pk=party.user.pk).first()  # type: ignore[union-attr]


def document_upload(
    *,
    requirement_id: int,
    file: File | None,
    by: User,
    organization_id: int | None = None,
    tax_id: str = "",
) -> ComplianceDocument:
    """A new document for `requirement`, owned by `by` (a freelancer) or by the vendor firm `organization_id` (`by`
    is its owner or admin). Refused, with nothing stored, when the file or the tax id is not acceptable or a
    document of the requirement is already waiting for review."""
    party = _upload_party(by=by, organization_id=organization_id)
    requirement = Requirement.objects.get(pk=requirement_id, is_active=True, evidence=Requirement.Evidence.DOCUMENT)
    if requirement.party not in (Requirement.Party.ANY, party.kind):
        who = "vendor firms" if requirement.party == Requirement.Party.VENDOR else "freelancers"
        raise ApplicationError(f"{requirement.name} is for {who}; there is nothing to upload for it here.")

    field_errors: dict[str, list[str]] = {}
    checked = None
    try:
        checked = document_file_check(file)
    except ApplicationError as error:
        field_errors.update(error.field_errors)
    tax = None
    if requirement.asks_tax_id:
        try:
            tax = tax_id_validate(requirement_code=requirement.code, value=tax_id)
        except ApplicationError as error:
            field_errors.update(error.field_errors)
    if field_errors or checked is None or file is None:
        first = next(iter(field_errors.values()))[0]
        raise ApplicationError(first, field_errors=field_errors)

    stored_name = ""
    try:
        with transaction.atomic():
            _lock_party(party)
            if party.documents().filter(requirement=requirement, status=ComplianceDocument.Status.SUBMITTED).exists():
                raise ApplicationError(
                    f"Your {requirement.name} is already waiting for review. You can upload another once our "
                    "compliance team has reviewed it.",
                    code="document_pending",
                    status=409,
                )
            document = ComplianceDocument(
                requirement=requirement,
                user=party.user,
                organization=party.organization,
                uploaded_by=by,
                original_name=_display_name(file.name, checked.extension),
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                tax_id_encrypted=tax_id_encrypt(tax.value) if tax else "",
                tax_id_last4=tax.last4 if tax else "",
                status=ComplianceDocument.Status.SUBMITTED,
            )
            document.file.save(f"{secrets.token_hex(16)}{checked.extension}", file, save=False)
            stored_name = document.file.name or ""
            document.save()
            audit_record(
                actor=by,
                action="compliance_document.submitted",
                target=document,
                organization=party.organization,
                to_state=document.status,
                data={
                    "requirement": requirement.code,
                    "content_type": checked.content_type,
                    "size": checked.size,
                    "sha256": checked.sha256,
                    "tax_id_given": tax is not None,
                },
            )
    except BaseException:
        if stored_name:  # the row was not committed: neither is the file
            private_storage.delete(stored_name)
        raise
    return document


# --- review ----------------------------------------------------------------------------------------------------------
def _document_for_update(document_id: int) -> ComplianceDocument:
    return (
        ComplianceDocument.objects.select_for_update(of=("self",))
        .select_related("requirement", "user", "organization")
        .get(pk=document_id)
    )


@transaction.atomic
def document_approve(*, document_id: int, by: User) -> ComplianceDocument:
    """Ops approve a document waiting for review; it expires after the requirement's validity (if any)."""
    _require_reviewer(by)
    document = _document_for_update(document_id)
    previous = document.transition_to(ComplianceDocument.Status.APPROVED)
    now = timezone.now()
    validity = document.requirement.validity_days
    document.reviewed_by = by
    document.reviewed_at = now
    document.expires_at = now + timedelta(days=validity) if validity else None
    document.save(update_fields=["status", "reviewed_by", "reviewed_at", "expires_at", "updated_at"])
    audit_record(
        actor=by,
        action="compliance_document.approved",
        target=document,
        organization=document.organization,
        from_state=previous,
        to_state=document.status,
        data={"expires_at": document.expires_at.isoformat() if document.expires_at else None},
    )
    on_compliance_changed(party_of(document))
    _email_decision(document)
    return document


def _rejection_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = "Write the reason for the rejection: the owner sees it and needs it to fix the document."
        raise ApplicationError(message, field_errors={"reason": [message]})
    if len(reason) > MAX_TEXT_LENGTH:
        message = f"Keep the reason under {MAX_TEXT_LENGTH} characters."
        raise ApplicationError(message, field_errors={"reason": [message]})
    return reason


@transaction.atomic
def document_reject(*, document_id: int, by: User, reason: str) -> ComplianceDocument:
    """Ops reject a document waiting for review, with the reason its owner sees."""
    _require_reviewer(by)
    reason = _rejection_reason(reason)
    document = _document_for_update(document_id)
    previous = document.transition_to(ComplianceDocument.Status.REJECTED)
    document.rejection_reason = reason
    document.reviewed_by = by
    document.reviewed_at = timezone.now()
    document.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(
        actor=by,
        action="compliance_document.rejected",
        target=document,
        organization=document.organization,
        from_state=previous,
        to_state=document.status,
        data={"reason": reason},
    )
    _email_decision(document)
    return document


def _email_decision(document: ComplianceDocument) -> None:
    from compliance.tasks_checks import document_decided_email_send

    document_decided_email_send.delay_on_commit(document_id=document.pk)  # type: ignore[attr-defined]


@dataclass
class BulkResult:
    done: list[ComplianceDocument] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # document id → why


def _bulk(document_ids: Iterable[int], decide: Callable[[int], ComplianceDocument]) -> BulkResult:
    result = BulkResult()
    for document_id in sorted(set(document_ids)):
        try:
            result.done.append(decide(document_id))
        except (ApplicationError, ComplianceDocument.DoesNotExist) as error:
            result.refused[document_id] = getattr(error, "message", "") or "This document no longer exists."
    return result


def documents_approve_bulk(*, document_ids: Iterable[int], by: User) -> BulkResult:
    """Approve each document on its own (one refusal does not undo the others)."""
    _require_reviewer(by)
    return _bulk(document_ids, lambda document_id: document_approve(document_id=document_id, by=by))


def documents_reject_bulk(*, document_ids: Iterable[int], by: User, reason: str) -> BulkResult:
    """Reject each document on its own, all with the same reason."""
    _require_reviewer(by)
    reason = _rejection_reason(reason)  # a missing reason refuses the whole batch up front
    return _bulk(document_ids, lambda document_id: document_reject(document_id=document_id, by=by, reason=reason))


# --- appeal ----------------------------------------------------------------------------------------------------------
@transaction.atomic
def document_appeal(*, document_id: int, by: User, comment: str) -> ComplianceDocument:
    """The owner contests a rejection, once, with a comment: the document goes back to review."""
    document = (
        documents_owned_by(user=by)
        .select_for_update(of=("self",))
        .select_related("requirement", "organization", "user")
        .get(pk=document_id)
    )
    comment = (comment or "").strip()
    if document.status != ComplianceDocument.Status.REJECTED:
        raise ApplicationError("Only a rejected document can be appealed.", code="not_rejected", status=409)
    if document.appealed_at is not None:
        raise ApplicationError(
            "You have already appealed this rejection once. Upload a corrected document instead.",
            code="already_appealed",
            status=409,
        )
    newer = party_of(document).documents().filter(requirement=document.requirement, created_at__gt=document.created_at)
    if newer.exists():
        raise ApplicationError(
            "You have uploaded a newer document for this requirement since; this rejection can no longer be appealed.",
            code="superseded",
            status=409,
        )
    if not comment:
        message = "Tell our compliance team why the document should be accepted."
        raise ApplicationError(message, field_errors={"comment": [message]})
    if len(comment) > MAX_TEXT_LENGTH:
        message = f"Keep the comment under {MAX_TEXT_LENGTH} characters."
        raise ApplicationError(message, field_errors={"comment": [message]})
    previous = document.transition_to(ComplianceDocument.Status.SUBMITTED)
    document.appeal_comment = comment
    document.appealed_at = timezone.now()
    document.save(update_fields=["status", "appeal_comment", "appealed_at", "updated_at"])
    audit_record(
        actor=by,
        action="compliance_document.appealed",
        target=document,
        organization=document.organization,
        from_state=previous,
        to_state=document.status,
    )
    return document


# --- expiry ----------------------------------------------------------------------------------------------------------
def documents_expire(*, now: datetime | None = None) -> int:
    """Daily: approved documents past their expiry become expired, in batches, each change audited. Idempotent
    (a second run finds nothing); rows another transaction holds are left for the next run."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                ComplianceDocument.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("requirement", "user", "organization")
                .filter(status=ComplianceDocument.Status.APPROVED, expires_at__lte=now)
                .order_by("expires_at", "pk")[:EXPIRE_BATCH_SIZE]
            )
            if not batch:
                return expired
            events = []
            for document in batch:
                previous = document.transition_to(ComplianceDocument.Status.EXPIRED)
                document.updated_at = now
                events.append(
                    AuditEvent(
                        actor=None,
                        actor_label="system",
                        organization=document.organization,
                        action="compliance_document.expired",
                        target_type=document._meta.label_lower,
                        target_id=str(document.pk),
                        target_label=str(document)[:255],
                        from_state=previous,
                        to_state=document.status,
                        data={"expires_at": document.expires_at.isoformat() if document.expires_at else None},
                    )
                )
            ComplianceDocument.objects.bulk_update(batch, ["status", "updated_at"])
            audit_record_many(events=events)
            expired += len(batch)
        if len(batch) < EXPIRE_BATCH_SIZE:
            return expired


# --- encryption keys --------------------------------------------------------------------------------------------------
@dataclass
class RotationResult:
    checked: int = 0
    rotated: int = 0
    unreadable: list[int] = field(default_factory=list)  # document ids no configured key opens


def tax_ids_rotate(*, batch_size: int = 500) -> RotationResult:
    """Re-encrypt every stored tax id that is not under the current key (after a new key was put first in
    COMPLIANCE_ENCRYPTION_KEYS), one locked batch per transaction. Idempotent: a second run rotates nothing."""
    from compliance.crypto import InvalidToken, tax_id_is_current, tax_id_rotate

    result = RotationResult()
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                ComplianceDocument.objects.select_for_update()
                .exclude(tax_id_encrypted="")
                .filter(pk__gt=last_id)
                .order_by("pk")
                .only("pk", "tax_id_encrypted")[:batch_size]
            )
            if not batch:
                break
            changed = []
            for document in batch:
                result.checked += 1
                if tax_id_is_current(document.tax_id_encrypted):
                    continue
                try:
                    document.tax_id_encrypted = tax_id_rotate(document.tax_id_encrypted)
                except InvalidToken:
                    result.unreadable.append(document.pk)
                    continue
                changed.append(document)
            ComplianceDocument.objects.bulk_update(changed, ["tax_id_encrypted"])
            result.rotated += len(changed)
            last_id = batch[-1].pk
    if result.rotated or result.unreadable:
        with transaction.atomic():
            audit_record(
                actor=None,
                action="compliance.tax_ids_rotated",
                data={"checked": result.checked, "rotated": result.rotated, "unreadable": result.unreadable[:100]},
            )
    return result
