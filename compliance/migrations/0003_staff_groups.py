from django.db import migrations

from accounts.staff_groups import sync_staff_groups


class Migration(migrations.Migration):
    """Compliance reviewers decide documents, screening hits and assessments (review_compliance), read them, and
    keep the requirement catalogue (the models exist from 0001 on)."""

    dependencies = [
        ("compliance", "0002_requirement_catalogue"),
        ("accounts", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
