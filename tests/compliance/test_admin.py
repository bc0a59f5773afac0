"""Ops review in the admin: the document queue (waiting first, oldest first, filters, preview through the protected
view, history), approve and reject-with-reason one by one and in bulk, only for reviewers; screening hits and
classification assessments decided through their services; the requirement catalogue edited and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from compliance.models import ClassificationAssessment, ComplianceDocument, Requirement, ScreeningHit
from compliance.services import documents as services
from core.models import AuditEvent
from tests.compliance.document_helpers import (
    PNG,
    freelancer,
    private_root,  # noqa: F401  (fixture)
    requirement,
    reviewer,
    staff_without_review,
    upload,
    vendor_member,
)
from tests.engagements.conftest import hire  # noqa: F401  (fixture)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

DOCUMENTS = "/admin/compliance/compliancedocument/"
HITS = "/admin/compliance/screeninghit/"
ASSESSMENTS = "/admin/compliance/classificationassessment/"
REQUIREMENTS = "/admin/compliance/requirement/"


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ids(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def _documents(count: int) -> list[ComplianceDocument]:
    made = []
    for index in range(count):
        if index % 2:
            firm = vendor_member()
            made.append(upload(by=firm.user, code="insurance", organization_id=firm.organization_id))
        else:
            made.append(upload(by=freelancer(), code="tax-form-w8ben", tax_id=f"AB1234567{index}"))
    return made


# --- the queue -----------------------------------------------------------------------------------------------------
def test_the_queue_opens_on_documents_waiting_for_review_oldest_first() -> None:
    older, decided, newer = (upload(by=freelancer()) for _ in range(3))
    services.document_approve(document_id=decided.pk, by=reviewer())
    appealed = upload(by=freelancer())
    services.document_reject(document_id=appealed.pk, by=reviewer(), reason="Blurred.")
    services.document_appeal(document_id=appealed.pk, by=appealed.user, comment="Look again.")
    client = _admin(reviewer())

    queue = client.get(DOCUMENTS)
    everything = client.get(DOCUMENTS, {"status": "all"})
    approved = client.get(DOCUMENTS, {"status": "approved"})

    assert queue.status_code == 200
    assert _ids(queue) == [older.pk, newer.pk, appealed.pk]
    assert _ids(everything) == [older.pk, decided.pk, newer.pk, appealed.pk]
    assert _ids(approved) == [decided.pk]


def test_the_queue_filters_by_requirement_and_party() -> None:
    mine = upload(by=freelancer())
    firm = vendor_member()
    theirs = upload(by=firm.user, code="insurance", organization_id=firm.organization_id)
    client = _admin(reviewer())

    assert _ids(client.get(DOCUMENTS, {"party": "vendor"})) == [theirs.pk]
    assert _ids(client.get(DOCUMENTS, {"party": "freelancer"})) == [mine.pk]
    assert _ids(client.get(DOCUMENTS, {"requirement__id__exact": requirement("identity").pk})) == [mine.pk]


def test_the_queue_costs_the_same_queries_for_two_or_six_documents(django_assert_max_num_queries) -> None:
    client = _admin(reviewer())
    _documents(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(DOCUMENTS).status_code == 200
    _documents(4)

    with django_assert_max_num_queries(len(small)):
        large = client.get(DOCUMENTS)

    assert large.context["cl"].result_count == 6


def test_each_row_links_the_file_through_the_protected_view_in_a_new_tab() -> None:
    document = upload(by=freelancer())

    html = _admin(reviewer()).get(DOCUMENTS).content.decode()

    assert f'<a href="/compliance/documents/{document.pk}/file/" target="_blank" rel="noopener">Open</a>' in html


def test_the_change_page_previews_the_file_shows_the_history_and_never_the_full_tax_id() -> None:
    document = upload(by=freelancer(), code="tax-form-w8ben", tax_id="AB12345678")
    image = upload(by=freelancer(), content=PNG, name="id.png")
    ops = reviewer(email="ops@example.com")
    services.document_reject(document_id=document.pk, by=ops, reason="Signature missing.")
    client = _admin(ops)

    html = client.get(f"{DOCUMENTS}{document.pk}/change/").content.decode()
    image_html = client.get(f"{DOCUMENTS}{image.pk}/change/").content.decode()

    assert f'<iframe src="/compliance/documents/{document.pk}/file/"' in html
    assert f'<img src="/compliance/documents/{image.pk}/file/"' in image_html
    assert "ending in 5678" in html
    assert "AB12345678" not in html and document.tax_id_encrypted not in html
    assert "compliance_document.submitted" in html and "compliance_document.rejected" in html
    assert "submitted → rejected" in html and "reason: Signature missing." in html and "ops@example.com" in html


# --- decisions -----------------------------------------------------------------------------------------------------
def test_bulk_approve_from_the_list() -> None:
    documents = _documents(3)
    ops = reviewer()

    response = _admin(ops).post(
        DOCUMENTS,
        {"action": "approve_documents", "index": "0", "_selected_action": [d.pk for d in documents]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Approved 3 document(s)." in response.content.decode()
    assert set(ComplianceDocument.objects.values_list("status", "reviewed_by")) == {("approved", ops.pk)}
    assert AuditEvent.objects.filter(action="compliance_document.approved", actor=ops).count() == 3


def test_bulk_reject_asks_for_the_reason_on_an_intermediate_page() -> None:
    documents = _documents(2)
    already = upload(by=freelancer())
    services.document_approve(document_id=already.pk, by=reviewer())
    client = _admin(reviewer())
    selected = [d.pk for d in documents] + [already.pk]

    ask = client.post(
        f"{DOCUMENTS}?status=all", {"action": "reject_documents", "index": "0", "_selected_action": selected}
    )
    missing = client.post(
        f"{DOCUMENTS}?status=all",
        {"action": "reject_documents", "apply": "1", "reason": "", "_selected_action": [d.pk for d in documents]},
    )
    done = client.post(
        f"{DOCUMENTS}?status=all",
        {
            "action": "reject_documents",
            "apply": "1",
            "reason": "The certificate has expired.",
            "_selected_action": [d.pk for d in documents],
        },
        follow=True,
    )

    assert ask.status_code == 200
    assert ask.templates[0].name == "admin/compliance/decide.html"
    assert ask.context["ids"] == [d.pk for d in documents] and ask.context["skipped"] == 1
    assert '<textarea name="reason"' in ask.content.decode()
    assert missing.status_code == 200 and missing.context["form"].errors == {"reason": ["This field is required."]}
    assert "Rejected 2 document(s)." in done.content.decode()
    statuses = dict(ComplianceDocument.objects.values_list("pk", "status"))
    assert statuses == {documents[0].pk: "rejected", documents[1].pk: "rejected", already.pk: "approved"}
    assert set(
        ComplianceDocument.objects.filter(pk__in=[d.pk for d in documents]).values_list("rejection_reason", flat=True)
    ) == {"The certificate has expired."}


def test_a_single_document_is_decided_from_its_change_page_and_you_come_back_to_it() -> None:
    approve_me, reject_me = upload(by=freelancer()), upload(by=freelancer())
    client = _admin(reviewer())

    page = client.get(f"{DOCUMENTS}{approve_me.pk}/change/").content.decode()
    approved = client.post(
        f"{DOCUMENTS}?status=all",
        {"action": "approve_documents", "_selected_action": approve_me.pk, "_from_change_page": "1"},
    )
    rejected = client.post(
        f"{DOCUMENTS}?status=all",
        {
            "action": "reject_documents",
            "apply": "1",
            "reason": "Wrong person.",
            "_selected_action": reject_me.pk,
            "_from_change_page": "1",
        },
    )

    assert 'value="Approve"' in page and 'value="Reject with reason…"' in page
    assert approved.status_code == 302 and approved["Location"] == f"{DOCUMENTS}{approve_me.pk}/change/"
    assert rejected.status_code == 302 and rejected["Location"] == f"{DOCUMENTS}{reject_me.pk}/change/"
    approve_me.refresh_from_db()
    reject_me.refresh_from_db()
    assert (approve_me.status, reject_me.status, reject_me.rejection_reason) == (
        "approved",
        "rejected",
        "Wrong person.",
    )
    decided_page = client.get(f"{DOCUMENTS}{approve_me.pk}/change/").content.decode()
    assert 'value="Approve"' not in decided_page


def test_staff_without_the_reviewer_permission_read_but_cannot_approve() -> None:
    document = upload(by=freelancer())
    client = _admin(staff_without_review())

    listing = client.get(DOCUMENTS)
    page = client.get(f"{DOCUMENTS}{document.pk}/change/")
    forged = client.post(
        DOCUMENTS, {"action": "approve_documents", "index": "0", "_selected_action": [document.pk]}, follow=True
    )
    forged_reject = client.post(
        DOCUMENTS, {"action": "reject_documents", "apply": "1", "reason": "x", "_selected_action": [document.pk]}
    )

    assert listing.status_code == 200 and _ids(listing) == [document.pk]
    assert "approve_documents" not in listing.content.decode()
    assert not listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert page.status_code == 200 and 'value="Approve"' not in page.content.decode()
    assert forged.status_code == 200 and forged_reject.status_code in (200, 302)
    document.refresh_from_db()
    assert (document.status, document.reviewed_by) == (ComplianceDocument.Status.SUBMITTED, None)
    assert not AuditEvent.objects.filter(action__in=["compliance_document.approved", "compliance_document.rejected"])


def test_staff_without_any_compliance_permission_cannot_open_the_queue() -> None:
    document = upload(by=freelancer())
    client = _admin(UserFactory(is_staff=True))

    assert client.get(DOCUMENTS).status_code == 403
    assert client.get(f"{DOCUMENTS}{document.pk}/change/").status_code == 403


def test_nobody_edits_or_deletes_a_document_row_by_hand() -> None:
    document = upload(by=freelancer())
    client = _admin(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"{DOCUMENTS}{document.pk}/change/")
    post = client.post(f"{DOCUMENTS}{document.pk}/change/", {"status": "approved"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    assert client.get(f"{DOCUMENTS}{document.pk}/delete/").status_code == 403
    assert client.get(f"{DOCUMENTS}add/").status_code == 403
    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.SUBMITTED


# --- screening hits and classification assessments -----------------------------------------------------------------
def _hit(**kwargs) -> ScreeningHit:
    return ScreeningHit.objects.create(
        user=freelancer(),
        screened_name="Ivan Petrov",
        listed_name="Ivan PETROV",
        list_entry_id=kwargs.pop("entry", "SDN-1"),
        list_source="OFAC SDN (bundled)",
        score=Decimal("0.930"),
        **kwargs,
    )


def test_screening_hits_are_listed_pending_first_and_cleared_with_a_note() -> None:
    pending = _hit()
    cleared = _hit(entry="SDN-2", status=ScreeningHit.Status.CLEARED)
    ops = reviewer()
    client = _admin(ops)

    listing = client.get(HITS)
    ask = client.post(
        f"{HITS}?status=all", {"action": "clear_hits", "index": "0", "_selected_action": [pending.pk, cleared.pk]}
    )
    done = client.post(
        HITS,
        {"action": "clear_hits", "apply": "1", "note": "Different date of birth.", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert _ids(listing) == [pending.pk]
    assert ask.status_code == 200 and '<textarea name="note"' in ask.content.decode() and ask.context["skipped"] == 1
    assert "Clear: 1 item(s)." in done.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note, pending.reviewed_by) == ("cleared", "Different date of birth.", ops)
    history = client.get(f"{HITS}{pending.pk}/change/").content.decode()
    assert "screening_hit.cleared" in history


def test_assessments_are_signed_off_through_the_service(request) -> None:
    contract, _, _ = request.getfixturevalue("hire")(kind="hourly", activate=False)
    assessment, _ = ClassificationAssessment.objects.update_or_create(
        contract=contract,
        defaults={
            "score": 70,
            "risk": ClassificationAssessment.Risk.HIGH,
            "status": ClassificationAssessment.Status.PENDING,
            "factors": [{"code": "weekly_hours", "label": "Weekly hours", "points": 35, "explanation": "40 h a week."}],
        },
    )
    ops = reviewer()
    client = _admin(ops)

    listing = client.get(ASSESSMENTS)
    page = client.get(f"{ASSESSMENTS}{assessment.pk}/change/").content.decode()
    client.post(
        ASSESSMENTS,
        {"action": "sign_off_assessments", "apply": "1", "note": "Fixed term.", "_selected_action": [assessment.pk]},
    )

    assert _ids(listing) == [assessment.pk]
    assert "Weekly hours: 40 h a week. (+35 points)" in page
    assessment.refresh_from_db()
    assert (assessment.status, assessment.reviewed_by) == (ClassificationAssessment.Status.SIGNED_OFF, ops)


def test_hits_and_assessments_cannot_be_decided_without_the_permission() -> None:
    hit = _hit()
    client = _admin(UserFactory(is_staff=True, is_superuser=False))

    assert client.get(HITS).status_code == 403
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_screeninghit"))
    response = _admin(viewer).post(
        HITS, {"action": "clear_hits", "apply": "1", "note": "Let them in.", "_selected_action": [hit.pk]}
    )

    assert response.status_code in (200, 302)
    hit.refresh_from_db()
    assert hit.status == ScreeningHit.Status.PENDING


# --- the requirement catalogue -------------------------------------------------------------------------------------
def test_reviewers_edit_the_catalogue_and_each_change_is_audited() -> None:
    nda = requirement("nda")
    ops = reviewer()
    client = _admin(ops)
    page = client.get(f"{REQUIREMENTS}{nda.pk}/change/")
    data = {
        name: (value if value is not None else "")
        for name, value in page.context["adminform"].form.initial.items()
        if name in page.context["adminform"].form.fields
    }
    data.update(
        countries="",
        excluded_countries="",
        engagement_kinds="",
        engagement_flags="",
        validity_days="730",
        blocks_activation="on",
    )
    data = {key: value for key, value in data.items() if value is not False}

    response = client.post(f"{REQUIREMENTS}{nda.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    nda.refresh_from_db()
    assert nda.validity_days == 730
    event = AuditEvent.objects.get(action="requirement.changed")
    assert event.actor == ops and event.data["changes"]["validity_days"] == {"from": "", "to": "730"}
    assert "Comma-separated two-letter country codes" in page.content.decode()


def test_the_catalogue_refuses_unknown_codes_and_cannot_be_deleted() -> None:
    client = _admin(reviewer())
    data = {
        "name": "Export control",
        "code": "export-control",
        "description": "Needed for export-controlled work.",
        "evidence": "document",
        "is_active": "on",
        "party": "any",
        "countries": "us, Germany",
        "excluded_countries": "",
        "engagement_kinds": "hourly, weekly",
        "engagement_flags": "",
    }

    response = client.post(f"{REQUIREMENTS}add/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["countries"] == ["Use two-letter country codes, such as US or DE."]
    assert errors["engagement_kinds"] == ["Unknown: weekly. Use fixed, hourly, micro_task, sow."]
    assert not Requirement.objects.filter(code="export-control").exists()
    assert client.get(f"{REQUIREMENTS}{requirement('nda').pk}/delete/").status_code == 403
