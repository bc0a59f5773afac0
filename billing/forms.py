"""Forms of the billing pages: they translate input; the billing services decide (and say what is wrong)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms


class CreditNoteForm(forms.Form):
    # Not required here: services.invoice_credit checks both fields and says what to fix, so the page and the
    # API give the same messages. The browser still asks for them first.
    amount = forms.DecimalField(
        label="Amount to credit",
        required=False,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal", "required": True}),
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
        help_text="The client sees this on the credit note.",
    )

    def __init__(self, *args: Any, amount_due: Decimal | None = None, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if amount_due is not None:
            self.fields[
                "amount"
            ].help_text = f"Up to {amount_due} {currency}, what is still due. Work and fees are credited in proportion."
            self.fields["amount"].widget.attrs["max"] = str(amount_due)
