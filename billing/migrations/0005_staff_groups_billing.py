from django.db import migrations

from accounts.staff_groups import sync_staff_groups


class Migration(migrations.Migration):
    """Finance works with payouts, invoices, payments and refunds, the ledger, Stripe events, payout accounts and
    fee rates in the admin; Support reads invoices and payouts (the models exist from 0004 on)."""

    dependencies = [
        ("billing", "0004_invoices_payments_payouts"),
        ("accounts", "0003_user_inactive_index"),
        ("engagements", "0008_milestone_refunds"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
