"""Forms of the talent app (see CONVENTIONS.md for what belongs here)."""
