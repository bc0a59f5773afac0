"""Ledger integrity in the database itself, so no code path (service, admin, shell, raw SQL) can break it:

- ledger lines and transactions are append-only (UPDATE and DELETE raise; corrections are reversing transactions);
- a line's currency must be its account's, and each insert moves the account's cached balance, under the
  account's row lock (the account table's CHECK constraint then refuses a balance that may not go negative);
- at the end of every INSERT statement (the services insert a transaction's lines in one statement) the
  transaction's lines must sum to zero per currency.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION billing_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: post a reversing transaction instead of changing %', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER billing_ledgerline_append_only BEFORE UPDATE OR DELETE ON billing_ledgerline
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
CREATE TRIGGER billing_ledgertransaction_append_only BEFORE UPDATE OR DELETE ON billing_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();

CREATE FUNCTION billing_ledgerline_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_currency varchar(3);
    debit_normal boolean;
BEGIN
    SELECT currency, is_debit_normal INTO account_currency, debit_normal
        FROM billing_ledgeraccount WHERE id = NEW.account_id FOR UPDATE;
    IF account_currency <> NEW.currency THEN
        RAISE EXCEPTION 'ledger line in % posted to an account in %', NEW.currency, account_currency
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE billing_ledgeraccount
        SET balance = balance + CASE WHEN debit_normal THEN NEW.amount ELSE -NEW.amount END
        WHERE id = NEW.account_id;
    RETURN NEW;
END $$;

CREATE TRIGGER billing_ledgerline_apply AFTER INSERT ON billing_ledgerline
    FOR EACH ROW EXECUTE FUNCTION billing_ledgerline_apply();

CREATE FUNCTION billing_ledgertransaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off_currency varchar(3);
    off_total numeric;
BEGIN
    SELECT currency, SUM(amount) INTO off_currency, off_total
        FROM billing_ledgerline WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its % lines sum to %',
            NEW.transaction_id, off_currency, off_total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER billing_ledgerline_balanced AFTER INSERT ON billing_ledgerline
    DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION billing_ledgertransaction_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS billing_ledgerline_balanced ON billing_ledgerline;
DROP TRIGGER IF EXISTS billing_ledgerline_apply ON billing_ledgerline;
DROP TRIGGER IF EXISTS billing_ledgertransaction_append_only ON billing_ledgertransaction;
DROP TRIGGER IF EXISTS billing_ledgerline_append_only ON billing_ledgerline;
DROP FUNCTION IF EXISTS billing_ledgertransaction_balanced();
DROP FUNCTION IF EXISTS billing_ledgerline_apply();
DROP FUNCTION IF EXISTS billing_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_ledger")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
