"""Re-encrypt every secret at rest with the newest key of PORTAL_ENCRYPTION_KEYS.

Rotation: prepend a new key to PORTAL_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
this command, then drop the old keys. Idempotent: running it twice changes nothing more.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management.base import BaseCommand
from django.db import transaction

from audit.models import AuditEvent
from evaluations.models import EvaluationEndpoint
from review_portal.crypto import rotate_bytes
from review_portal.storage import ARTIFACTS, read_bytes
from submissions.models import Artifact


class Command(BaseCommand):
    help = "Re-encrypt endpoint API keys and artifact files with the newest encryption key."

    def handle(self, *args, **options):
        endpoints = 0
        with transaction.atomic():
            for endpoint in EvaluationEndpoint.objects.select_for_update().exclude(
                    api_key_encrypted=""):
                endpoint.api_key_encrypted = rotate_bytes(
                    endpoint.api_key_encrypted.encode()).decode()
                endpoint.save(update_fields=["api_key_encrypted"])
                endpoints += 1
        files = 0
        storage = storages[ARTIFACTS]
        for artifact in Artifact.objects.only("pk", "storage_path").iterator():
            try:
                token = read_bytes(storage, artifact.storage_path)
            except FileNotFoundError:
                self.stderr.write(f"missing file for artifact {artifact.pk}")
                continue
            # Saved over the same name: atomic on both backends (a temporary file renamed on
            # disk, a completed PUT on S3), so a reader sees the old or the new token, never half.
            storage.save(artifact.storage_path, ContentFile(rotate_bytes(token)))
            files += 1
        AuditEvent.objects.create(actor_label="system", action="encryption.rotated",
                                  object_type="system", object_id="encryption-keys",
                                  data={"endpoints": endpoints, "artifacts": files})
        self.stdout.write(f"re-encrypted {endpoints} endpoint keys and {files} artifact files")
