from django.db import migrations

from accounts.staff_groups import sync_staff_groups


class Migration(migrations.Migration):
    """Support staff resolve contract disputes (the permission exists from 0003 on)."""

    dependencies = [
        ("engagements", "0003_contract_lifecycle_milestones"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
