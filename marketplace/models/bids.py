from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import StatefulModel, TimeStampedModel, exactly_one_of
from core.money import AmountField, CurrencyField

LIVE_BID_STATUSES = ("submitted", "shortlisted", "accepted")

_freelancer_xor_vendor = exactly_one_of("freelancer", "vendor")


class Bid(StatefulModel):
    """An offer on a gig from a freelancer or from a vendor firm (with a proposed team)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        SHORTLISTED = "shortlisted", "Shortlisted"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    TRANSITIONS = {
        Status.SUBMITTED: {Status.SHORTLISTED, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN},
        Status.SHORTLISTED: {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN},
    }

    gig = models.ForeignKey("marketplace.Gig", on_delete=models.CASCADE, related_name="bids")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="bids"
    )
    vendor = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="bids"
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    currency = CurrencyField()
    amount = AmountField(null=True, blank=True, help_text="Total price for fixed-price gigs.")
    hourly_rate = AmountField(null=True, blank=True)
    estimated_hours = models.PositiveIntegerField(null=True, blank=True)
    cover_letter = models.TextField()
    screening_answers = models.JSONField(default=list, blank=True)
    is_outside_guardrail = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=_freelancer_xor_vendor, name="bid_freelancer_xor_vendor"),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0), name="bid_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(hourly_rate__isnull=True) | models.Q(hourly_rate__gt=0),
                name="bid_hourly_rate_positive",
            ),
            # One live bid per bidder per gig.
            models.UniqueConstraint(
                fields=["gig", "freelancer"],
                condition=models.Q(status__in=LIVE_BID_STATUSES, freelancer__isnull=False),
                name="bid_one_live_per_freelancer",
            ),
            models.UniqueConstraint(
                fields=["gig", "vendor"],
                condition=models.Q(status__in=LIVE_BID_STATUSES, vendor__isnull=False),
                name="bid_one_live_per_vendor",
            ),
            # Second line behind the gig row lock: a gig hires once.
            models.UniqueConstraint(
                fields=["gig"], condition=models.Q(status="accepted"), name="bid_one_accepted_per_gig"
            ),
        ]

    def __str__(self) -> str:
        return f"Bid by {self.bidder_label} on {self.gig_id}"

    @property
    def bidder_label(self) -> str:
        if self.vendor_id:
            return str(self.vendor)
        return self.freelancer.get_full_name() if self.freelancer else ""


class BidTeamMember(models.Model):
    """A vendor's team member proposed on a bid, at a rate taken from the vendor's rate card."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="team")
    team_member = models.ForeignKey("talent.VendorTeamMember", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=100)
    rate = AmountField()
    currency = CurrencyField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "team_member"], name="bid_team_member_unique")]

    def __str__(self) -> str:
        return f"{self.team_member} as {self.role}"


class Invitation(TimeStampedModel):
    """A client asks a freelancer or vendor to bid (from matches or a pool)."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        BID = "bid", "Bid placed"
        DECLINED = "declined", "Declined"

    gig = models.ForeignKey("marketplace.Gig", on_delete=models.CASCADE, related_name="invitations")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    vendor = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=_freelancer_xor_vendor, name="invitation_freelancer_xor_vendor"),
            models.UniqueConstraint(
                fields=["gig", "freelancer"],
                condition=models.Q(freelancer__isnull=False),
                name="invitation_freelancer_unique",
            ),
            models.UniqueConstraint(
                fields=["gig", "vendor"], condition=models.Q(vendor__isnull=False), name="invitation_vendor_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.freelancer or self.vendor} for gig {self.gig_id}"
