#!/usr/bin/env bash
# Set up and run the portal with demo data: web server, a real Celery worker and beat.
# Embedded default: SQLite and a file broker (no servers; review_portal/broker.py). With DATABASE_URL and
# CELERY_BROKER_URL (redis://...) set, the same command runs on PostgreSQL and Redis.
#   scripts/run.sh            run until Ctrl-C
#   scripts/run.sh --smoke    boot, check the login page and the worker, then exit 0
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=review_portal.settings.local
if [ "$SMOKE" = 1 ]; then
  # A throwaway state folder so the smoke run never touches a developer's demo database.
  export PORTAL_VAR_DIR=${PORTAL_VAR_DIR:-$(mktemp -d)}
  PORT=${PORT_SMOKE:-8765}
fi
scripts/bootstrap.sh
PY=.venv/bin/python
VAR=${PORTAL_VAR_DIR:-var}
mkdir -p "$VAR/logs"
$PY manage.py migrate --no-input -v0
$PY manage.py seed_demo

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# A worker per queue, so a long evaluation never delays an email. Prefork: each evaluation
# needs its own process. Both run the outbox relay.
.venv/bin/celery -A review_portal worker -Q evaluations --pool=prefork --concurrency=2 \
  -n evaluations@%h --loglevel=INFO >"$VAR/logs/worker-evaluations.log" 2>&1 & pids+=($!)
.venv/bin/celery -A review_portal worker -Q default --pool=prefork --concurrency=2 \
  -n default@%h --loglevel=INFO >"$VAR/logs/worker.log" 2>&1 & pids+=($!)
.venv/bin/celery -A review_portal beat --loglevel=INFO \
  --schedule="$VAR/celerybeat-schedule" >"$VAR/logs/beat.log" 2>&1 & pids+=($!)
$PY manage.py runserver "127.0.0.1:$PORT" --noreload >"$VAR/logs/web.log" 2>&1 & pids+=($!)

for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" 2>/dev/null && break
  sleep 0.5
done

if [ "$SMOKE" = 1 ]; then
  # grep reads the whole page (no -q): with pipefail, a grep that stops at the first match
  # can make curl fail on a closed pipe once the page is larger than one write.
  curl -fsS "http://127.0.0.1:$PORT/accounts/login/" | grep 'name="password"' >/dev/null \
    || { echo "smoke: the login page did not render"; cat "$VAR/logs/web.log"; exit 1; }
  # The design system's files come from the portal itself (node_modules, via whitenoise).
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/static/uswds/css/uswds.min.css" \
    || { echo "smoke: the USWDS stylesheet is not served (scripts/bootstrap.sh: npm ci)"; exit 1; }
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null \
    || { echo "smoke: /readyz did not answer 200"; curl -sS "http://127.0.0.1:$PORT/readyz"; exit 1; }
  # Control calls (fanout broadcast and replies) reach both workers.
  for _ in $(seq 1 30); do
    n=$(.venv/bin/celery -A review_portal inspect ping -t 3 2>/dev/null | grep -c "pong" || true)
    [ "$n" = "2" ] && break
    sleep 1
  done
  [ "$n" = "2" ] || { echo "smoke: $n of 2 workers answered inspect ping"; exit 1; }
  .venv/bin/celery -A review_portal call submissions.windows_check_rules >/dev/null
  for _ in $(seq 1 60); do
    grep -q "windows_check_rules.*succeeded" "$VAR/logs/worker.log" && break
    sleep 0.5
  done
  grep -q "windows_check_rules.*succeeded" "$VAR/logs/worker.log" \
    || { echo "smoke: the worker did not run a task"; cat "$VAR/logs/worker.log"; exit 1; }
  # The demo queued real evaluations of the sample suite: wait for the worker to finish them.
  for _ in $(seq 1 120); do
    left=$($PY manage.py shell -v0 -c "from evaluations.models import EvaluationRun as R; print(R.objects.exclude(status__in=R.FINISHED).count())")
    [ "$left" = "0" ] && break
    sleep 1
  done
  $PY manage.py shell -v0 -c "
from evaluations.models import EvaluationRun as R
runs = list(R.objects.all())
assert runs and all(r.status == 'succeeded' for r in runs), [(r.pk, r.status, r.error) for r in runs]
print('smoke: demo evaluations', ', '.join(f'#{r.pk} {r.metrics[\"overall\"][\"accuracy\"]:.2f}' for r in runs))
" || { echo "smoke: the demo evaluations did not succeed"; tail -50 "$VAR/logs/worker-evaluations.log"; exit 1; }
  echo "smoke: login page served on :$PORT and the worker ran a task"
  exit 0
fi

cat <<MSG

Frontier Review Portal is running at http://127.0.0.1:$PORT/
  API docs: http://127.0.0.1:$PORT/api/v1/docs/     logs: $VAR/logs/

Log in (password for every demo user: ${DEMO_PASSWORD:-review-portal-demo}):
  developer   Acme AI developer          (colleague: same organisation)
  borealis    Borealis Labs developer    (another organisation)
  reviewer    agency reviewer            second factor required
  reviewer2   agency reviewer            second factor required
  admin       program admin              second factor required
  partner     trusted-partner member (Valley Rural Hospital; also: bank, utility)
For the second factor, type the code printed by:
  .venv/bin/python manage.py demo_totp USERNAME
Emails are written to $VAR/emails/. Ctrl-C stops everything.
MSG
wait
