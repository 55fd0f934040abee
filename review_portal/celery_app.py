"""The one Celery app. Periodic tasks are declared here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "review_portal.settings.local")

app = Celery("review_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# exposures/tasks_disclosure.py is not named tasks.py (exposures/tasks.py is matching's).
app.conf.include = ["review_portal.tasks", "exposures.tasks_disclosure"]

# Worker start and stop: the outbox relay and presence, hand-backs and orphan reclaims.
from evaluations import worker as _evaluation_worker  # noqa: E402,F401
from jobs import worker as _jobs_worker  # noqa: E402,F401

app.conf.beat_schedule = {
    "windows-check-rules": {
        "task": "submissions.windows_check_rules",
        "schedule": crontab(minute="*/15"),
    },
    # Permissions of ended partner grants are removed; access already ended with the window.
    "partners-sweep-ended-grants": {
        "task": "partners.grants_sweep_ended",
        "schedule": crontab(minute="*/5"),
    },
    # Partner windows: starts, ends within 3 days, unused 7 days in (each sent once).
    "notifications-partner-reminders": {
        "task": "notifications.partner_reminders",
        "schedule": crontab(minute="*/15"),
    },
    # Clearinghouse cases: silent vendors reminded at 7 and 14 days, "no response" at 21 (each
    # once), and embargoes whose end passed exited.
    "clearinghouse-sweep-silent-vendors": {
        "task": "clearinghouse.vendors_sweep_silent",
        "schedule": crontab(minute=7),
    },
    "clearinghouse-sweep-ended-embargoes": {
        "task": "clearinghouse.embargoes_sweep_ended",
        "schedule": crontab(minute="*/5"),
    },
    # Operators' exposures (exposures/disclosure.py): release those whose pre-disclosure window
    # opened (or whose case became public) and tell urgent ones not yet told; then, once a day,
    # one digest notification per operator member per case, before the email digest below.
    "exposures-sweep-disclosure": {
        "task": "exposures.disclosure_sweep",
        "schedule": crontab(minute=17),
    },
    "exposures-daily-digest": {
        "task": "exposures.digests_build",
        "schedule": crontab(hour=6, minute=40),
    },
    # One digest email per user who chose it, with their unsent notifications.
    "notifications-daily-digest": {
        "task": "notifications.send_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Verify the audit trail's hash chain and sign a checkpoint of its head; a failure shows on
    # /jobs/health/ and is emailed to the program admins once. Events after the newest
    # checkpoint can be rewritten undetected by someone with database access: this interval.
    "audit-check-trail": {
        "task": "audit.check_trail",
        "schedule": crontab(minute="*/15"),
    },
    # Runs whose worker died (no heartbeat) are retried or failed with a reason.
    "evaluations-reconcile-runs": {
        "task": "evaluations.reconcile_runs",
        "schedule": 30.0,
    },
}
