#!/usr/bin/env bash
# Set up and run the whole test suite. Uses PostgreSQL and Redis when DATABASE_URL and
# CELERY_BROKER_URL are set, the embedded SQLite and filesystem broker otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The browser tests drive Debian's Chromium (Playwright's own browser download does not work on
# these machines); install it on first use where we may.
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q chromium >/dev/null
fi
export DJANGO_SETTINGS_MODULE=review_portal.settings.test
.venv/bin/ruff check .
.venv/bin/python manage.py makemigrations --check --dry-run -v0
# The suite runs in parallel processes (pytest-xdist; -n auto is one per CPU). Much of it waits
# on servers, workers and browsers, so two processes on two cores finish far sooner than one.
# `--dist loadscope` keeps each module in one process, with its module-scoped server and data.
# Each process gets its own test database, var folder and Redis databases (settings/test.py).
# PYTEST_WORKERS=0 runs everything in this process.
.venv/bin/python -m pytest --create-db -n "${PYTEST_WORKERS:-auto}" --dist loadscope "$@"
