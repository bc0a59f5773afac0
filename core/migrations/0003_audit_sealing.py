"""Events are recorded pending and chained after their transaction commits (core.services.audit_seal), so that no
business transaction holds the chain's lock: before this, a transaction took it at its first audit event and kept
it until commit, which serialised every audited write in the system and could deadlock with row locks.

The database still guards the chain:
- an INSERT must be pending (no sequence, previous_hash or hash): only audit_seal chains events;
- the one UPDATE of chaining sets exactly those three fields of a pending event, and only to extend the chain
  (sequence = last + 1, previous_hash = the last event's hash); a chained event is never chained again;
- every other UPDATE and any DELETE raise, except the GDPR erasure of labels as before (0002).
"""

from django.db import migrations, models

import core.migrations._audit_sql as audit_sql


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_chain")]

    operations = [
        migrations.RemoveConstraint(model_name="auditevent", name="core_auditevent_sequence_positive"),
        migrations.RemoveConstraint(model_name="auditevent", name="core_auditevent_hash_hex"),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="Position in the chain: 1, 2, 3, … no gaps; empty until chained.",
                null=True,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(
                blank=True, help_text="SHA-256 of previous_hash and this event's content.", max_length=64, null=True
            ),
        ),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-id"]}),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)), fields=["id"], name="core_auditevent_pending"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("hash__isnull", True), ("previous_hash__isnull", True), ("sequence__isnull", True)),
                    models.Q(
                        ("hash__regex", "^[0-9a-f]{64}$"),
                        ("previous_hash__regex", "^[0-9a-f]{64}$"),
                        ("sequence__gte", 1),
                    ),
                    _connector="OR",
                ),
                name="core_auditevent_pending_or_chained",
            ),
        ),
        migrations.RunSQL(audit_sql.SEALING, audit_sql.SEALING_REVERSE),
    ]
