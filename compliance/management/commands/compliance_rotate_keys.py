"""`manage.py compliance_rotate_keys`: re-encrypt the stored tax ids and webhook signing secrets with the
current (first) key of COMPLIANCE_ENCRYPTION_KEYS. Run it after putting a new key first; remove the old key only
once it reports no unreadable ids. Safe to run again (already-current ids are left alone) and while the site runs
(batches lock only their own rows)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.services.documents import tax_ids_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored tax id with the current compliance encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        from accounts.webhooks import webhook_secrets_rotate

        secrets = webhook_secrets_rotate()
        self.stdout.write(f"Re-encrypted {secrets} webhook signing secret(s) with the current key.")
        result = tax_ids_rotate(batch_size=batch_size)
        self.stdout.write(
            f"Checked {result.checked} tax id(s): {result.rotated} re-encrypted with the current key, "
            f"{result.checked - result.rotated - len(result.unreadable)} already current."
        )
        if result.unreadable:
            ids = ", ".join(str(pk) for pk in result.unreadable[:20])
            raise CommandError(
                f"{len(result.unreadable)} tax id(s) could not be decrypted with any configured key "
                f"(documents {ids}{'…' if len(result.unreadable) > 20 else ''}). Keep the old key until they are "
                "fixed."
            )
