from django.db import migrations

from accounts.staff_groups import sync_staff_groups


def remove_groups(apps, schema_editor):
    from accounts.staff_groups import STAFF_GROUP_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=STAFF_GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, remove_groups)]
