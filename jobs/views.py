"""The background jobs page for program admins. It parses nothing, calls jobs.selectors and
renders; who may see it is decided there (anyone but a program admin: 404)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jobs import selectors
from review_portal.pagination import paginate


@login_required
@require_GET
@never_cache
def queue_health(request):
    report = selectors.queue_health(user=request.user)
    # The report reads every worker seen in the last week (its problems need them all); the
    # table shows them a page at a time.
    return render(request, "jobs/queue_health.html", {
        "report": report,
        "workers": paginate(request, report.workers, param="workers_page", fragment="workers")})
