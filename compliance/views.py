"""Compliance pages: the checklist of a freelancer or vendor firm (what is needed, why, its status, upload, appeal)
and the one way a stored document is ever served, `document_file`, which checks who asks.

document_file answers 404 to everyone who may not see the file, anonymous visitors included (rather than a login
redirect): the Done-when of the issue asks for 404/403 for them, and a 404 tells nobody which document ids exist.
Owners open their files from the checklist, where they are signed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.models import Membership, Organization
from accounts.selectors import user_context, user_is_freelancer
from compliance.forms import AppealForm, DocumentUploadForm
from compliance.gate import Party, RequirementState, checklist_for
from compliance.models import ComplianceDocument, Requirement, ScreeningHit, private_storage
from compliance.services import documents as services
from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest

# The file view's Content-Security-Policy: nothing may load or run; the admin's preview may frame it. Images also
# get `sandbox`; PDFs do not, because browsers refuse to run their PDF viewer in a sandboxed document.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'self'"

BADGES = {
    "met": ("success", "Approved"),
    "submitted": ("warning", "Waiting for review"),
    "rejected": ("danger", "Rejected"),
    "expired": ("danger", "Expired"),
    "missing": ("neutral", "Missing"),
    "assessment_pending": ("warning", "Waiting for sign-off"),
    "assessment_rejected": ("danger", "Not signed off"),
}


# --- whose checklist -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChecklistOwner:
    key: str  # "me", or "org:<id>" for a vendor firm
    label: str
    organization: Organization | None

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization is not None else None

    def party(self, request: AuthenticatedHttpRequest) -> Party:
        if self.organization is not None:
            return Party(organization=self.organization)
        return Party(user=request.user)


def _owner_options(request: AuthenticatedHttpRequest) -> list[ChecklistOwner]:
    options = []
    if user_is_freelancer(user=request.user):
        options.append(ChecklistOwner("me", "Your freelance work", None))
    firms = Membership.objects.filter(
        user=request.user, organization__kind=Organization.Kind.VENDOR, role__in=Membership.MANAGER_ROLES
    ).select_related("organization")
    options += [ChecklistOwner(f"org:{m.organization_id}", m.organization.name, m.organization) for m in firms]
    return options


def _owner_options_or_refuse(request: AuthenticatedHttpRequest) -> list[ChecklistOwner]:
    options = _owner_options(request)
    if options:
        return options
    if Membership.objects.filter(user=request.user, organization__kind=Organization.Kind.VENDOR).exists():
        message = (
            "Only your firm's owners and admins manage its compliance documents. Ask one of them to upload what is "
            "missing."
        )
    else:
        message = (
            "Compliance documents are for freelancers and vendor firms. To work as a freelancer, create your "
            "freelancer profile first."
        )
    raise ApplicationError(message, code="no_compliance_party", status=403)


def _chosen_owner(request: AuthenticatedHttpRequest, options: list[ChecklistOwner], requested: str) -> ChecklistOwner:
    if requested:
        chosen = next((option for option in options if option.key == requested), None)
        if chosen is None:
            raise Organization.DoesNotExist
        return chosen
    current = user_context(user=request.user, session=request.session).organization
    return next((option for option in options if current and option.organization_id == current.pk), options[0])


# --- the checklist ---------------------------------------------------------------------------------------------------
@dataclass
class ChecklistItem:
    state: RequirementState
    upload_form: DocumentUploadForm | None = None
    appeal_form: AppealForm | None = None
    notice: str = ""

    @property
    def requirement(self) -> Requirement:
        return self.state.requirement

    @property
    def document(self) -> ComplianceDocument | None:
        return self.state.document

    @property
    def badge_tone(self) -> str:
        return BADGES.get(self.state.state, ("neutral", ""))[0]

    @property
    def badge_label(self) -> str:
        return BADGES.get(self.state.state, ("neutral", self.state.state))[1]

    @property
    def is_document(self) -> bool:
        return self.requirement.evidence == Requirement.Evidence.DOCUMENT

    @property
    def is_renewal(self) -> bool:
        return self.state.is_met and self.document is not None


def _can_upload(state: RequirementState) -> bool:
    if state.requirement.evidence != Requirement.Evidence.DOCUMENT or state.state == "submitted":
        return False
    if state.state == "met":  # a renewal, when the approval will expire
        return state.document is not None and state.document.expires_at is not None
    return True


def _can_appeal(state: RequirementState) -> bool:
    document = state.document
    return state.state == "rejected" and document is not None and document.appealed_at is None


def _items(
    owner_party: Party,
    *,
    upload_forms: dict[int, DocumentUploadForm] | None = None,
    appeal_forms: dict[int, AppealForm] | None = None,
    notices: dict[int, str] | None = None,
) -> list[ChecklistItem]:
    """Each requirement's card; a form just posted (with its errors) replaces the card's blank one."""
    upload_forms, appeal_forms, notices = upload_forms or {}, appeal_forms or {}, notices or {}
    items = []
    for state in checklist_for(party=owner_party):
        pk, document = state.requirement.pk, state.document
        upload_form = upload_forms.get(pk)
        if upload_form is None and _can_upload(state):
            upload_form = DocumentUploadForm(requirement=state.requirement)
        appeal_form = appeal_forms.get(pk)
        if appeal_form is None and _can_appeal(state) and document is not None:
            appeal_form = AppealForm(document_id=document.pk)
        items.append(ChecklistItem(state, upload_form, appeal_form, notices.get(pk, "")))
    return items


def _screening_notice(owner_party: Party) -> str:
    statuses = set(
        owner_party.screening_hits().exclude(status=ScreeningHit.Status.CLEARED).values_list("status", flat=True)
    )
    if ScreeningHit.Status.CONFIRMED in statuses:
        return "Sanctions screening found a confirmed match: the marketplace cannot work with this party."
    if statuses:
        return (
            "Sanctions screening found a possible name match that our compliance team is checking. Until they clear "
            "it, contracts can't start and payouts are held; you don't need to do anything."
        )
    return ""


def _checklist_context(
    request: AuthenticatedHttpRequest, owner: ChecklistOwner, options: list[ChecklistOwner], **forms: Any
) -> dict[str, Any]:
    owner_party = owner.party(request)
    items = _items(owner_party, **forms)
    unmet = [item for item in items if not item.state.is_met]
    return {
        "owner": owner,
        "owners": options,
        "items": items,
        "met_count": len(items) - len(unmet),
        "blocking_payouts": [item for item in unmet if item.requirement.blocks_payout],
        "blocking_activation": [item for item in unmet if item.requirement.blocks_activation],
        "screening_notice": _screening_notice(owner_party),
        "owner_query": urlencode({"party": owner.key}),
    }


def _checklist_url(owner: ChecklistOwner, requirement_id: int | None = None) -> str:
    anchor = f"#requirement-{requirement_id}" if requirement_id else ""
    return f"{reverse('compliance:checklist')}?{urlencode({'party': owner.key})}{anchor}"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _item_response(
    request: AuthenticatedHttpRequest,
    owner: ChecklistOwner,
    options: list[ChecklistOwner],
    requirement_id: int,
    *,
    status: int,
    **forms: Any,
) -> HttpResponse:
    """htmx: the requirement's card (200, so htmx swaps it in, errors and all) and the summary above the cards
    (swapped out of band: what is met and what still blocks contracts and payouts); otherwise the whole page."""
    context = _checklist_context(request, owner, options, **forms)
    if _is_htmx(request):
        item = next((item for item in context["items"] if item.requirement.pk == requirement_id), None)
        if item is None:  # no longer on the checklist: the whole list is the honest answer
            response = render(request, "compliance/checklist.html", context)
            response["HX-Retarget"] = "body"
            return response
        response = render(request, "compliance/checklist.html#item", {**context, "item": item})
        summary = render(request, "compliance/checklist.html#summary", {**context, "summary_oob": True})
        response.content += summary.content
        return response
    return render(request, "compliance/checklist.html", context, status=status)


@login_required
@require_GET
def checklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    options = _owner_options_or_refuse(request)
    owner = _chosen_owner(request, options, request.GET.get("party", ""))
    return render(request, "compliance/checklist.html", _checklist_context(request, owner, options))


# --- upload ----------------------------------------------------------------------------------------------------------
class DocumentSizeLimitHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes the limit, so a huge upload never lands in a temporary file;
    the view then answers with the service's "larger than 10 MB" message. The fields before the file are kept."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > services.MAX_DOCUMENT_BYTES:
            self.request.compliance_upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # the CSRF check runs in _document_upload, after the size limit is in place (Django's documented way)
@login_required
@require_POST
def document_upload(request: AuthenticatedHttpRequest, requirement_id: int) -> HttpResponse:
    request.upload_handlers.insert(0, DocumentSizeLimitHandler(request))
    return _document_upload(request, requirement_id)


@csrf_protect
def _document_upload(request: AuthenticatedHttpRequest, requirement_id: int) -> HttpResponse:
    options = _owner_options_or_refuse(request)
    owner = _chosen_owner(request, options, request.POST.get("party", ""))
    requirement = Requirement.objects.get(pk=requirement_id, is_active=True, evidence=Requirement.Evidence.DOCUMENT)
    form = DocumentUploadForm(request.POST, request.FILES, requirement=requirement)
    status = 400
    if getattr(request, "compliance_upload_too_large", False):
        form.is_valid()
        form.add_error("file", services.FILE_TOO_LARGE)
    elif form.is_valid():
        try:
            document = services.document_upload(
                requirement_id=requirement.pk,
                file=form.cleaned_data["file"],
                by=request.user,
                organization_id=owner.organization_id,
                tax_id=form.cleaned_data.get("tax_id", ""),
            )
        except ApplicationError as error:
            form_add_application_error(form, error)
            status = error.status
        else:
            notice = (
                f"Uploaded {document.original_name}. Our compliance team reviews it, usually within one working day."
            )
            if _is_htmx(request):
                return _item_response(
                    request, owner, options, requirement.pk, status=200, notices={requirement.pk: notice}
                )
            messages.success(request, notice)
            return redirect(_checklist_url(owner, requirement.pk))
    return _item_response(request, owner, options, requirement.pk, status=status, upload_forms={requirement.pk: form})


# --- appeal ----------------------------------------------------------------------------------------------------------
@login_required
@require_POST
def document_appeal(request: AuthenticatedHttpRequest, document_id: int) -> HttpResponse:
    document = services.documents_owned_by(user=request.user).select_related("requirement").get(pk=document_id)
    options = _owner_options_or_refuse(request)
    owner_key = f"org:{document.organization_id}" if document.organization_id else "me"
    owner = _chosen_owner(request, options, owner_key)
    form = AppealForm(request.POST, document_id=document.pk)
    status = 400
    if form.is_valid():
        try:
            services.document_appeal(document_id=document.pk, by=request.user, comment=form.cleaned_data["comment"])
        except ApplicationError as error:
            form_add_application_error(form, error)
            status = error.status
        else:
            notice = f"Appeal sent. Our compliance team reviews your {document.requirement.name} again."
            if _is_htmx(request):
                return _item_response(
                    request,
                    owner,
                    options,
                    document.requirement_id,
                    status=200,
                    notices={document.requirement_id: notice},
                )
            messages.success(request, notice)
            return redirect(_checklist_url(owner, document.requirement_id))
    return _item_response(
        request, owner, options, document.requirement_id, status=status, appeal_forms={document.requirement_id: form}
    )


# --- the file --------------------------------------------------------------------------------------------------------
@never_cache
@xframe_options_sameorigin  # the admin's change page previews it in an <iframe>
@require_safe
def document_file(request: HttpRequest, document_id: int) -> FileResponse:
    """The stored file, inline, to its owner (the freelancer, or a vendor firm's owners and admins) and to staff
    who review compliance; 404 to everyone else."""
    try:
        document = services.document_get_for_file(document_id=document_id, user=request.user)
    except ComplianceDocument.DoesNotExist:
        raise Http404("No such document.") from None
    try:
        handle = private_storage.open(document.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this document is missing.") from None
    response = FileResponse(handle, content_type=document.content_type, filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    csp = FILE_CSP if document.content_type == "application/pdf" else f"{FILE_CSP}; sandbox"
    response["Content-Security-Policy"] = csp
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response
