import csv
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render

from accounts.policy import is_program_admin
from audit.selectors import audit_trail_page_filtered
from review_portal.pagination import paginate

EXPORT_COLUMNS = ["created_at", "actor_label", "action", "object_type", "object_id",
                  "object_label", "organisation", "data"]


# A cell that starts with one of these is a formula to Excel, LibreOffice and Google Sheets.
# Labels in the trail come from users (model names, usernames, organisation names), so an
# admin opening the export must not run what a developer typed (OWASP "CSV injection").
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTERS) else text


class _Echo:
    def write(self, value):
        return value


@login_required
def audit_list(request):
    if not is_program_admin(request.user):
        raise Http404
    event_filter = audit_trail_page_filtered(params=request.GET)
    events = event_filter.qs if event_filter.is_valid() else event_filter.queryset.none()
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(EXPORT_COLUMNS)
            for e in events.iterator(chunk_size=2000):
                yield writer.writerow([csv_cell(value) for value in (
                    e.created_at.isoformat(), e.actor_label, e.action, e.object_type,
                    e.object_id, e.object_label, e.organisation.name if e.organisation else "",
                    json.dumps(e.data, sort_keys=True))])

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
        return response
    return render(request, "audit/list.html", {"filter": event_filter,
                                               "events": paginate(request, events)})
