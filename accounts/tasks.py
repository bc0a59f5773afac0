"""Tasks of the accounts app (see CONVENTIONS.md for what belongs here)."""
