"""Compliance admin for ops: the review queues (documents waiting for review, open screening hits, high-risk
classification assessments awaiting sign-off), oldest first, with their decisions, and the requirement catalogue.

Decisions go through the services (compliance.services.documents, compliance.services.checks), so they are checked
and audited; the rows themselves are never edited by hand. Deciding needs `compliance.review_compliance` (the
"Compliance reviewers" group; superusers): others see no decision actions, and the services refuse them anyway.
Each item's change page shows its history, read from the audit trail, and a document's page previews the file
through the permission-checked view (compliance.views.document_file); documents never have a public URL.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from compliance.forms import DecisionNoteForm, RejectionForm, RequirementAdminForm
from compliance.models import ClassificationAssessment, ComplianceDocument, Requirement, ScreeningHit
from compliance.services.documents import (
    BulkResult,
    documents_approve_bulk,
    documents_reject_bulk,
    user_is_reviewer,
)
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

ALL = "all"
FROM_CHANGE_PAGE = "_from_change_page"  # posted by the decision buttons of a change page: go back there


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReviewQueueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only rows decided by actions; reviewers may see them even without the model's view permission."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or user_is_reviewer(user=request.user)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return user_is_reviewer(user=request.user)

    @admin.display(description="Age", ordering="created_at")
    def age(self, row: Any) -> str:
        return timesince(row.created_at)

    @admin.display(description="History")
    def history(self, row: Any) -> SafeString:
        return audit_history(row)

    def _confirmation(self, request: HttpRequest, title: str, **context: Any) -> TemplateResponse:
        """The intermediate page of a decision that needs a reason or note (posted back to the action)."""
        return TemplateResponse(
            request,
            "admin/compliance/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "from_change_page": request.POST.get(FROM_CHANGE_PAGE, ""),
                **context,
            },
        )

    def _back(self, request: HttpRequest, queryset: QuerySet) -> HttpResponseRedirect | None:
        """After a decision from a change page, back to that page; from the list, back to the list (None)."""
        if request.POST.get(FROM_CHANGE_PAGE) and queryset.count() == 1:
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[queryset.get().pk])
            )
        return None


def audit_history(row: Model) -> SafeString:
    """The item's audit events, oldest first: who did what, from which state to which, and why."""
    events = AuditEvent.objects.filter(target_type=row._meta.label_lower, target_id=str(row.pk)).order_by("id")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{event.created_at:%Y-%m-%d %H:%M}",
                event.actor_label,
                event.action,
                f"{event.from_state or '—'} → {event.to_state}" if event.to_state else "",
                _event_detail(event.data),
            )
            for event in events
        ),
    )
    if not rows:
        return format_html("<p>{}</p>", "No recorded events.")
    return format_html(
        "<table><thead><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Status</th><th>Details</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        rows,
    )


def _event_detail(data: dict[str, Any]) -> str:
    shown = ("reason", "note", "decision", "requirement", "expires_at", "size", "content_type", "sha256")
    return "; ".join(f"{key}: {data[key]}" for key in shown if data.get(key) not in (None, ""))


class QueueStatusFilter(admin.SimpleListFilter):
    """Status, opening on the items waiting for a decision (`?status=all` shows every item)."""

    title = "status"
    parameter_name = "status"
    default = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*model_admin.model.Status.choices, (ALL, "All")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or self.default
        return queryset if value == ALL else queryset.filter(status=value)

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        current = self.value() or self.default
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def _report(model_admin: admin.ModelAdmin, request: HttpRequest, result: BulkResult, verb: str) -> None:
    if result.done:
        model_admin.message_user(request, f"{verb} {len(result.done)} document(s).", messages.SUCCESS)
    for document_id, reason in result.refused.items():
        model_admin.message_user(request, f"Document {document_id}: {reason}", messages.ERROR)


def _audit_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


