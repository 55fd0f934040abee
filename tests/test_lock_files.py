"""The lock files pin everything pyproject.toml asks for, at the same versions."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {name.lower().replace("_", "-"): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.M)}


def direct(extra: str | None = None) -> dict[str, str]:
    specs = PYPROJECT["project"]["dependencies"] if extra is None else \
        PYPROJECT["project"]["optional-dependencies"][extra]
    found = {}
    for spec in specs:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]+\])?==(\S+)", spec).groups()
        found[name.lower().replace("_", "-")] = version
    return found


@pytest.mark.parametrize(("lock", "wanted"), [
    ("requirements.lock", direct()),
    ("requirements-dev.lock", {**direct(), **direct("dev")}),
])
def test_each_lock_file_pins_every_direct_dependency_at_its_pyproject_version(lock, wanted):
    locked = pins(lock)
    assert {name: locked.get(name) for name in wanted} == wanted


def test_every_pin_in_a_lock_file_carries_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / lock).read_text().strip())
        assert all("--hash=sha256:" in block for block in blocks if "==" in block), lock


def test_the_runtime_lock_uses_the_dev_locks_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
