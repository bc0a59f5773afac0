from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.countries import COUNTRY_CHOICES
from core.models import TimeStampedModel
from core.money import AmountField, CurrencyField


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
    skills = models.ManyToManyField(Skill, through="ProfileSkill", related_name="profiles")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hourly_rate__isnull=True) | models.Q(hourly_rate__gt=0),
                name="talent_profile_hourly_rate_positive",
            )
        ]

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
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(60)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "skill"], name="profile_skill_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="profile_skill_level_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} (level {self.level})"
