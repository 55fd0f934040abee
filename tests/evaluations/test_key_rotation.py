from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit.models import AuditEvent
from evaluations import services
from evaluations.models import EvaluationEndpoint
from review_portal.crypto import decrypt_bytes
from submissions.artifact_services import artifact_read, artifact_upload


def test_rotation_re_encrypts_keys_and_artifacts_so_the_old_key_can_be_dropped(
        world, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    old = settings.PORTAL_ENCRYPTION_KEYS[0]
    services.endpoint_set(model=world.model, actor=world.owner, kind="openai_compatible",
                          model_name="m", base_url="https://models.example.com/v1",
                          api_key="sk-rotate-me")
    artifact = artifact_upload(review_request=world.request, actor=world.owner,
                               kind="model_card",
                               uploaded_file=SimpleUploadedFile("card.md", b"# card\n"))
    new = Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.PORTAL_ENCRYPTION_KEYS = [new]  # the old key is gone
    token = EvaluationEndpoint.objects.get(model=world.model).api_key_encrypted
    assert decrypt_bytes(token.encode()) == b"sk-rotate-me"
    assert artifact_read(artifact=artifact, actor=world.owner) == b"# card\n"
    assert AuditEvent.objects.filter(action="encryption.rotated").count() == 1
