"""The SQL of core/migrations/0003_audit_sealing.py (its triggers' functions), kept apart for readability."""

SEALING = r"""
CREATE OR REPLACE FUNCTION core_auditevent_extends_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sequence IS NOT NULL OR NEW.previous_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit event % is inserted already chained: record audit events with core.services.audit_record (core.services.audit_seal chains them)',
            coalesce(NEW.sequence::text, 'without a sequence')
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed core_auditevent;
    last_sequence bigint;
    last_hash varchar(64);
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.sequence IS NULL AND NEW.sequence IS NOT NULL THEN
        -- Chaining a pending event: only the chain's fields change, and only to extend the chain.
        allowed := OLD;
        allowed.sequence := NEW.sequence;
        allowed.previous_hash := NEW.previous_hash;
        allowed.hash := NEW.hash;
        IF NEW IS DISTINCT FROM allowed THEN
            RAISE EXCEPTION 'chaining audit event % may set only its sequence, previous hash and hash', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        SELECT sequence, hash INTO last_sequence, last_hash FROM core_auditevent
            WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            last_sequence := 0;
            last_hash := repeat('0', 64);
        END IF;
        IF NEW.sequence IS DISTINCT FROM last_sequence + 1 OR NEW.previous_hash IS DISTINCT FROM last_hash THEN
            RAISE EXCEPTION 'audit event % does not extend the audit chain (its last event is %): chain events with core.services.audit_seal',
                NEW.sequence, last_sequence USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
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
            coalesce(OLD.sequence::text, 'pending') USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of audit event % refused', TG_OP, coalesce(OLD.sequence::text, 'pending')
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

# Back to 0002's rules (every event must then already be chained: run audit_seal before migrating back).
SEALING_REVERSE = r"""
CREATE OR REPLACE FUNCTION core_auditevent_extends_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""
