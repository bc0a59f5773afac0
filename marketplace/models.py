"""Marketplace: gigs, micro-task batches, bids, invitations, matches, reviews (models arrive with their issue)."""
