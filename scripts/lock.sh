#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml after changing a pin there. Every transitive
# dependency is pinned with its hashes: requirements-dev.lock for .venv (scripts/bootstrap.sh),
# requirements.lock (the same versions, without the test tools) for the Dockerfile. uv resolves;
# it is fetched into a throwaway venv so it is not one of the project's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool" && "$tool/bin/pip" install -q uv==0.13.9
compile() { "$tool/bin/uv" pip compile pyproject.toml --universal --python-version 3.11 \
  --generate-hashes --no-header -q "$@"; }
compile --extra dev -o requirements-dev.lock
compile -c requirements-dev.lock -o requirements.lock