# --- requirements (the catalogue) ---------------------------------------------------------------------------------
@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    form = RequirementAdminForm
    list_display = (
        "name",
        "code",
        "evidence",
        "party",
        "countries_display",
        "blocks_activation",
        "blocks_payout",
        "validity_days",
        "asks_tax_id",
        "is_active",
    )
    list_filter = ("is_active", "evidence", "party", "blocks_activation", "blocks_payout")
    search_fields = ("name", "code", "description")
    ordering = ("name",)
    readonly_fields = ("history", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "code", "description", "evidence", "is_active")}),
        ("Who needs it", {"fields": ("party", "countries", "excluded_countries")}),
        (
            "For which engagements",
            {
                "fields": ("engagement_kinds", "engagement_flags", "min_weekly_hours", "min_duration_weeks"),
                "description": "Leave all four empty for a requirement that applies in general (payouts and the "
                "checklist). With hours or weeks set, it applies when either threshold is reached.",
            },
        ),
        ("What it holds up", {"fields": ("blocks_activation", "blocks_payout", "validity_days", "asks_tax_id")}),
        ("History", {"fields": ("history", "created_at", "updated_at")}),
    )

    @admin.display(description="Countries")
    def countries_display(self, requirement: Requirement) -> str:
        if requirement.countries:
            return ", ".join(requirement.countries)
        if requirement.excluded_countries:
            return f"all but {', '.join(requirement.excluded_countries)}"
        return "all"

    @admin.display(description="History")
    def history(self, requirement: Requirement) -> SafeString:
        return audit_history(requirement) if requirement.pk else format_html("<p>{}</p>", "Not saved yet.")

    def _may_edit(self, request: HttpRequest, codename: str) -> bool:
        return request.user.has_perm(f"compliance.{codename}_requirement") or user_is_reviewer(user=request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or user_is_reviewer(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_edit(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._may_edit(request, "change")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # documents point at requirements; retire one with is_active instead

    def save_model(self, request: HttpRequest, obj: Requirement, form: forms.ModelForm, change: bool) -> None:
        # The catalogue has no service of its own: its changes are recorded here, in the admin's transaction.
        changes = {
            name: {"from": _audit_value(form.initial.get(name)), "to": _audit_value(form.cleaned_data.get(name))}
            for name in form.changed_data
        }
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action="requirement.changed" if change else "requirement.created",
            target=obj,
            data={"code": obj.code, "changes": changes},
        )


# --- documents ------------------------------------------------------------------------------------------------------
class DocumentStatusFilter(QueueStatusFilter):
    default = ComplianceDocument.Status.SUBMITTED


class PartyKindFilter(admin.SimpleListFilter):
    title = "party"
    parameter_name = "party"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("freelancer", "Freelancers"), ("vendor", "Vendor firms")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "freelancer":
            return queryset.filter(user__isnull=False)
        if self.value() == "vendor":
            return queryset.filter(organization__isnull=False)
        return queryset


@admin.register(ComplianceDocument)
class ComplianceDocumentAdmin(ReviewQueueAdmin):
    list_display = (
        "id",
        "requirement",
        "owner",
        "party_kind",
        "status",
        "appealed",
        "age",
        "original_name",
        "preview_link",
        "reviewed_by",
    )
    list_display_links = ("id", "requirement")
    list_filter = (DocumentStatusFilter, "requirement", PartyKindFilter)
    list_select_related = ("requirement", "user", "organization", "reviewed_by")
    search_fields = ("user__email", "user__full_name", "organization__name", "original_name", "=sha256")
    ordering = ("created_at", "pk")  # oldest first: the queue is worked by age
    show_facets = admin.ShowFacets.NEVER
    actions = ("approve_documents", "reject_documents")
    change_form_template = "admin/compliance/compliancedocument/change_form.html"
    readonly_fields = (
        "requirement",
        "owner",
        "party_kind",
        "status",
        "uploaded_by",
        "created_at",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "preview",
        "tax_id",
        "rejection_reason",
        "appeal_comment",
        "appealed_at",
        "reviewed_by",
        "reviewed_at",
        "expires_at",
        "history",
    )
    fieldsets = (
        (None, {"fields": ("requirement", "owner", "party_kind", "status", "uploaded_by", "created_at")}),
        ("File", {"fields": ("preview", "original_name", "content_type", "size", "sha256", "tax_id")}),
        (
            "Review",
            {
                "fields": (
                    "rejection_reason",
                    "appeal_comment",
                    "appealed_at",
                    "reviewed_by",
                    "reviewed_at",
                    "expires_at",
                )
            },
        ),
        ("History", {"fields": ("history",)}),
    )

    @admin.display(description="Owner")
    def owner(self, document: ComplianceDocument) -> str:
        return str(document.organization or document.user)

    @admin.display(description="Party")
    def party_kind(self, document: ComplianceDocument) -> str:
        return "Vendor firm" if document.organization_id else "Freelancer"

    @admin.display(description="Appeal", boolean=True)
    def appealed(self, document: ComplianceDocument) -> bool:
        return document.appealed_at is not None

    @admin.display(description="File")
    def preview_link(self, document: ComplianceDocument) -> SafeString:
        url = reverse("compliance:document_file", args=[document.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">Open</a>', url)

    @admin.display(description="Preview")
    def preview(self, document: ComplianceDocument) -> SafeString:
        url = reverse("compliance:document_file", args=[document.pk])
        link = format_html('<p><a href="{}" target="_blank" rel="noopener">Open in a new tab</a></p>', url)
        if document.content_type == "application/pdf":
            frame = format_html(
                '<iframe src="{}" title="{}" width="100%" height="640" style="border:1px solid #ccc"></iframe>',
                url,
                document.original_name,
            )
        else:
            frame = format_html(
                '<img src="{}" alt="{}" style="max-width:100%; max-height:640px; border:1px solid #ccc">',
                url,
                document.original_name,
            )
        return format_html("{}{}", link, frame)

    @admin.display(description="Taxpayer id")
    def tax_id(self, document: ComplianceDocument) -> str:
        # The full id is never shown, here neither: it is stored encrypted, and only its last 4 in the clear.
        return f"ending in {document.tax_id_last4}" if document.tax_id_last4 else "—"

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "may_review": self.has_review_permission(request),
            "changelist_url": reverse("admin:compliance_compliancedocument_changelist") + f"?status={ALL}",
            "from_change_page": FROM_CHANGE_PAGE,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.action(description="Approve", permissions=["review"])
    def approve_documents(self, request: HttpRequest, queryset: QuerySet[ComplianceDocument]) -> HttpResponse | None:
        ids = list(queryset.values_list("pk", flat=True))
        result = documents_approve_bulk(document_ids=ids, by=request.user)  # type: ignore[arg-type]
        _report(self, request, result, "Approved")
        return self._back(request, queryset)

    @admin.action(description="Reject with reason", permissions=["review"])
    def reject_documents(self, request: HttpRequest, queryset: QuerySet[ComplianceDocument]) -> HttpResponse | None:
        pending = queryset.filter(status=ComplianceDocument.Status.SUBMITTED).select_related(
            "requirement", "user", "organization"
        )
        form = RejectionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            ids = list(pending.values_list("pk", flat=True))
            reason = form.cleaned_data["reason"]
            try:
                result = documents_reject_bulk(document_ids=ids, by=request.user, reason=reason)  # type: ignore[arg-type]
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            _report(self, request, result, "Rejected")
            return self._back(request, queryset)
        if not pending.exists():
            self.message_user(request, "None of the selected documents is waiting for review.", messages.WARNING)
            return self._back(request, queryset)
        return self._confirmation(
            request,
            "Reject with reason",
            items=[f"#{d.pk} · {d.requirement} · {d.organization or d.user} · {d.original_name}" for d in pending],
            ids=[d.pk for d in pending],
            skipped=queryset.count() - len(pending),
            form=form,
            action="reject_documents",
            submit="Reject",
        )


# --- screening hits and classification assessments (services in compliance/services/checks.py) ------------------------
def _checks_service(name: str) -> Callable[..., Any] | None:
    """A decision service of compliance.services.checks, or None while that module (another change) lacks it."""
    try:
        module = importlib.import_module("compliance.services.checks")
    except ModuleNotFoundError:
        return None
    service = getattr(module, name, None)
    return service if callable(service) else None


class CheckDecisionAdmin(ReviewQueueAdmin):
    """Actions that decide screening hits or assessments one by one through a checks service, with a note."""

    service_name = ""
    id_argument = ""

    def _decide(
        self, request: HttpRequest, queryset: QuerySet, *, decision: str, title: str, action: str
    ) -> HttpResponse | None:
        service = _checks_service(self.service_name)
        if service is None:
            self.message_user(
                request, f"Deciding is not available yet ({self.service_name} is missing).", messages.ERROR
            )
            return None
        pending = queryset.filter(status=self.model.Status.PENDING)  # type: ignore[attr-defined]
        form = DecisionNoteForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            decided = 0
            for row in pending.order_by("pk"):
                try:
                    service(
                        **{self.id_argument: row.pk},
                        by=request.user,
                        decision=decision,
                        note=form.cleaned_data["note"],
                    )
                    decided += 1
                except (ApplicationError, PermissionDenied, ObjectDoesNotExist) as error:
                    message = getattr(error, "message", None) or str(error) or "Not allowed."
                    self.message_user(request, f"{row}: {message}", messages.ERROR)
            if decided:
                self.message_user(request, f"{title}: {decided} item(s).", messages.SUCCESS)
            return self._back(request, queryset)
        if not pending.exists():
            self.message_user(request, "None of the selected items is waiting for a decision.", messages.WARNING)
            return self._back(request, queryset)
        return self._confirmation(
            request,
            title,
            items=[str(row) for row in pending],
            ids=[row.pk for row in pending],
            skipped=queryset.count() - pending.count(),
            form=form,
            action=action,
            submit=title,
        )


class HitStatusFilter(QueueStatusFilter):
    default = ScreeningHit.Status.PENDING


@admin.register(ScreeningHit)
class ScreeningHitAdmin(CheckDecisionAdmin):
    service_name = "screening_hit_decide"
    id_argument = "hit_id"
    list_display = ("screened_name", "listed_name", "score", "subject", "list_source", "status", "age", "reviewed_by")
    list_filter = (HitStatusFilter, "list_source")
    list_select_related = ("user", "organization", "reviewed_by")
    search_fields = ("screened_name", "listed_name", "=list_entry_id", "user__email", "organization__name")
    ordering = ("created_at", "pk")
    show_facets = admin.ShowFacets.NEVER
    actions = ("clear_hits", "confirm_hits")
    readonly_fields = (
        "subject",
        "screened_name",
        "listed_name",
        "list_entry_id",
        "list_source",
        "score",
        "status",
        "decision_note",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "history",
    )
    fields = readonly_fields

    @admin.display(description="Person or firm")
    def subject(self, hit: ScreeningHit) -> str:
        return str(hit.organization or hit.user)

    @admin.action(description="Clear (not the listed party)", permissions=["review"])
    def clear_hits(self, request: HttpRequest, queryset: QuerySet[ScreeningHit]) -> HttpResponse | None:
        return self._decide(request, queryset, decision=ScreeningHit.Status.CLEARED, title="Clear", action="clear_hits")

    @admin.action(description="Confirm the match", permissions=["review"])
    def confirm_hits(self, request: HttpRequest, queryset: QuerySet[ScreeningHit]) -> HttpResponse | None:
        return self._decide(
            request, queryset, decision=ScreeningHit.Status.CONFIRMED, title="Confirm", action="confirm_hits"
        )


class AssessmentStatusFilter(QueueStatusFilter):
    default = ClassificationAssessment.Status.PENDING


@admin.register(ClassificationAssessment)
class ClassificationAssessmentAdmin(CheckDecisionAdmin):
    service_name = "classification_decide"
    id_argument = "assessment_id"
    list_display = ("contract_link", "risk", "score", "status", "age", "reviewed_by")
    list_filter = (AssessmentStatusFilter, "risk")
    list_select_related = ("contract__organization", "contract__freelancer", "contract__vendor", "reviewed_by")
    search_fields = ("=contract__id", "contract__organization__name", "contract__freelancer__email")
    ordering = ("created_at", "pk")
    show_facets = admin.ShowFacets.NEVER
    actions = ("sign_off_assessments", "reject_assessments")
    readonly_fields = (
        "contract_link",
        "risk",
        "score",
        "factor_list",
        "status",
        "decision_note",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "history",
    )
    fields = readonly_fields

    @admin.display(description="Contract", ordering="contract_id")
    def contract_link(self, assessment: ClassificationAssessment) -> str:
        return str(assessment.contract)

    @admin.display(description="Factors")
    def factor_list(self, assessment: ClassificationAssessment) -> SafeString:
        factors = assessment.factors if isinstance(assessment.factors, list) else []
        items = format_html_join(
            "",
            "<li>{}</li>",
            ((_factor_text(factor),) for factor in factors),
        )
        return format_html("<ul>{}</ul>", items) if factors else format_html("{}", "—")

    @admin.action(description="Sign off", permissions=["review"])
    def sign_off_assessments(
        self, request: HttpRequest, queryset: QuerySet[ClassificationAssessment]
    ) -> HttpResponse | None:
        return self._decide(
            request,
            queryset,
            decision=ClassificationAssessment.Status.SIGNED_OFF,
            title="Sign off",
            action="sign_off_assessments",
        )

    @admin.action(description="Reject", permissions=["review"])
    def reject_assessments(
        self, request: HttpRequest, queryset: QuerySet[ClassificationAssessment]
    ) -> HttpResponse | None:
        return self._decide(
            request,
            queryset,
            decision=ClassificationAssessment.Status.REJECTED,
            title="Reject",
            action="reject_assessments",
        )


def _factor_text(factor: Any) -> str:
    """One factor of compliance.services.checks (label, explanation, points), as a line."""
    if not isinstance(factor, dict):
        return str(factor)
    label = factor.get("label") or factor.get("code") or ""
    explanation = factor.get("explanation") or ""
    points = factor.get("points")
    text = f"{label}: {explanation}" if label and explanation else str(label or explanation)
    return f"{text} (+{points} points)" if points not in (None, "") else text


from compliance import admin_data_rights  # noqa: E402,F401  (screening list, exports, erasure requests)
