from django.db import migrations

from accounts.staff_groups import sync_staff_groups


class Migration(migrations.Migration):
    """Finance reads statements of work and their SLA records and evaluates months; Support reads SOWs,
    measurements and breaches (the models exist from 0006 on)."""

    dependencies = [
        ("engagements", "0006_statements_of_work"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
