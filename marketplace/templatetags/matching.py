"""Labels for a match's factor breakdown."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def factor_label(name: str) -> str:
    """A factor's key as words: "newcomer_boost" → "Newcomer boost"."""
    return name.replace("_", " ").strip().capitalize()
