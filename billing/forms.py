"""Forms of the billing app (see CONVENTIONS.md for what belongs here)."""
