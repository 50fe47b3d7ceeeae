from django.db import migrations, models

from learners.text import search_fold


def fill_search_text(apps, schema_editor):
    Learner = apps.get_model("learners", "Learner")
    batch = []
    for learner in Learner.objects.only(
        "full_name", "preferred_name", "approved_name", "email", "external_id"
    ).iterator(chunk_size=2000):
        parts = (learner.full_name, learner.preferred_name, learner.approved_name, learner.email, learner.external_id)
        learner.search_text = search_fold(" ".join(part for part in parts if part))[:1200]
        batch.append(learner)
        if len(batch) == 2000:
            Learner.objects.bulk_update(batch, ["search_text"])
            batch = []
    Learner.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("learners", "0008_sign_in")]

    operations = [
        migrations.AddField(
            model_name="learner",
            name="search_text",
            field=models.CharField(blank=True, editable=False, max_length=1200),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
    ]
