from django.db import migrations, models
from django.db.models import F


def sends_in_flight_may_have_gone(apps, schema_editor):
    """A send claimed before this field existed may have reached its server: never send it again."""
    Delivery = apps.get_model("delivery", "Delivery")
    Delivery.objects.filter(status="sending").update(submitted_at=F("claimed_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0003_once_per_decision"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="submitted_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the message itself began to go to the server (SMTP DATA, the ESP's API call): "
                "a send interrupted before this never reached anyone, one interrupted after it may have.",
                null=True,
            ),
        ),
        migrations.RunPython(sends_in_flight_may_have_gone, migrations.RunPython.noop),
    ]
