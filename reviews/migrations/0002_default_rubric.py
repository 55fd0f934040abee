"""The default rubric (version 1), active from the start so reviewers can score at once. Program
admins supersede it with their own versions; it becomes immutable once a review uses it."""

from django.db import migrations

from reviews.defaults import install_default_rubric


def create_default_rubric(apps, schema_editor):
    install_default_rubric(apps.get_model("reviews", "RubricVersion"))


def remove_default_rubric(apps, schema_editor):
    RubricVersion = apps.get_model("reviews", "RubricVersion")
    RubricVersion.objects.filter(number=1, created_by=None, reviews__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_rubric, remove_default_rubric),
    ]
