from typing import Any

from django.apps import AppConfig


def _hold_payouts_after_email_change(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """allauth announces a changed primary email only by signal; the rule itself lives in the service."""
    from billing.services import payout_hold_start

    payout_hold_start(user=user)


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from allauth.account.signals import email_changed

        email_changed.connect(_hold_payouts_after_email_change, dispatch_uid="billing_hold_payouts_after_email_change")
