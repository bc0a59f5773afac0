"""Marketplace models, one module per area; import them from here."""

from marketplace.models.bids import Bid, BidTeamMember, Invitation
from marketplace.models.gigs import Gig, GigSkill
from marketplace.models.matching import Match
from marketplace.models.microtasks import *  # noqa: F403 - the micro-task models (TaskBatch, TaskUnit, ...)
from marketplace.models.reviews import Review

__all__ = ["Bid", "BidTeamMember", "Gig", "GigSkill", "Invitation", "Match", "Review"]
