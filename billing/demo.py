"""Demo money for seed_demo: payments go through the same Stripe flow as the product (PaymentIntent, card,
verified webhook). With no STRIPE_SECRET_KEY, seeding runs a Stripe stand-in in this process that keeps its
state in the file `make run`'s stand-in process loads, so the objects the demo created are there afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from django.conf import settings
from django.test.utils import override_settings

from billing.stripe_client import uses_standin

if TYPE_CHECKING:
    from accounts.models import User
    from billing.stripe_standin import StripeStandIn

Fund = Callable[[int, "User"], None]


class _DemoPayments:
    def __init__(self) -> None:
        self.standin: StripeStandIn | None = None
        self.stack = contextlib.ExitStack()

    def _start(self) -> StripeStandIn:
        if self.standin is None:
            from billing.stripe_client import _client
            from billing.stripe_standin import StripeStandIn

            standin = StripeStandIn(
                webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
                port=0,  # a free port: `make run`'s own stand-in may not be running yet, or may be
                state_file=settings.STRIPE_STANDIN_STATE_FILE or None,
                auto_deliver=False,
            )
            self.stack.enter_context(standin)
            self.stack.enter_context(override_settings(STRIPE_STANDIN_URL=standin.url))
            _client.cache_clear()
            self.stack.callback(_client.cache_clear)
            self.standin = standin
        return self.standin

    def fund(self, milestone_id: int, by: User) -> None:
        from billing.services import payment_confirm, stripe_event_process, stripe_event_record
        from engagements.services import milestone_fund

        standin = self._start()
        seen = {event["id"] for event in standin.events()}
        payment = milestone_fund(milestone_id=milestone_id, by=by)
        payment_confirm(payment_id=payment.pk, payment_method="pm_card_visa", by=by)
        for event in standin.events():
            if event["id"] not in seen:
                body, headers = standin.webhook_request(event["id"])
                if stripe_event_record(payload=body, signature=headers["Stripe-Signature"]):
                    stripe_event_process(event_id=event["id"])


@contextlib.contextmanager
def demo_payments() -> Iterator[Fund | None]:
    """Yields `fund(milestone_id, by)`, or None with real Stripe keys (the demo then leaves milestones unfunded:
    real webhooks reach a deployed site, not a seeding command)."""
    if not uses_standin():
        yield None
        return
    payments = _DemoPayments()
    with payments.stack:
        yield payments.fund
