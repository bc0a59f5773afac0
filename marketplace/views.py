"""Views of the marketplace app (see CONVENTIONS.md for what belongs here)."""
