from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from core.countries import COUNTRY_CHOICES
from core.models import TimeStampedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> User:
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Email is the login. Freelancers have a talent profile; clients and vendors act through
    organisations they are members of; ops staff are `is_staff` with a group per duty."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    country = models.CharField(max_length=2, blank=True, choices=COUNTRY_CHOICES, help_text="Country of residence.")
    timezone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the operations admin.")
    is_service_account = models.BooleanField(
        default=False,
        help_text="The member an organisation's API key acts as: never signs in, gets no email, is no person.",
    )
    date_joined = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        # Matching excludes inactive users by probing this tiny index instead of joining every user.
        indexes = [models.Index(fields=["id"], condition=models.Q(is_active=False), name="accounts_user_inactive")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name or self.email).split(" ")[0]

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Organization(TimeStampedModel):
    """A company on the marketplace: a client that hires, or a vendor firm that delivers outsourced work."""

    class Kind(models.TextChoices):
        CLIENT = "client", "Client"
        VENDOR = "vendor", "Vendor"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    country = models.CharField(max_length=2, blank=True, choices=COUNTRY_CHOICES)
    website = models.URLField(blank=True)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["client", "vendor"]), name="organization_kind_valid")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A user's place in an organisation. Owners and admins manage members and keys; finance pays and sees
    invoices; members do the day-to-day work."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        FINANCE = "finance", "Finance"

    MANAGER_ROLES: ClassVar[frozenset[str]] = frozenset({Role.OWNER, Role.ADMIN})

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        ordering = ["organization__name", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_user_organization_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "member", "finance"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} ({self.get_role_display()})"

    @property
    def can_manage(self) -> bool:
        return self.role in self.MANAGER_ROLES


API_SCOPE_AREAS = {
    "marketplace": "gigs, micro-tasks, bids, invitations and matches",
    "talent": "talent profiles, vendors and talent pools",
    "engagements": "contracts, milestones, timesheets, statements of work and SLAs",
    "billing": "invoices and payouts",
    "compliance": "compliance status and requirements",
    "audit": "the organisation's audit events",
    "webhooks": "webhook subscriptions and deliveries",
}
# Read-only areas: the API has nothing to write there.
API_READ_ONLY_AREAS = frozenset({"compliance", "audit"})
API_SCOPES = [
    (f"{area}:{access}", f"{'Read' if access == 'read' else 'Read and write'} {label}")
    for area, label in API_SCOPE_AREAS.items()
    for access in ("read", "write")
    if access == "read" or area not in API_READ_ONLY_AREAS
]


class ApiKey(TimeStampedModel):
    """A partner system's credential. Only its SHA-256 is stored; the full key is shown once, at creation.

    An organisation's key acts as a service-account member of that organisation (and of nothing else), so every
    selector scopes it exactly as it scopes a person; a freelancer's key acts as the freelancer. `scopes` limit
    the areas it may read or write (`<area>:read`, `<area>:write`; write includes read).
    """

    PREFIX_LENGTH = 8

    name = models.CharField(max_length=100, help_text="What uses the key, e.g. “HR system sync”.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, help_text="Shown to tell keys apart.")
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole key.")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys", help_text="Who the key acts as.")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    scopes = ArrayField(models.CharField(max_length=40), default=list)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: does not expire.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (tnd_{self.prefix}…)"

    @property
    def display_prefix(self) -> str:
        return f"tnd_{self.prefix}"

    def is_usable(self, *, now: Any) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def allows(self, *, area: str, write: bool) -> bool:
        return f"{area}:write" in self.scopes or (not write and f"{area}:read" in self.scopes)


# --- outgoing webhooks ---------------------------------------------------------------------------------------------

# The events a subscription may ask for (accounts/webhooks/ derives each from the audit trail).
WEBHOOK_EVENT_TYPES = {
    "gig.published": "A gig was published and is open for bids.",
    "bid.created": "A bid was placed on one of your gigs.",
    "bid.accepted": "A bid was accepted (a contract was created).",
    "contract.activated": "A contract became active.",
    "timesheet.submitted": "A week's timesheet was submitted for approval.",
    "timesheet.approved": "A timesheet was approved (by the client, or automatically).",
    "milestone.released": "A milestone's escrow was released to the worker.",
    "invoice.issued": "An invoice was issued.",
    "payout.paid": "A payout was paid.",
    "sla.breached": "A month's SLA evaluation found missed service levels.",
    "compliance.updated": "A compliance document, screening hit or worker classification was decided.",
}


class WebhookSubscription(models.Model):
    """A partner endpoint that receives signed POSTs for the chosen events: an organisation's (managed by its
    owners and admins) or, without an organisation, a freelancer's own."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        help_text="The freelancer whose own subscription this is (empty for an organisation's).",
    )
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=40), help_text="The event types delivered.")
    secret_encrypted = models.TextField(help_text="The signing secret, encrypted at rest (compliance/crypto.py).")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True, user__isnull=False)
                | models.Q(organization__isnull=False, user__isnull=True),
                name="webhook_subscription_organization_xor_user",
            )
        ]

    def __str__(self) -> str:
        # The host only: a URL's path or query may carry the receiver's own token (and labels reach the audit trail).
        return f"Webhook {self.pk} → {urlsplit(self.url).hostname or '?'}"


class WebhookDelivery(models.Model):
    """One event for one subscription: its payload, where its retries stand, and how it ended."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    event_id = models.UUIDField(help_text="The event's id in the payload: the same for every subscription.")
    audit_event_id = models.BigIntegerField(help_text="The audit event the webhook event was derived from.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "audit_event_id"], name="webhook_delivery_once_per_event"),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "succeeded", "failed"]), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            # What the retry sweep reads: pending deliveries by when they are due.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"), name="accounts_webhook_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The log of one POST of a delivery: when, the response code (none if no response), the error, how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=django_timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"


class WebhookDispatchCursor(models.Model):
    """A single row: the last audit-event sequence turned into deliveries (dispatch locks it)."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="webhook_dispatch_cursor_single_row")]

    def __str__(self) -> str:
        return f"Webhooks dispatched up to audit event #{self.last_sequence}"
