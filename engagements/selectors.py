"""Selectors of the engagements app (see CONVENTIONS.md for what belongs here)."""
