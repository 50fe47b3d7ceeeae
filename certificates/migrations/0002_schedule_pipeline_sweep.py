from django.db import migrations

SWEEP = "certificates.pipeline_sweep"


def schedule_sweep(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SWEEP,
        defaults={"func": "certificates.tasks.pipeline_sweep_task", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule_sweep(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_sweep, unschedule_sweep)]
