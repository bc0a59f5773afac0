from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import TimeStampedModel


class Review(TimeStampedModel):
    """One side's rating of the other after a contract ends; hidden until both sides reviewed or 14 days passed."""

    class Side(models.TextChoices):
        CLIENT = "client", "Client reviews the worker"
        WORKER = "worker", "Worker reviews the client"

    contract = models.ForeignKey("engagements.Contract", on_delete=models.CASCADE, related_name="reviews")
    side = models.CharField(max_length=6, choices=Side.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "side"], name="review_one_per_side"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ on contract {self.contract_id} ({self.side})"
