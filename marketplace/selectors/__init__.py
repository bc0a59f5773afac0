"""Marketplace reads, scoped to who asks; one module per area."""
