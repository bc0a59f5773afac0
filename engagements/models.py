"""Engagements: contracts, milestones, timesheets, statements of work, service levels.

Models arrive with their issue."""
