from django.db import migrations

from accounts.staff_groups import sync_staff_groups


class Migration(migrations.Migration):
    """Support creates and revokes organisations' API keys and replays webhook deliveries in the admin."""

    dependencies = [("accounts", "0005_webhooks")]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
