#!/usr/bin/env bash
# Set up and run the whole test suite. Uses PostgreSQL and Redis when DATABASE_URL and
# CELERY_BROKER_URL are set, the embedded SQLite and filesystem broker otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE=review_portal.settings.test
.venv/bin/ruff check .
.venv/bin/python manage.py makemigrations --check --dry-run -v0
.venv/bin/python -m pytest --create-db "$@"
