#!/usr/bin/env bash
# Create .venv with Python 3.11 and install every dependency, transitive ones included, at the
# versions and hashes in requirements-dev.lock (again only when the lock file changed). Shared by
# scripts/run.sh and scripts/test.sh. scripts/lock.sh regenerates the lock from pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements-dev.lock | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r requirements-dev.lock
  rm -f .venv/.installed-* && touch "$stamp"
fi
# Front-end assets (the U.S. Web Design System, served by whitenoise; axe-core for the browser
# tests) at the versions and integrity hashes in package-lock.json, again only when it changed.
npm_stamp=node_modules/.installed-$(cat package-lock.json | sha256sum | cut -c1-16)
if [ ! -f "$npm_stamp" ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi
