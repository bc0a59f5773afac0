"""Compliance pages: the protected file view (only the owner and reviewers get a file; everyone else a 404) and the
checklist of freelancers and vendor firms (status, why, upload with errors next to the field, appeal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from compliance.models import ComplianceDocument, Requirement
from compliance.services import documents as services
from core.models import AuditEvent
from tests.compliance.document_helpers import (
    HTML,
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

CHECKLIST = "/compliance/"
WRONG_TYPE = (
    "Only PDF, PNG and JPEG files are accepted, and this file&#x27;s content is none of them (its name doesn&#x27;t "
    "count). Save or scan the document as a PDF, PNG or JPEG and upload that."
)
TEN_MB = 10 * 1024 * 1024


def _file_url(document: ComplianceDocument) -> str:
    return f"/compliance/documents/{document.pk}/file/"


def _upload_url(code: str) -> str:
    return f"/compliance/requirements/{requirement(code).pk}/upload/"


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the file view -------------------------------------------------------------------------------------------------
def test_the_file_lives_outside_media_and_static_and_only_the_protected_view_serves_it(settings) -> None:
    user = freelancer()
    document = upload(by=user)
    client = _logged_in(user)

    [path] = stored_files()
    for public_root in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert not path.resolve().is_relative_to(Path(public_root).resolve())
    assert reverse("compliance:document_file", args=[document.pk]) == _file_url(document)
    for guess in (f"/{settings.MEDIA_URL}{document.file.name}", f"/{settings.STATIC_URL}{document.file.name}"):
        assert client.get(guess).status_code == 404


def test_the_owner_gets_the_file_inline_with_protective_headers() -> None:
    user = freelancer()
    document = upload(by=user, name="my passport.pdf")

    response = _logged_in(user).get(_file_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="my passport.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'"
    )
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_an_image_is_served_as_the_image_it_is_and_sandboxed() -> None:
    user = freelancer()
    document = upload(by=user, content=PNG, name="passport.pdf")

    response = _logged_in(user).get(_file_url(document))

    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"].endswith("; sandbox")


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_a_vendor_firms_owners_and_admins_get_the_firms_file(role) -> None:
    owner = vendor_member()
    document = upload(by=owner.user, code="insurance", organization_id=owner.organization_id)
    colleague = MembershipFactory(organization=owner.organization, role=role)

    response = _logged_in(colleague.user).get(_file_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize("make_reviewer", [reviewer, lambda: UserFactory(is_staff=True, is_superuser=True)])
def test_a_reviewer_gets_the_file(make_reviewer) -> None:
    document = upload(by=freelancer())

    response = _logged_in(make_reviewer()).get(_file_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize(
    "who",
    ["anonymous", "another freelancer", "a client", "a member of the firm", "staff without the permission"],
)
def test_everyone_else_gets_a_404_and_no_file(who) -> None:
    owner = vendor_member()
    document = upload(by=owner.user, code="insurance", organization_id=owner.organization_id)
    users = {
        "another freelancer": freelancer,
        "a client": lambda: client_member().user,
        "a member of the firm": lambda: (
            MembershipFactory(organization=owner.organization, role=Membership.Role.MEMBER).user
        ),
        "staff without the permission": staff_without_review,
    }
    client = Client() if who == "anonymous" else _logged_in(users[who]())

    response = client.get(_file_url(document))

    assert response.status_code == 404
    assert not hasattr(response, "streaming_content")
    assert PDF not in response.content


def test_an_unknown_document_and_a_lost_file_are_404() -> None:
    user = freelancer()
    document = upload(by=user)
    document.file.storage.delete(document.file.name)
    client = _logged_in(user)

    assert client.get(_file_url(document)).status_code == 404
    assert client.get(f"/compliance/documents/{document.pk + 1000}/file/").status_code == 404


# --- the checklist -------------------------------------------------------------------------------------------------
def test_a_freelancer_sees_what_applies_why_and_its_status() -> None:
    user = freelancer()
    rejected = upload(by=user)
    services.document_reject(document_id=rejected.pk, by=reviewer(), reason="The photo page is cut off.")

    response = _logged_in(user).get(CHECKLIST)

    assert response.status_code == 200
    items = {item.requirement.code: item for item in response.context["items"]}
    assert set(items) == {"identity", "nda", "tax-form-w8ben"}  # a GB freelancer, no engagements yet
    assert [items[code].badge_label for code in ("identity", "nda", "tax-form-w8ben")] == [
        "Rejected",
        "Missing",
        "Missing",
    ]
    html = response.content.decode()
    assert requirement("tax-form-w8ben").description in html
    assert "The photo page is cut off." in html
    assert "Appeal the rejection" in html
    assert f'href="{_file_url(rejected)}"' in html
    assert items["tax-form-w8ben"].upload_form.fields["tax_id"].help_text.startswith("Enter the taxpayer")
    assert "tax_id" not in items["nda"].upload_form.fields
    assert 'href="/compliance/" aria-current="page">Compliance</a>' in html  # the nav link


def test_the_checklist_never_shows_a_full_tax_id() -> None:
    user = freelancer()
    upload(by=user, code="tax-form-w8ben", tax_id="AB12345678")

    html = _logged_in(user).get(CHECKLIST).content.decode()

    assert "ending in 5678" in html
    assert "AB12345678" not in html and "AB1234" not in html


def test_an_empty_state_when_nothing_applies() -> None:
    Requirement.objects.update(is_active=False)

    response = _logged_in(freelancer()).get(CHECKLIST)

    assert response.status_code == 200
    assert "Nothing to provide right now" in response.content.decode()


def test_a_vendor_owner_sees_the_firms_checklist_and_a_freelancer_admin_can_switch() -> None:
    membership = vendor_member(role=Membership.Role.ADMIN, name="Acme Support Ltd")
    user = membership.user
    from tests.factories import TalentProfileFactory

    TalentProfileFactory(user=user)
    client = _logged_in(user)

    firm = client.get(CHECKLIST, {"party": f"org:{membership.organization_id}"})
    mine = client.get(CHECKLIST, {"party": "me"})

    assert {i.requirement.code for i in firm.context["items"]} == {"insurance", "nda", "tax-form-w8bene"}
    assert "Acme Support Ltd" in firm.content.decode()
    assert {i.requirement.code for i in mine.context["items"]} == {"identity", "nda", "tax-form-w8ben"}
    assert client.get(CHECKLIST, {"party": "org:999999"}).status_code == 404


@pytest.mark.parametrize(
    ("make_user", "message"),
    [
        (
            lambda: vendor_member(role=Membership.Role.MEMBER).user,
            "Only your firm&#x27;s owners and admins manage its compliance documents.",
        ),
        (lambda: client_member().user, "Compliance documents are for freelancers and vendor firms."),
    ],
)
def test_others_are_told_why_they_have_no_checklist(make_user, message) -> None:
    response = _logged_in(make_user()).get(CHECKLIST)

    assert response.status_code == 403
    assert message in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(CHECKLIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- uploading from the checklist ----------------------------------------------------------------------------------
def test_uploading_from_the_checklist() -> None:
    user = freelancer()
    client = _logged_in(user)
    code = "tax-form-w8ben"
    prefix = f"requirement-{requirement(code).pk}"

    response = client.post(
        _upload_url(code),
        {"party": "me", f"{prefix}-tax_id": "AB 123 456 78", f"{prefix}-file": upload_file(PDF, "w8.pdf")},
        follow=True,
    )

    document = ComplianceDocument.objects.get()
    assert (document.user, document.requirement.code, document.tax_id_last4) == (user, code, "5678")
    assert response.redirect_chain == [(f"/compliance/?party=me#requirement-{document.requirement_id}", 302)]
    assert "Uploaded w8.pdf. Our compliance team reviews it" in response.content.decode()
    assert len(stored_files()) == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (HTML, "passport.pdf", WRONG_TYPE),
        (SVG, "passport.png", WRONG_TYPE),
        (b"", "passport.pdf", "This file is empty. Choose the PDF, PNG or JPEG of your document."),
        (
            PDF + b"0" * (TEN_MB + 1 - len(PDF)),
            "passport.pdf",
            "This file is larger than 10 MB. Upload a smaller scan or a compressed PDF.",
        ),
    ],
    ids=["renamed-html", "renamed-svg", "empty", "oversized"],
)
def test_a_refused_upload_shows_the_message_next_to_the_file_field(content, name, message) -> None:
    client = _logged_in(freelancer())
    prefix = f"requirement-{requirement('identity').pk}"

    response = client.post(_upload_url("identity"), {"party": "me", f"{prefix}-file": upload_file(content, name)})

    assert response.status_code == 400
    [item] = [i for i in response.context["items"] if i.requirement.code == "identity"]
    assert item.upload_form.errors == {"file": [message.replace("&#x27;", "'")]}
    html = response.content.decode()
    assert f'<ul class="errorlist" id="id_{prefix}-file_error"><li>{message}</li></ul>' in html
    assert ComplianceDocument.objects.count() == 0
    assert stored_files() == []


def test_a_bad_tax_id_is_shown_next_to_its_field() -> None:
    client = _logged_in(freelancer())
    prefix = f"requirement-{requirement('tax-form-w8ben').pk}"

    response = client.post(
        _upload_url("tax-form-w8ben"), {"party": "me", f"{prefix}-tax_id": "x", f"{prefix}-file": upload_file()}
    )

    assert response.status_code == 400
    [item] = [i for i in response.context["items"] if i.requirement.code == "tax-form-w8ben"]
    assert list(item.upload_form.errors) == ["tax_id"]
    assert ComplianceDocument.objects.count() == 0


def test_htmx_gets_the_requirements_card_back_with_errors_or_the_confirmation() -> None:
    client = _logged_in(freelancer())
    prefix = f"requirement-{requirement('identity').pk}"
    url = _upload_url("identity")

    refused = client.post(url, {"party": "me", f"{prefix}-file": upload_file(HTML)}, HTTP_HX_REQUEST="true")
    accepted = client.post(url, {"party": "me", f"{prefix}-file": upload_file(PDF)}, HTTP_HX_REQUEST="true")

    assert refused.status_code == 200  # so htmx swaps the card in, errors and all
    refused_html = refused.content.decode()
    assert refused_html.lstrip().startswith(
        f'<li class="card compliance-item" id="requirement-{requirement("identity").pk}"'
    )
    assert WRONG_TYPE in refused_html
    assert "<html" not in refused_html
    accepted_html = accepted.content.decode()
    assert "Uploaded scan.pdf." in accepted_html and "Waiting for review" in accepted_html
    assert ComplianceDocument.objects.count() == 1
    # The summary above the cards follows, swapped out of band: the identity document now waits for review.
    before, after = refused_html.split('id="compliance-summary"')[1], accepted_html.split('id="compliance-summary"')[1]
    assert 'hx-swap-oob="true"' in after
    assert "uploaded, waiting for review" not in before.lower()
    assert "uploaded, waiting for review" in after.lower()


def test_an_upload_needs_the_csrf_token() -> None:
    user = freelancer()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    prefix = f"requirement-{requirement('identity').pk}"

    response = client.post(_upload_url("identity"), {"party": "me", f"{prefix}-file": upload_file()})

    assert response.status_code == 403
    assert ComplianceDocument.objects.count() == 0


def test_a_vendor_member_cannot_upload_for_the_firm_from_the_page() -> None:
    member = vendor_member(role=Membership.Role.MEMBER)
    prefix = f"requirement-{requirement('insurance').pk}"

    response = _logged_in(member.user).post(
        _upload_url("insurance"), {"party": f"org:{member.organization_id}", f"{prefix}-file": upload_file()}
    )

    assert response.status_code == 403
    assert ComplianceDocument.objects.count() == 0


# --- appealing from the checklist ----------------------------------------------------------------------------------
def test_appealing_from_the_checklist_once() -> None:
    user = freelancer()
    document = upload(by=user)
    services.document_reject(document_id=document.pk, by=reviewer(), reason="Blurred.")
    client = _logged_in(user)
    url = f"/compliance/documents/{document.pk}/appeal/"
    field = f"appeal-{document.pk}-comment"

    empty = client.post(url, {field: ""})
    sent = client.post(url, {field: "It is sharp at 100 %."}, follow=True)

    assert empty.status_code == 400
    assert "Tell our compliance team why the document should be accepted." in empty.content.decode()
    document.refresh_from_db()
    assert (document.status, document.appeal_comment) == (ComplianceDocument.Status.SUBMITTED, "It is sharp at 100 %.")
    html = sent.content.decode()
    assert "Appeal sent." in html and "Appeal the rejection" not in html
    assert AuditEvent.objects.filter(action="compliance_document.appealed").count() == 1


def test_nobody_else_appeals_from_the_page() -> None:
    document = upload(by=freelancer())
    services.document_reject(document_id=document.pk, by=reviewer(), reason="Blurred.")

    response = _logged_in(freelancer()).post(
        f"/compliance/documents/{document.pk}/appeal/", {f"appeal-{document.pk}-comment": "Mine now."}
    )

    assert response.status_code == 404
    document.refresh_from_db()
    assert document.status == ComplianceDocument.Status.REJECTED
