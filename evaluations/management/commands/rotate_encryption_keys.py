"""Re-encrypt every secret at rest with the newest key of PORTAL_ENCRYPTION_KEYS.

Rotation: prepend a new key to PORTAL_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
this command, then drop the old keys. Idempotent: running it twice changes nothing more.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from audit.models import AuditEvent
from evaluations.models import EvaluationEndpoint
from review_portal.crypto import rotate_bytes
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
        root = Path(settings.PRIVATE_MEDIA_ROOT)
        for artifact in Artifact.objects.only("pk", "storage_path").iterator():
            path = root / artifact.storage_path
            if not path.exists():
                self.stderr.write(f"missing file for artifact {artifact.pk}")
                continue
            rotated = rotate_bytes(path.read_bytes())
            tmp = path.with_suffix(".rotating")
            tmp.write_bytes(rotated)
            tmp.chmod(0o600)
            tmp.replace(path)  # atomic: a reader sees the old or the new file, never half
            files += 1
        AuditEvent.objects.create(actor_label="system", action="encryption.rotated",
                                  object_type="system", object_id="encryption-keys",
                                  data={"endpoints": endpoints, "artifacts": files})
        self.stdout.write(f"re-encrypted {endpoints} endpoint keys and {files} artifact files")
