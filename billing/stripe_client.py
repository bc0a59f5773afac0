"""The app's one way to a Stripe client: real Stripe when STRIPE_SECRET_KEY is set, else the local stand-in.

The same calls run against both (`billing/stripe_standin`). The library itself retries network errors, 409s and
5xx up to MAX_NETWORK_RETRIES times, re-sending the request's Idempotency-Key, so a retry after a lost response
replays the first result instead of repeating the operation. Callers that must never do a thing twice (transfers)
pass their own stable `idempotency_key` so that their own later retries replay too.
"""

from __future__ import annotations

from functools import lru_cache

import stripe
from django.conf import settings

STANDIN_API_KEY = "sk_test_standin"  # the stand-in accepts any test-mode key
TIMEOUT_SECONDS = 20
MAX_NETWORK_RETRIES = 2


def uses_standin() -> bool:
    return not settings.STRIPE_SECRET_KEY


def stripe_client() -> stripe.StripeClient:
    """A client for the configured Stripe (cached per key and API base, so its connection pool is reused)."""
    key = settings.STRIPE_SECRET_KEY or STANDIN_API_KEY
    api_base = settings.STRIPE_API_BASE or ("" if settings.STRIPE_SECRET_KEY else settings.STRIPE_STANDIN_URL)
    return _client(key, api_base)


@lru_cache(maxsize=8)
def _client(key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )
