"""Marketplace admin, one module per area."""

from marketplace.admin import microtasks  # noqa: F401
