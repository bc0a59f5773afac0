"""Compliance document services: upload checked by content (nothing stored on refusal), review by reviewers only,
one appeal, and the daily expiry."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Membership, Organization
from compliance import tasks
from compliance.crypto import tax_id_decrypt
from compliance.gate import Party, checklist_for
from compliance.models import ComplianceDocument
from compliance.services import documents as services
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.compliance.document_helpers import (
    HTML,
    JPEG,
    PDF,
    PNG,
    SVG,
    client_member,
    freelancer,
    private_root,  # noqa: F401  (fixture)
    requirement,
    reviewer,
    staff_without_review,
    stored_files,
    upload,
    upload_file,
    vendor_member,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

WRONG_TYPE = (
    "Only PDF, PNG and JPEG files are accepted, and this file's content is none of them (its name doesn't count). "
    "Save or scan the document as a PDF, PNG or JPEG and upload that."
)
TOO_LARGE = "This file is larger than 10 MB. Upload a smaller scan or a compressed PDF."
EMPTY = "This file is empty. Choose the PDF, PNG or JPEG of your document."
TEN_MB = 10 * 1024 * 1024


def _nothing_stored(events_before: int) -> None:
    assert ComplianceDocument.objects.count() == 0
    assert stored_files() == []
    assert AuditEvent.objects.count() == events_before


# --- upload: accepted ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "declared_name", "declared_type", "stored_type", "extension"),
    [
        (PDF, "passport.pdf", "application/pdf", "application/pdf", ".pdf"),
        (PNG, "passport.png", "image/png", "image/png", ".png"),
        (JPEG, "passport.jpeg", "image/jpeg", "image/jpeg", ".jpg"),
        # The declared name and type are ignored both ways: a PNG called .pdf is stored as the PNG it is.
        (PNG, "passport.pdf", "application/pdf", "image/png", ".png"),
        (PDF, "passport", "text/html", "application/pdf", ".pdf"),
    ],
)
def test_upload_stores_the_file_privately_by_its_content_with_its_hash(
    content, declared_name, declared_type, stored_type, extension
) -> None:
    user = freelancer()

    document = services.document_upload(
        requirement_id=requirement("identity").pk,
        file=upload_file(content, declared_name, declared_type),
        by=user,
    )

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.SUBMITTED
    assert (document.user, document.organization, document.uploaded_by) == (user, None, user)
    assert document.content_type == stored_type
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_name == declared_name
    [path] = stored_files()
    assert path.read_bytes() == content
    assert path.suffix == extension
    assert path.name != declared_name and len(path.stem) == 32  # a random name, not the uploader's
    assert document.file.name.startswith("compliance/")
    event = AuditEvent.objects.get(action="compliance_document.submitted")
    assert (event.actor, event.target_id, event.to_state) == (user, str(document.pk), "submitted")
    assert event.data["sha256"] == document.sha256


def test_a_file_of_exactly_10_mb_is_accepted() -> None:
    content = PDF + b"0" * (TEN_MB - len(PDF))

    document = upload(by=freelancer(), content=content)

    assert document.size == TEN_MB


def test_the_uploaders_path_and_control_characters_are_dropped_from_the_display_name() -> None:
    document = upload(by=freelancer(), name="C:\\Users\\me\\pass\x00port\n.pdf")

    assert document.original_name == "passport.pdf"


# --- upload: refused, nothing stored -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        (HTML, "passport.pdf", "application/pdf", WRONG_TYPE),  # renamed HTML
        (SVG, "passport.png", "image/png", WRONG_TYPE),  # renamed SVG
        (b"GIF89a" + b"\x00" * 20, "passport.jpg", "image/jpeg", WRONG_TYPE),
        (b" %PDF-1.7 not at the start", "passport.pdf", "application/pdf", WRONG_TYPE),
        (PDF + b"0" * (TEN_MB + 1 - len(PDF)), "passport.pdf", "application/pdf", TOO_LARGE),  # oversized
        (b"", "passport.pdf", "application/pdf", EMPTY),  # empty
    ],
    ids=["renamed-html", "renamed-svg", "gif", "pdf-not-at-start", "oversized", "empty"],
)
def test_upload_refuses_with_a_message_and_stores_nothing(content, name, content_type, message) -> None:
    user = freelancer()
    events_before = AuditEvent.objects.count()

    with pytest.raises(ApplicationError) as refusal:
        services.document_upload(
            requirement_id=requirement("identity").pk, file=upload_file(content, name, content_type), by=user
        )

    assert refusal.value.message == message
    assert refusal.value.field_errors == {"file": [message]}
    _nothing_stored(events_before)


def test_upload_without_a_file_asks_for_one() -> None:
    with pytest.raises(ApplicationError) as refusal:
        services.document_upload(requirement_id=requirement("identity").pk, file=None, by=freelancer())

    assert refusal.value.message == "Choose the file to upload: a PDF, PNG or JPEG of up to 10 MB."
    _nothing_stored(0)


def test_a_failure_after_the_file_was_written_removes_the_file(monkeypatch) -> None:
    def broken_audit(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services, "audit_record", broken_audit)

    with pytest.raises(RuntimeError):
        upload(by=freelancer())

    _nothing_stored(0)


def test_a_second_upload_while_one_waits_for_review_is_refused() -> None:
    user = freelancer()
    first = upload(by=user)

    with pytest.raises(ApplicationError) as refusal:
        upload(by=user, content=PNG, name="again.png")

    assert refusal.value.status == 409
    assert refusal.value.message == (
        "Your Identity verification is already waiting for review. You can upload another once our compliance "
        "team has reviewed it."
    )
    assert list(ComplianceDocument.objects.all()) == [first]
    assert len(stored_files()) == 1


# --- upload: tax ids -------------------------------------------------------------------------------------------------
def test_a_w8ben_upload_stores_the_tax_id_encrypted_with_its_last_4() -> None:
    user = freelancer()

    document = upload(by=user, code="tax-form-w8ben", tax_id=" ab 12-34 5678 ")

    document.refresh_from_db()
    assert document.tax_id_last4 == "5678"
    assert "AB12345678" not in document.tax_id_encrypted
    assert tax_id_decrypt(document.tax_id_encrypted) == "AB12345678"
    event = AuditEvent.objects.get(action="compliance_document.submitted")
    assert "AB12345678" not in str(event.data) and "5678" not in str(event.data)


def test_a_w9_upload_takes_an_ssn() -> None:
    document = upload(by=freelancer(country="US"), code="tax-form-w9", tax_id="123-45-6789")

    assert (tax_id_decrypt(document.tax_id_encrypted), document.tax_id_last4) == ("123-45-6789", "6789")


@pytest.mark.parametrize(
    ("tax_id", "message"),
    [
        (
            "",
            "This form needs your taxpayer identification number. Enter the taxpayer identification number of your "
            "country of residence: 5 to 20 letters and digits (spaces and dashes are ignored).",
        ),
        (
            "AB1",
            "Enter the taxpayer identification number of your country of residence: 5 to 20 letters and digits "
            "(spaces and dashes are ignored).",
        ),
    ],
)
def test_a_w8ben_upload_without_a_valid_tax_id_is_refused_and_nothing_stored(tax_id, message) -> None:
    with pytest.raises(ApplicationError) as refusal:
        upload(by=freelancer(), code="tax-form-w8ben", tax_id=tax_id)

    assert refusal.value.field_errors == {"tax_id": [message]}
    _nothing_stored(0)


def test_a_bad_file_and_a_bad_tax_id_are_both_reported() -> None:
    with pytest.raises(ApplicationError) as refusal:
        upload(by=freelancer(), code="tax-form-w8ben", content=HTML, tax_id="x")

    assert set(refusal.value.field_errors) == {"file", "tax_id"}
    assert refusal.value.field_errors["file"] == [WRONG_TYPE]


def test_a_tax_id_is_ignored_for_a_requirement_that_does_not_ask_for_one() -> None:
    document = upload(by=freelancer(), code="identity", tax_id="AB12345678")

    assert (document.tax_id_encrypted, document.tax_id_last4) == ("", "")


# --- upload: who -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_a_vendor_firms_owner_or_admin_uploads_for_the_firm(role) -> None:
    membership = vendor_member(role=role)

    document = upload(by=membership.user, code="insurance", organization_id=membership.organization_id)

    assert (document.organization, document.user, document.uploaded_by) == (
        membership.organization,
        None,
        membership.user,
    )
    assert AuditEvent.objects.get(action="compliance_document.submitted").organization == membership.organization


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.FINANCE])
def test_other_vendor_members_cannot_upload_for_the_firm(role) -> None:
    membership = vendor_member(role=role)

    with pytest.raises(ApplicationError) as refusal:
        upload(by=membership.user, code="insurance", organization_id=membership.organization_id)

    assert refusal.value.status == 403
    assert refusal.value.message == (
        "Only a vendor firm's owners and admins can upload its compliance documents. Ask one of them."
    )
    _nothing_stored(0)


def test_nobody_uploads_for_a_firm_they_do_not_belong_to_or_for_a_client() -> None:
    outsider = freelancer()
    firm = vendor_member()
    client = client_member()

    with pytest.raises(Organization.DoesNotExist):
        upload(by=outsider, code="insurance", organization_id=firm.organization_id)
    with pytest.raises(ApplicationError) as refusal:
        upload(by=client.user, code="nda", organization_id=client.organization_id)

    assert refusal.value.status == 403
    _nothing_stored(0)


def test_a_user_without_a_freelancer_profile_cannot_upload_for_themselves() -> None:
    with pytest.raises(ApplicationError) as refusal:
        upload(by=UserFactory())

    assert refusal.value.status == 403
    _nothing_stored(0)


def test_a_requirement_of_the_other_kind_of_party_is_refused() -> None:
    with pytest.raises(ApplicationError) as refusal:
        upload(by=freelancer(), code="insurance")

    assert refusal.value.message == (
        "Professional liability insurance is for vendor firms; there is nothing to upload for it here."
    )
    _nothing_stored(0)


# --- review --------------------------------------------------------------------------------------------------------
def test_a_reviewer_approves_and_the_approval_expires_after_the_requirements_validity(monkeypatch) -> None:
    user = freelancer()
    document = upload(by=user, code="tax-form-w8ben", tax_id="AB12345678")
    ops = reviewer()
    changed: list[Party] = []
    monkeypatch.setattr(services, "on_compliance_changed", changed.append)

    services.document_approve(document_id=document.pk, by=ops)

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.APPROVED
    assert document.reviewed_by == ops
    assert document.expires_at == document.reviewed_at + timedelta(days=1095)
    event = AuditEvent.objects.get(action="compliance_document.approved")
    assert (event.actor, event.from_state, event.to_state) == (ops, "submitted", "approved")
    assert changed == [Party(user=user)]
    [state] = [s for s in checklist_for(party=Party(user=user)) if s.requirement.code == "tax-form-w8ben"]
    assert state.is_met


def test_an_approval_of_a_requirement_without_validity_never_expires() -> None:
    document = upload(by=freelancer())

    services.document_approve(document_id=document.pk, by=UserFactory(is_staff=True, is_superuser=True))

    document.refresh_from_db()
    assert (document.status, document.expires_at) == (ComplianceDocument.Status.APPROVED, None)


@pytest.mark.parametrize(
    "make_user",
    [staff_without_review, lambda: UserFactory(), lambda: UserFactory(is_staff=True)],
    ids=["staff-with-view-only", "not-staff", "staff"],
)
def test_only_reviewers_decide_and_nothing_changes_for_others(make_user) -> None:
    document = upload(by=freelancer())
    events_before = AuditEvent.objects.count()
    someone = make_user()

    with pytest.raises(PermissionDenied):
        services.document_approve(document_id=document.pk, by=someone)
    with pytest.raises(PermissionDenied):
        services.document_reject(document_id=document.pk, by=someone, reason="Blurred.")
    with pytest.raises(PermissionDenied):
        services.documents_approve_bulk(document_ids=[document.pk], by=someone)

    document.refresh_from_db()
    assert (document.status, document.reviewed_by) == (ComplianceDocument.Status.SUBMITTED, None)
    assert AuditEvent.objects.count() == events_before


def test_a_reviewer_rejects_with_the_reason_the_owner_sees() -> None:
    document = upload(by=freelancer())
    ops = reviewer()

    services.document_reject(document_id=document.pk, by=ops, reason="  The photo page is cut off.  ")

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.REJECTED
    assert document.rejection_reason == "The photo page is cut off."
    event = AuditEvent.objects.get(action="compliance_document.rejected")
    assert (event.from_state, event.to_state, event.data) == (
        "submitted",
        "rejected",
        {"reason": "The photo page is cut off."},
    )


def test_a_rejection_needs_a_reason() -> None:
    document = upload(by=freelancer())

    with pytest.raises(ApplicationError) as refusal:
        services.document_reject(document_id=document.pk, by=reviewer(), reason="   ")

    assert refusal.value.field_errors == {
        "reason": ["Write the reason for the rejection: the owner sees it and needs it to fix the document."]
    }
    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.SUBMITTED


def test_a_decided_document_cannot_be_decided_again() -> None:
    document = upload(by=freelancer())
    ops = reviewer()
    services.document_approve(document_id=document.pk, by=ops)

    with pytest.raises(ApplicationError) as refusal:
        services.document_reject(document_id=document.pk, by=ops, reason="Changed my mind.")

    assert refusal.value.status == 409
    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.APPROVED


def test_bulk_approval_decides_each_document_and_reports_the_refused() -> None:
    documents = [upload(by=freelancer()) for _ in range(3)]
    ops = reviewer()
    services.document_approve(document_id=documents[0].pk, by=ops)

    result = services.documents_approve_bulk(document_ids=[d.pk for d in documents], by=ops)

    assert [d.pk for d in result.done] == [documents[1].pk, documents[2].pk]
    assert result.refused == {
        documents[0].pk: "This compliance document is Approved; it cannot become Approved.",
    }
    assert set(ComplianceDocument.objects.values_list("status", flat=True)) == {"approved"}


def test_bulk_rejection_gives_every_document_the_reason_or_refuses_the_whole_batch() -> None:
    documents = [upload(by=freelancer()) for _ in range(2)]
    ops = reviewer()

    with pytest.raises(ApplicationError):
        services.documents_reject_bulk(document_ids=[d.pk for d in documents], by=ops, reason="")
    assert set(ComplianceDocument.objects.values_list("status", flat=True)) == {"submitted"}

    result = services.documents_reject_bulk(document_ids=[d.pk for d in documents], by=ops, reason="Expired ID.")

    assert len(result.done) == 2 and result.refused == {}
    assert list(ComplianceDocument.objects.order_by().values_list("status", "rejection_reason").distinct()) == [
        ("rejected", "Expired ID.")
    ]


# --- appeal --------------------------------------------------------------------------------------------------------
def _rejected(by, **kwargs):
    document = upload(by=by, **kwargs)
    return services.document_reject(document_id=document.pk, by=reviewer(), reason="Blurred.")


def test_the_owner_appeals_a_rejection_once() -> None:
    user = freelancer()
    document = _rejected(user)

    services.document_appeal(document_id=document.pk, by=user, comment="The scan is the original; please zoom in.")

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.SUBMITTED
    assert document.appeal_comment == "The scan is the original; please zoom in."
    assert document.appealed_at is not None
    event = AuditEvent.objects.get(action="compliance_document.appealed")
    assert (event.actor, event.from_state, event.to_state) == (user, "rejected", "submitted")

    services.document_reject(document_id=document.pk, by=reviewer(), reason="Still blurred.")
    with pytest.raises(ApplicationError) as refusal:
        services.document_appeal(document_id=document.pk, by=user, comment="Please look again.")

    assert refusal.value.status == 409
    assert (
        refusal.value.message == "You have already appealed this rejection once. Upload a corrected document instead."
    )
    document.refresh_from_db()
    assert (document.status, document.appeal_comment) == (
        ComplianceDocument.Status.REJECTED,
        "The scan is the original; please zoom in.",
    )


def test_an_appeal_needs_a_comment() -> None:
    user = freelancer()
    document = _rejected(user)

    with pytest.raises(ApplicationError) as refusal:
        services.document_appeal(document_id=document.pk, by=user, comment=" ")

    assert refusal.value.field_errors == {"comment": ["Tell our compliance team why the document should be accepted."]}
    document.refresh_from_db()
    assert (document.status, document.appealed_at) == (ComplianceDocument.Status.REJECTED, None)


def test_only_a_rejected_document_can_be_appealed() -> None:
    user = freelancer()
    document = upload(by=user)

    with pytest.raises(ApplicationError) as refusal:
        services.document_appeal(document_id=document.pk, by=user, comment="Why?")

    assert refusal.value.message == "Only a rejected document can be appealed."


def test_a_rejection_superseded_by_a_newer_upload_cannot_be_appealed() -> None:
    user = freelancer()
    document = _rejected(user)
    upload(by=user, content=PNG)

    with pytest.raises(ApplicationError) as refusal:
        services.document_appeal(document_id=document.pk, by=user, comment="Look again.")

    assert refusal.value.code == "superseded"


def test_nobody_else_can_appeal() -> None:
    document = _rejected(freelancer())
    member = vendor_member(role=Membership.Role.MEMBER)

    for someone in (freelancer(), member.user, reviewer()):
        with pytest.raises(ComplianceDocument.DoesNotExist):
            services.document_appeal(document_id=document.pk, by=someone, comment="Let me in.")

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.REJECTED


def test_a_vendor_admin_appeals_for_the_firm_but_a_member_cannot() -> None:
    admin = vendor_member(role=Membership.Role.ADMIN)
    member = MembershipFactory(role=Membership.Role.MEMBER, organization=admin.organization)
    document = _rejected(admin.user, code="insurance", organization_id=admin.organization_id)

    with pytest.raises(ComplianceDocument.DoesNotExist):
        services.document_appeal(document_id=document.pk, by=member.user, comment="Please.")
    services.document_appeal(document_id=document.pk, by=admin.user, comment="The certificate is current.")

    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.SUBMITTED


# --- expiry --------------------------------------------------------------------------------------------------------
def _approved(expires_in: timedelta | None):
    document = upload(by=freelancer())
    services.document_approve(document_id=document.pk, by=reviewer())
    if expires_in is not None:
        ComplianceDocument.objects.filter(pk=document.pk).update(expires_at=timezone.now() + expires_in)
    return document


def test_expiry_expires_approved_documents_past_their_date_once() -> None:
    past = _approved(timedelta(minutes=-1))
    future = _approved(timedelta(days=1))
    forever = _approved(None)

    first = services.documents_expire()
    second = services.documents_expire()

    assert (first, second) == (1, 0)
    statuses = dict(ComplianceDocument.objects.values_list("pk", "status"))
    assert statuses == {past.pk: "expired", future.pk: "approved", forever.pk: "approved"}
    event = AuditEvent.objects.get(action="compliance_document.expired")
    assert (event.actor, event.actor_label, event.target_id, event.from_state, event.to_state) == (
        None,
        "system",
        str(past.pk),
        "approved",
        "expired",
    )


def test_expiry_works_in_batches(monkeypatch) -> None:
    monkeypatch.setattr(services, "EXPIRE_BATCH_SIZE", 2)
    documents = [_approved(timedelta(minutes=-1)) for _ in range(5)]

    expired = tasks.documents_expire()

    assert expired == 5
    assert set(
        ComplianceDocument.objects.filter(pk__in=[d.pk for d in documents]).values_list("status", flat=True)
    ) == {"expired"}
    assert AuditEvent.objects.filter(action="compliance_document.expired").count() == 5


def test_the_expiry_task_runs_daily_from_beat(settings) -> None:
    entries = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == tasks.documents_expire.name
    ]

    assert len(entries) == 1
    assert tasks.documents_expire.name == "compliance.tasks.documents_expire"
