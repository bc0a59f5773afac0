"""`manage.py sanctions_load [SDN.CSV] [--alt ALT.CSV] --source "OFAC SDN list" --date 2026-11-20`: replace the
sanctions list that screening uses with a file in the OFAC SDN.CSV layout (the real list, or the bundled sample
when no path is given). The next daily re-screen then screens everyone against the new list."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.data.sanctions_file import BUNDLED_SANCTIONS_FILE
from compliance.services.checks import sanctions_list_load
from core.errors import ApplicationError


class Command(BaseCommand):
    help = "Replace the sanctions list with a file in the OFAC SDN.CSV layout (default: the bundled sample)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(BUNDLED_SANCTIONS_FILE), help="SDN.CSV-layout file.")
        parser.add_argument("--alt", default=None, help="ALT.CSV-layout file with the aliases (optional).")
        parser.add_argument("--source", default="", help='Where the list comes from, e.g. "OFAC SDN list".')
        parser.add_argument("--date", dest="list_date", default="", help="The list's publication date, YYYY-MM-DD.")

    def handle(self, *args: Any, path: str, alt: str | None, source: str, list_date: str, **options: Any) -> None:
        for given in (path, alt):
            if given and not Path(given).is_file():
                raise CommandError(f"No such file: {given}")
        try:
            count = sanctions_list_load(
                path=path, alt_path=alt, source=source, list_date=_parse_date(list_date) if list_date else None
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {count} listed names from {path}."))


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}.") from error
