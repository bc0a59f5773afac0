"""The audit log becomes an append-only hash chain, enforced by the database itself so that no code path (service,
admin, shell, raw SQL) can change it unnoticed:

- existing events get their place in the chain (created order), label salts and digests, and hashes;
- an INSERT must extend the chain: sequence = last + 1 and previous_hash = the last event's hash
  (core.services.audit_record computes them under an advisory lock; the hash itself is checked by audit_verify);
- UPDATE and DELETE raise, except the GDPR erasure of core.services.audit_erase_person: with
  `tandem.audit_erasure` set to 'on' for the transaction, an UPDATE may replace actor_label / target_label with
  'erased user' and blank the matching salt, and change nothing else (the chain covers the labels' digests).

TRUNCATE is not trapped (the test runner empties tables with it); only the table's owner may run it.
"""

import secrets

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.models import AUDIT_GENESIS_HASH, audit_event_hash, audit_label_digest

FORWARD = r"""
CREATE FUNCTION core_auditevent_extends_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_sequence bigint;
    last_hash varchar(64);
BEGIN
    SELECT sequence, hash INTO last_sequence, last_hash FROM core_auditevent ORDER BY sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        last_sequence := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF NEW.sequence IS DISTINCT FROM last_sequence + 1 OR NEW.previous_hash IS DISTINCT FROM last_hash THEN
        RAISE EXCEPTION 'audit event % does not extend the audit chain (its last event is %): record audit events with core.services.audit_record',
            coalesce(NEW.sequence::text, 'without a sequence'), last_sequence
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER core_auditevent_extends_chain BEFORE INSERT ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_extends_chain();

CREATE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed core_auditevent;
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('tandem.audit_erasure', true) = 'on' THEN
        allowed := OLD;
        IF NEW.actor_label = 'erased user' AND NEW.actor_label_salt = '' THEN
            allowed.actor_label := NEW.actor_label;
            allowed.actor_label_salt := NEW.actor_label_salt;
        END IF;
        IF NEW.target_label = 'erased user' AND NEW.target_label_salt = '' THEN
            allowed.target_label := NEW.target_label;
            allowed.target_label_salt := NEW.target_label_salt;
        END IF;
        IF NEW IS NOT DISTINCT FROM allowed THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit erasure may only replace actor_label or target_label with ''erased user'' and blank its salt (audit event %)',
            OLD.sequence USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of audit event % refused', TG_OP, OLD.sequence
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditevent_extends_chain ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_append_only();
DROP FUNCTION IF EXISTS core_auditevent_extends_chain();
"""


def backfill_chain(apps, schema_editor):
    """Chain the events written before the chain existed, in the order they were created."""
    AuditEvent = apps.get_model("core", "AuditEvent")
    previous_hash = AUDIT_GENESIS_HASH
    batch = []
    fields = [
        "sequence",
        "previous_hash",
        "hash",
        "actor_label_salt",
        "actor_label_digest",
        "target_label_salt",
        "target_label_digest",
    ]
    events = AuditEvent.objects.order_by("created_at", "id").iterator(chunk_size=2000)
    for sequence, event in enumerate(events, start=1):
        event.sequence, event.previous_hash = sequence, previous_hash
        event.actor_label_salt, event.target_label_salt = secrets.token_hex(16), secrets.token_hex(16)
        event.actor_label_digest = audit_label_digest(salt=event.actor_label_salt, label=event.actor_label)
        event.target_label_digest = audit_label_digest(salt=event.target_label_salt, label=event.target_label)
        event.hash = previous_hash = audit_event_hash(event)
        batch.append(event)
        if len(batch) == 2000:
            AuditEvent.objects.bulk_update(batch, fields)
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, fields)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        # Events keep the ids of users and organisations that are gone (the hash covers them), and writing an
        # event must never wait for a lock on those rows (it holds the chain's lock): no foreign-key constraint.
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="accounts.organization",
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(
                default="", help_text="SHA-256 of previous_hash and this event's content.", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_label_salt",
            field=models.CharField(blank=True, help_text="Blank once the label is erased.", max_length=32),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_label_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="target_label_salt",
            field=models.CharField(blank=True, help_text="Blank once the label is erased.", max_length=32),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="target_label_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(backfill_chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(
                help_text="Position in the chain: 1, 2, 3, … no gaps.", unique=True
            ),
        ),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["-sequence"]}),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="core_auditevent_sequence_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("hash__regex", "^[0-9a-f]{64}$")), name="core_auditevent_hash_hex"
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
