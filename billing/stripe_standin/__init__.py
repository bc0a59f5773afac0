"""A local stand-in for the Stripe API: the official `stripe` library talks HTTP to it (pure stdlib, no Django).

`make run` starts it as its own process (Procfile `stripe`) when STRIPE_SECRET_KEY is unset; tests start one in a
thread (`tests/billing/conftest.py`). See `server.StripeStandIn` for the Python controls and the fault switches.
"""

from .api import PLATFORM, StripeError
from .server import StripeStandIn, decode_form, signature_header

__all__ = ["PLATFORM", "StripeError", "StripeStandIn", "decode_form", "signature_header"]
