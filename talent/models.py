from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as django_timezone

from core.countries import COUNTRY_CHOICES
from core.models import TimeStampedModel, exactly_one_of
from core.money import AmountField, CurrencyField

# A certification this close to its expiry date is flagged on the vendor's pages.
EXPIRING_SOON_DAYS = 60

SKILL_LEVELS = [
    (1, "1 · Beginner"),
    (2, "2 · Working knowledge"),
    (3, "3 · Proficient"),
    (4, "4 · Advanced"),
    (5, "5 · Expert"),
]


class Skill(TimeStampedModel):
    """One entry of the skill taxonomy (seeded from talent/data/skills.json)."""

    class Category(models.TextChoices):
        SOFTWARE = "software", "Software development"
        DATA = "data", "Data and analytics"
        DESIGN = "design", "Design"
        MARKETING = "marketing", "Marketing"
        CUSTOMER_SUPPORT = "customer_support", "Customer support"
        BPO = "bpo", "Back-office (BPO)"
        TRANSLATION = "translation", "Translation and localisation"
        DATA_LABELLING = "data_labelling", "Data labelling"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    synonyms = ArrayField(models.CharField(max_length=100), default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TalentProfile(TimeStampedModel):
    """A freelancer's public face on the marketplace. Created at sign-up; filled in by the freelancer."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: any client can find me"
        CLIENTS = "clients", "Signed-in clients only"
        PRIVATE = "private", "Hidden: only clients I bid for"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="talent_profile")
    headline = models.CharField(max_length=160, blank=True)
    bio = models.TextField(blank=True)
    hourly_rate = AmountField(null=True, blank=True)
    currency = CurrencyField()
    weekly_hours = models.PositiveSmallIntegerField(
        default=40, validators=[MaxValueValidator(80)], help_text="Hours a week you can take on."
    )
    country = models.CharField(max_length=2, blank=True, choices=COUNTRY_CHOICES)
    timezone = models.CharField(max_length=64, default="UTC")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    languages = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    skills = models.ManyToManyField(Skill, through="ProfileSkill", related_name="profiles")
    # Headline (weight A) and bio (B) for matching's text relevance, kept up to date by talent.services.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # Skill ids as an array too, GIN-indexed, so matching ranks 100,000 profiles in one query.
    skill_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Derived stats, kept up to date by talent.services (reviews, contracts); never edited by hand.
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)
    completed_contracts = models.PositiveIntegerField(default=0)
    on_time_contracts = models.PositiveIntegerField(default=0)
    active_contracts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hourly_rate__isnull=True) | models.Q(hourly_rate__gt=0),
                name="talent_profile_hourly_rate_positive",
            ),
            models.CheckConstraint(condition=models.Q(weekly_hours__lte=80), name="talent_profile_weekly_hours_max_80"),
        ]
        indexes = [GinIndex(fields=["skill_ids"], name="talent_profile_skill_ids_gin")]

    @property
    def rating(self) -> Decimal | None:
        """Average rating (1-5) or None before the first review."""
        if not self.rating_count:
            return None
        return (Decimal(self.rating_sum) / self.rating_count).quantize(Decimal("0.01"))

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.completed_contracts:
            return None
        return (Decimal(self.on_time_contracts) * 100 / self.completed_contracts).quantize(Decimal("0.1"))

    def __str__(self) -> str:
        return f"{self.user.get_full_name()} · {self.headline or 'freelancer'}"

    @property
    def skills_display(self) -> list[str]:
        """Skill names, strongest first (uses the prefetched `profile_skills` when present)."""
        ranked = sorted(self.profile_skills.all(), key=lambda ps: (-ps.level, ps.skill.name))
        return [ps.skill.name for ps in ranked]


class ProfileSkill(models.Model):
    profile = models.ForeignKey(TalentProfile, on_delete=models.CASCADE, related_name="profile_skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="profile_skills")
    level = models.PositiveSmallIntegerField(
        choices=SKILL_LEVELS, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(60)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "skill"], name="profile_skill_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="profile_skill_level_1_5"),
            models.CheckConstraint(condition=models.Q(years__lte=60), name="profile_skill_years_max_60"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} (level {self.level})"


class PortfolioItem(TimeStampedModel):
    profile = models.ForeignKey(TalentProfile, on_delete=models.CASCADE, related_name="portfolio_items")
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class VendorProfile(TimeStampedModel):
    """A vendor organisation's public face: what the firm does, where, how big, with which certifications."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="vendor_profile"
    )
    headline = models.CharField(max_length=160, blank=True)
    description = models.TextField(blank=True)
    service_lines = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    headcount = models.PositiveIntegerField(default=1)
    countries_served = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    capabilities = models.ManyToManyField(Skill, through="VendorCapability", related_name="vendors")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(headcount__gte=1), name="vendor_profile_headcount_1")]

    def __str__(self) -> str:
        return f"{self.organization} (vendor profile)"


class VendorCapability(models.Model):
    vendor = models.ForeignKey(VendorProfile, on_delete=models.CASCADE, related_name="vendor_capabilities")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="vendor_capabilities")
    level = models.PositiveSmallIntegerField(
        default=3, choices=SKILL_LEVELS, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "skill"], name="vendor_capability_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="vendor_capability_level_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} (level {self.level})"


class VendorCertification(TimeStampedModel):
    vendor = models.ForeignKey(VendorProfile, on_delete=models.CASCADE, related_name="certifications")
    name = models.CharField(max_length=120, help_text="e.g. ISO 27001, SOC 2 Type II")
    issuer = models.CharField(max_length=120, blank=True)
    issued_date = models.DateField(null=True, blank=True)
    expires_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued_date__isnull=True)
                | models.Q(expires_date__isnull=True)
                | models.Q(expires_date__gte=models.F("issued_date")),
                name="vendor_certification_expires_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def expiry_status(self) -> str:
        return self.expiry_status_on(django_timezone.localdate())

    def expiry_status_on(self, today: date) -> str:
        """One of "expired", "expiring" (within EXPIRING_SOON_DAYS of `today`), "valid" or "no_expiry"."""
        if self.expires_date is None:
            return "no_expiry"
        if self.expires_date < today:
            return "expired"
        if (self.expires_date - today).days <= EXPIRING_SOON_DAYS:
            return "expiring"
        return "valid"


class RateCardEntry(TimeStampedModel):
    """One line of a vendor's rate card: a role at a seniority for an hourly or monthly rate."""

    class Seniority(models.TextChoices):
        JUNIOR = "junior", "Junior"
        MID = "mid", "Mid-level"
        SENIOR = "senior", "Senior"
        LEAD = "lead", "Lead"

    class Unit(models.TextChoices):
        HOUR = "hour", "per hour"
        MONTH = "month", "per month"

    vendor = models.ForeignKey(VendorProfile, on_delete=models.CASCADE, related_name="rate_card")
    role = models.CharField(max_length=100)
    seniority = models.CharField(max_length=10, choices=Seniority.choices)
    rate = AmountField()
    currency = CurrencyField()
    unit = models.CharField(max_length=5, choices=Unit.choices, default=Unit.HOUR)

    class Meta:
        ordering = ["role", "seniority"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "role", "seniority", "unit"], name="rate_card_entry_unique"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_card_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.role} ({self.get_seniority_display()}): {self.rate} {self.currency} {self.get_unit_display()}"


class VendorTeamMember(TimeStampedModel):
    """A person of the vendor firm who can be proposed on bids (not necessarily a platform user)."""

    vendor = models.ForeignKey(VendorProfile, on_delete=models.CASCADE, related_name="team_members")
    full_name = models.CharField(max_length=150)
    title = models.CharField(max_length=120)
    rate_card_entry = models.ForeignKey(
        RateCardEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_members"
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="vendor_team_members")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} · {self.title}"


class TalentPool(TimeStampedModel):
    """A client's private pool mixing freelancers and vendor firms (the hybrid model)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="talent_pools")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="talent_pool_name_unique")]

    def __str__(self) -> str:
        return self.name


class TalentPoolMember(TimeStampedModel):
    """A freelancer (user) or a vendor (organisation) in a pool; exactly one of the two."""

    pool = models.ForeignKey(TalentPool, on_delete=models.CASCADE, related_name="members")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="pool_memberships"
    )
    vendor = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="pool_memberships"
    )
    notes = models.TextField(blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("freelancer", "vendor"),
                name="pool_member_freelancer_xor_vendor",
            ),
            models.UniqueConstraint(
                fields=["pool", "freelancer"],
                condition=models.Q(freelancer__isnull=False),
                name="pool_freelancer_unique",
            ),
            models.UniqueConstraint(
                fields=["pool", "vendor"], condition=models.Q(vendor__isnull=False), name="pool_vendor_unique"
            ),
        ]

    def __str__(self) -> str:
        if self.freelancer is not None:
            return self.freelancer.get_full_name()
        return str(self.vendor)
