import django.utils.timezone
from django.db import migrations, models

import audit.chain


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AlterField(
            model_name="auditevent", name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now,
                                       editable=False)),
        migrations.AddField(
            model_name="auditevent", name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True)),
        migrations.AddField(
            model_name="auditevent", name="prev_hash",
            field=models.CharField(editable=False, max_length=64, default=""),
            preserve_default=False),
        migrations.AddField(
            model_name="auditevent", name="hash",
            field=models.CharField(editable=False, max_length=64, default="",
                                   help_text="SHA-256 of the event's content and prev_hash"),
            preserve_default=False),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False,
                                                        primary_key=True, serialize=False)),
                ("sequence", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(default=audit.chain.GENESIS, max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("created_at", models.DateTimeField(editable=False)),
                ("sequence", models.PositiveBigIntegerField(
                    help_text="Events in the trail: the head's sequence")),
                ("head_hash", models.CharField(max_length=64)),
                ("signer", models.CharField(help_text="Key id: SHA-256 of the public key, cut",
                                            max_length=16)),
                ("signature", models.CharField(help_text="Ed25519, base64", max_length=100)),
            ],
            options={"ordering": ["-sequence", "-id"]},
        ),
        migrations.CreateModel(
            name="AuditTrailStatus",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False,
                                                        primary_key=True, serialize=False)),
                ("checked_at", models.DateTimeField()),
                ("ok", models.BooleanField()),
                ("events", models.PositiveBigIntegerField(default=0)),
                ("problem", models.TextField(blank=True,
                                             help_text="The first problem found, in a sentence")),
                ("problems", models.PositiveIntegerField(default=0)),
                ("failing_since", models.DateTimeField(blank=True, null=True)),
                ("checkpoint_sequence", models.PositiveBigIntegerField(blank=True, null=True)),
                ("checkpoint_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"verbose_name_plural": "audit trail status"},
        ),
    ]
