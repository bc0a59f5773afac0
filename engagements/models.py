"""Engagements: contracts, milestones, timesheets, statements of work, service levels (models arrive with their issue)."""
