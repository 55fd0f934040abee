"""A job whose task ended is marked done (or failed) in the outbox, wherever it ran."""

from celery.signals import task_postrun


@task_postrun.connect(dispatch_uid="outbox-mark-finished")
def _task_finished(task_id=None, state=None, retval=None, **_):
    # RETRY: the task publishes itself again under the same id and ends later.
    if not task_id or state not in ("SUCCESS", "FAILURE"):
        return
    from jobs.services import outbox_mark_finished

    outbox_mark_finished(task_id=task_id, succeeded=state == "SUCCESS",
                         error="" if state == "SUCCESS" else f"{type(retval).__name__}: {retval}")
