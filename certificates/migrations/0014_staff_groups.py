"""The two staff groups: "support" works the queues, "admin" also revokes and reissues whole courses.

Permissions are normally made after all migrations run; they are made here first so the groups can
hold them on a fresh database. Running this again (or on a database that has the groups) only adds.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "courses.organisation",
    "courses.course",
    "learners.learner",
    "learners.enrollment",
    "learners.learneremailchange",
    "learners.webhookevent",
    "certificates.certificate",
    "certificates.certificateversion",
    "certificates.certificateevent",
    "certificates.case",
    "certificates.caseevent",
    "certificates.heldcertificate",
    "certificates.reviewcertificate",
    "certificates.namecorrection",
    "certificates.completiondispute",
    "certificates.deliveryproblem",
    "certificates.workerheartbeat",
    "certificates.workerstall",
    "delivery.delivery",
    "delivery.trackingevent",
    "delivery.suppressedaddress",
    "admin.logentry",
]
SUPPORT = [
    *(f"{model.split('.')[0]}.view_{model.split('.')[1]}" for model in VIEW),
    "learners.change_learner",  # correct a name or an address in place
    "certificates.review_certificate",
    "certificates.resend_certificate",
    "certificates.reissue_certificate",
    "certificates.decide_case",
]
ADMIN = [
    *SUPPORT,
    "learners.view_signinevent",
    "certificates.revoke_certificate",
    "certificates.unrevoke_certificate",
    "certificates.reissue_course",
    "certificates.export_certificates",
    "courses.change_course",
    "courses.add_course",
    "courses.change_organisation",
    "courses.add_organisation",
    "delivery.delete_suppressedaddress",
]
GROUPS = {"support": SUPPORT, "admin": ADMIN}


def make_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True  # create_permissions skips apps it thinks have no models
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0013_staff_desk"),
        ("learners", "0009_learner_search_text"),
        ("delivery", "0002_bounced_do_not_count"),
        ("courses", "0008_length_limits"),
        ("admin", "__latest__"),
        ("auth", "__latest__"),
        ("contenttypes", "__latest__"),
    ]

    operations = [migrations.RunPython(make_groups, migrations.RunPython.noop)]
