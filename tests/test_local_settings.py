"""The development settings (`make run`, the benchmarks) keep every storage the base settings
define: without the private ones a worker's first evaluation failed with InvalidStorageError."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps(sorted(settings.STORAGES)))
"""


def _storages(module: str, tmp_path) -> list[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "PORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": module,
           "SECRET_KEY": "x" * 50}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_local_settings_keep_the_private_storages_of_the_base_settings(tmp_path):
    base = _storages("review_portal.settings.base", tmp_path / "base")
    local = _storages("review_portal.settings.local", tmp_path / "local")
    assert "evaluation_logs" in base
    assert set(base) <= set(local)
