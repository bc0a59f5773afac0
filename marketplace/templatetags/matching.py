"""Labels for a match's factor breakdown."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def factor_label(name: str) -> str:
    """A factor's key as words: "newcomer_boost" → "Newcomer boost"."""
    return name.replace("_", " ").strip().capitalize()


@register.filter
def share(value: object) -> str:
    """A 0-1 score or weight as a whole percentage: "0.9000" → "90%", 0.05 → "5%", a penalty "−10%"; anything
    else unchanged."""
    from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{(number * 100).quantize(Decimal(1), ROUND_HALF_UP)}%".replace("-", "\u2212")  # a penalty: "−10%"
