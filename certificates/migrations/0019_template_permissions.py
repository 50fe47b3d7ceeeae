"""Templates for the staff groups: "admin" edits, previews and publishes them; "support" sees them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT = ["view_certificatetemplate", "view_certificatetemplateversion", "view_certificatetemplatewording"]
ADMIN = [
    *SUPPORT,
    "add_certificatetemplate",
    "change_certificatetemplate",
    "add_certificatetemplatewording",
    "change_certificatetemplatewording",
    "delete_certificatetemplatewording",
    "publish_certificatetemplate",
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("certificates")
    app_config.models_module = True  # create_permissions skips apps it thinks have no models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("support", SUPPORT), ("admin", ADMIN)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="certificates", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("certificates", "0018_templates")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
