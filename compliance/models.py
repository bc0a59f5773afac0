"""Compliance: the requirement catalogue (data, edited by ops), the documents people upload to meet it, sanctions
screening hits, worker-classification assessments, and the onboarding emails sent about them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.functional import LazyObject

from core.models import StatefulModel, TimeStampedModel, exactly_one_of


class _NoUrlFileSystemStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through the permission-checking view.")


class PrivateStorage(LazyObject):
    """Files outside MEDIA_ROOT and STATIC_ROOT with no URL: they are only ever served by the permission-checking
    document view."""

    def _setup(self) -> None:
        self._wrapped = _NoUrlFileSystemStorage(location=settings.PRIVATE_STORAGE_ROOT)


private_storage = PrivateStorage()


def private_storage_get() -> PrivateStorage:
    """The FileFields' storage as a callable: migrations then name this function instead of freezing the
    storage's location (a machine's path) into the migration."""
    return private_storage


class Requirement(TimeStampedModel):
    class Party(models.TextChoices):
        FREELANCER = "freelancer", "Freelancers"
        VENDOR = "vendor", "Vendor firms"
        ANY = "any", "Freelancers and vendor firms"

    class Evidence(models.TextChoices):
        DOCUMENT = "document", "An uploaded document, reviewed by ops"
        ASSESSMENT = "assessment", "A classification assessment of the engagement"

    ENGAGEMENT_KINDS = ("fixed", "hourly", "micro_task", "sow")
    FLAGS = ("handles_personal_data", "is_healthcare", "is_finance")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(help_text="Why it is needed, shown to the people who must meet it.")
    evidence = models.CharField(max_length=10, choices=Evidence.choices, default=Evidence.DOCUMENT)
    party = models.CharField(max_length=10, choices=Party.choices, default=Party.ANY)
    countries = ArrayField(
        models.CharField(max_length=2), default=list, blank=True, help_text="Only these countries (empty: all)."
    )
    excluded_countries = ArrayField(
        models.CharField(max_length=2), default=list, blank=True, help_text="Never these countries."
    )
    engagement_kinds = ArrayField(
        models.CharField(max_length=10),
        default=list,
        blank=True,
        help_text="Only these engagements: fixed, hourly, micro_task, sow (empty: any, and payouts).",
    )
    engagement_flags = ArrayField(
        models.CharField(max_length=24),
        default=list,
        blank=True,
        help_text="Only gigs or SOWs with one of these flags: handles_personal_data, is_healthcare, is_finance.",
    )
    min_weekly_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hourly contracts with a weekly cap of at least this many hours…"
    )
    min_duration_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="…or planned to last at least this many weeks."
    )
    blocks_activation = models.BooleanField(default=True)
    blocks_payout = models.BooleanField(default=False)
    validity_days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: an approval never expires.")
    asks_tax_id = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_engagement_specific(self) -> bool:
        return bool(self.engagement_kinds or self.engagement_flags or self.min_weekly_hours or self.min_duration_weeks)


class ComplianceDocument(StatefulModel):
    """A document a freelancer or vendor firm uploads for a requirement. Checked by content, stored privately
    with its SHA-256, reviewed by ops."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    TRANSITIONS = {
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED},
        Status.REJECTED: {Status.SUBMITTED},  # the one appeal
        Status.APPROVED: {Status.EXPIRED},
    }

    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="documents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="compliance_documents"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="compliance_documents"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(
        storage=private_storage_get,  # type: ignore[arg-type]  # returns a lazy Storage
        upload_to="compliance/%Y/%m/",
        max_length=300,
    )
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    tax_id_encrypted = models.TextField(blank=True)
    tax_id_last4 = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    rejection_reason = models.TextField(blank=True)
    appeal_comment = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("review_compliance", "Can review compliance documents, screening hits and assessments")]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("user", "organization"), name="document_one_owner")
        ]

    def __str__(self) -> str:
        return f"{self.requirement} · {self.user or self.organization} · {self.get_status_display()}"


