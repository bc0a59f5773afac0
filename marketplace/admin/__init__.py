"""Marketplace admin, one module per area."""

from marketplace.admin import gigs, microtasks  # noqa: F401
