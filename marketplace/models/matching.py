from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import exactly_one_of


class Match(models.Model):
    """A ranked recommendation of a freelancer or vendor for a gig, with the score of each factor."""

    gig = models.ForeignKey("marketplace.Gig", on_delete=models.CASCADE, related_name="matches")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="matches"
    )
    vendor = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="matches"
    )
    rank = models.PositiveIntegerField()
    score = models.DecimalField(max_digits=7, decimal_places=4)
    factors = models.JSONField(default=dict, help_text="Per-factor contributions, shown to the client.")
    computed_at = models.DateTimeField(auto_now=True)
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["gig", "rank"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("freelancer", "vendor"),
                name="match_freelancer_xor_vendor",
            ),
            models.UniqueConstraint(
                fields=["gig", "freelancer"],
                condition=models.Q(freelancer__isnull=False),
                name="match_freelancer_unique",
            ),
            models.UniqueConstraint(
                fields=["gig", "vendor"], condition=models.Q(vendor__isnull=False), name="match_vendor_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.rank} for gig {self.gig_id}: {self.freelancer or self.vendor}"
