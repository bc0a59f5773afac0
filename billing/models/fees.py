"""Marketplace fees: the client pays a marketplace fee on top of the work's price; the freelancer or vendor pays
a service fee out of it. The platform default is the row without an organisation; finance staff can give an
organisation its own rates (a client's marketplace fee, a vendor's service fee)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class FeeRate(TimeStampedModel):
    organization = models.OneToOneField(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fee_rate",
        help_text="Empty: the platform default.",
    )
    client_fee_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("5"), help_text="Charged to the client on top of the work."
    )
    worker_fee_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("10"), help_text="Kept from what the worker earns."
    )
    note = models.CharField(max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], nulls_distinct=False, name="fee_rate_one_per_owner"),
            models.CheckConstraint(
                condition=models.Q(client_fee_pct__gte=0, client_fee_pct__lte=50)
                & models.Q(worker_fee_pct__gte=0, worker_fee_pct__lte=50),
                name="fee_rate_percentages_0_50",
            ),
        ]

    def __str__(self) -> str:
        owner = self.organization or "Platform default"
        return f"{owner}: client {self.client_fee_pct} %, worker {self.worker_fee_pct} %"
