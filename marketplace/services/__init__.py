"""Marketplace writes, one module per area (gigs, bids, matching, reviews, microtasks)."""