class ScreeningHit(TimeStampedModel):
    """A possible match of a person's or firm's name on the bundled sanctions list. Never a rejection by itself:
    ops decide, and until then the party is blocked."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        CLEARED = "cleared", "Cleared (not the listed party)"
        CONFIRMED = "confirmed", "Confirmed match"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="screening_hits"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="screening_hits"
    )
    screened_name = models.CharField(max_length=200)
    listed_name = models.CharField(max_length=200)
    list_entry_id = models.CharField(max_length=40)
    list_source = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=4, decimal_places=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    decision_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("user", "organization"), name="screening_hit_one_subject"),
            models.UniqueConstraint(
                fields=["user", "organization", "list_entry_id", "screened_name"],
                nulls_distinct=False,
                name="screening_hit_once_per_name_and_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.screened_name} ~ {self.listed_name} ({self.score})"


class ClassificationAssessment(TimeStampedModel):
    """How much an hourly engagement looks like employment, from its actual terms, with the factors shown."""

    class Risk(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        NOT_NEEDED = "not_needed", "No sign-off needed"
        PENDING = "pending", "Waiting for ops sign-off"
        SIGNED_OFF = "signed_off", "Signed off"
        REJECTED = "rejected", "Rejected"

    contract = models.OneToOneField(
        "engagements.Contract", on_delete=models.CASCADE, related_name="classification_assessment"
    )
    score = models.PositiveSmallIntegerField()
    risk = models.CharField(max_length=6, choices=Risk.choices)
    factors = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    decision_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Contract {self.contract_id}: {self.get_risk_display()} risk ({self.score})"


class OnboardingEmail(models.Model):
    """Each onboarding email is sent once: the unique key is claimed before sending."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="onboarding_emails")
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.key


class SanctionsEntry(models.Model):
    """One name on the sanctions list: a listed party's primary name or one of its aliases (one row each, so every
    name is matched on its own). Loaded from compliance/data/sanctions.csv by migration 0004, replaced as a whole by
    `manage.py sanctions_load`; screening compares names against `normalized_name` with pg_trgm."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        ENTITY = "entity", "Entity"
        VESSEL = "vessel", "Vessel"
        AIRCRAFT = "aircraft", "Aircraft"

    list_entry_id = models.CharField(max_length=40, db_index=True, help_text="The list's own id (OFAC: ent_num).")
    name = models.CharField(max_length=350)
    normalized_name = models.CharField(
        max_length=350, editable=False, help_text="unaccent, lower case, punctuation stripped (set by the loader)."
    )
    primary_name = models.CharField(max_length=350)
    is_alias = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    programs = models.CharField(max_length=300, blank=True)
    remarks = models.TextField(blank=True)
    list_source = models.CharField(max_length=200)
    list_date = models.DateField()
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["primary_name", "is_alias", "name"]
        verbose_name_plural = "sanctions entries"
        indexes = [GinIndex(fields=["normalized_name"], opclasses=["gin_trgm_ops"], name="sanctions_name_trgm")]
        constraints = [models.UniqueConstraint(fields=["list_entry_id", "name"], name="sanctions_entry_name_once")]

    def __str__(self) -> str:
        if self.is_alias:
            return f"{self.name} (a.k.a. of {self.primary_name})"
        return f"{self.name} ({self.list_entry_id})"


class DataExportRequest(StatefulModel):
    """A person's request for a copy of their personal data: a zip built by a Celery task, kept in private storage
    and downloadable by its owner, with the emailed token, until it expires (then the file is deleted)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    TRANSITIONS = {
        Status.PENDING: {Status.READY, Status.FAILED},
        Status.READY: {Status.EXPIRED},
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_export_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    file = models.FileField(
        storage=private_storage_get,  # type: ignore[arg-type]  # returns a lazy Storage
        upload_to="exports/%Y/%m/",
        max_length=300,
        blank=True,
    )
    download_token_hash = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 of the emailed token; the token itself is not kept.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="data_export_one_pending_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"Data export {self.pk} · {self.get_status_display()}"


class ErasureRequest(StatefulModel):
    """A person's request to be forgotten. Ops confirm it in the admin; a Celery task then anonymises the person's
    data across all apps (compliance.services.data_rights) and marks it done."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CONFIRMED = "confirmed", "Confirmed by ops"
        DECLINED = "declined", "Declined by ops"
        DONE = "done", "Erased"

    TRANSITIONS = {
        Status.REQUESTED: {Status.CONFIRMED, Status.DECLINED},
        Status.CONFIRMED: {Status.DONE},
    }
    OPEN_STATUSES = (Status.REQUESTED, Status.CONFIRMED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="What was erased, deleted and kept, per model.")

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["requested", "confirmed"]),
                name="erasure_one_open_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Erasure request {self.pk} (user {self.user_id}) · {self.get_status_display()}"
