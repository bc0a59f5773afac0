"""Micro-task forms: they check the shape of what was typed and turn it into service arguments; rules live in
marketplace.services.microtasks."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from marketplace.models import TaskBatch
from marketplace.services.microtasks import TaskBatchInput


class TaskBatchForm(forms.Form):
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Shown above every unit. Say what a good answer looks like, with an example or two.",
    )
    answer_options = forms.CharField(
        required=False,
        label="Answers to choose from",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "cat\ndog\nneither"}),
        help_text="One per line. Workers pick one with the keys 1–9. Leave empty to let them type a free answer.",
    )
    unit_price = forms.DecimalField(
        label="Price per unit",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Paid for each accepted unit. Quality-check (gold) units are not paid.",
    )
    time_limit_minutes = forms.IntegerField(
        label="Time limit per unit (minutes)",
        min_value=1,
        max_value=TaskBatch.TIME_LIMIT_MAX_MINUTES,
        initial=10,
        help_text="How long a worker holds a unit; after that it goes back to the queue.",
    )
    min_accuracy = forms.DecimalField(
        label="Minimum accuracy (%)",
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        help_text=(
            f"Workers whose accuracy on gold units falls below this stop getting units, once they have answered "
            f"{TaskBatch.ACCURACY_MIN_GOLD_ANSWERS}. Leave empty for no minimum."
        ),
    )

    @classmethod
    def initial_from(cls, batch: TaskBatch) -> dict[str, Any]:
        return {
            "instructions": batch.instructions,
            "answer_options": "\n".join(batch.answer_options),
            "unit_price": batch.unit_price,
            "time_limit_minutes": batch.time_limit_minutes,
            "min_accuracy": batch.min_accuracy,
        }

    def to_input(self) -> TaskBatchInput:
        data = self.cleaned_data
        return TaskBatchInput(
            instructions=data["instructions"],
            unit_price=data["unit_price"],
            time_limit_minutes=data["time_limit_minutes"],
            min_accuracy=data["min_accuracy"],
            answer_options=[line.strip() for line in data["answer_options"].splitlines() if line.strip()],
        )


class TaskUnitsImportForm(forms.Form):
    file = forms.FileField(
        label="Units file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,text/csv,application/x-ndjson"}),
        help_text=(
            "CSV with a header row: an <code>id</code> column, an optional <code>gold_answer</code> column "
            "(marks quality-check units), every other column is shown to the worker. Or JSON lines: "
            '<code>{"id": "a1", "payload": {…}, "gold_answer": …}</code> per line. UTF-8, up to 50,000 units.'
        ),
    )


class TaskUnitResultForm(forms.Form):
    """The worker's answer: one of the batch's answers, or free text (a JSON object or list is kept as JSON)."""

    def __init__(self, *args: Any, batch: TaskBatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if batch.answer_options:
            self.fields["answer"] = forms.ChoiceField(
                label="Your answer",
                choices=[(option, option) for option in batch.answer_options],
                widget=forms.RadioSelect,
            )
        else:
            self.fields["answer"] = forms.CharField(
                label="Your answer",
                widget=forms.Textarea(attrs={"rows": 3, "autofocus": True}),
                help_text="Ctrl+Enter submits.",
            )

    def result(self) -> Any:
        answer = self.cleaned_data["answer"]
        text = answer.strip()
        if text[:1] in "{[":
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text


class TaskUnitRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "What was wrong, so the worker can do better"}),
    )


class _IntegerListField(forms.Field):
    """Several values of one name (checkboxes), as ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError) as error:
            raise ValidationError("Select units from the list.") from error

    def validate(self, value: list[int]) -> None:
        if self.required and not value:
            raise ValidationError("Select at least one unit.")


class TaskUnitsBulkReviewForm(forms.Form):
    ACCEPT = "accept"
    REJECT = "reject"

    action = forms.ChoiceField(choices=[(ACCEPT, "Accept"), (REJECT, "Reject")])
    unit_ids = _IntegerListField()
    reason = forms.CharField(required=False, max_length=1000)
