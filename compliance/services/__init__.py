"""Services of the compliance app (see CONVENTIONS.md for what belongs here)."""
