"""Bulk writes: several items saved by the one-item service, all of them or none."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction

from core.errors import ApplicationError, BulkApplicationError


def all_or_nothing[Item, Result](
    items: Sequence[Item], save: Callable[[Item], Result], *, collection: str, label: str
) -> list[Result]:
    """Save every item with `save` (a one-item service, checked by its own rules) in one transaction, or none.

    Field errors are collected for every item and raised together as a BulkApplicationError (by index), so the
    caller fixes them all at once. A refusal that names no field (not the caller's to do, or a conflict with the
    object's state) stops at once with its own status, naming the item: "Nothing was saved. Entry 2: …"."""
    saved: list[Result] = []
    errors: dict[int, dict[str, list[str]]] = {}
    with transaction.atomic():
        for index, item in enumerate(items):
            try:
                with transaction.atomic():  # a savepoint: a refusal undoes this item alone, the others go on
                    saved.append(save(item))
            except ApplicationError as error:
                if not error.field_errors:
                    raise ApplicationError(
                        f"Nothing was saved. {label.capitalize()} {index}: {error.message}",
                        code=error.code,
                        status=error.status,
                    ) from error
                errors[index] = error.field_errors
        if errors:  # leaving the block undoes the items saved so far
            where = ", ".join(str(index) for index in errors)
            raise BulkApplicationError(
                f"Nothing was saved: fix the {collection} at {'index' if len(errors) == 1 else 'indexes'} {where}.",
                collection=collection,
                item_errors=errors,
            )
    return saved
