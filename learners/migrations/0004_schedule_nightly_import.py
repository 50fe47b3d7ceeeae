from datetime import datetime, time, timedelta

from django.db import migrations
from django.utils import timezone

NIGHTLY_IMPORT = "learners.nightly_completions_import"


def schedule(apps, schema_editor):
    tomorrow = timezone.localdate() + timedelta(days=1)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NIGHTLY_IMPORT,
        defaults={
            "func": "learners.tasks.completions_import_drop_folder_task",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": timezone.make_aware(datetime.combine(tomorrow, time(2, 0))),
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NIGHTLY_IMPORT).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0003_ingestion"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
