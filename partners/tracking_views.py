"""Pages for window tracking and the iCalendar feed. They parse, call partners/tracking.py and
render; the rules (who sees what, the states) live there."""

import gzip

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partners import tracking
from review_portal import pagination
from review_portal.ids import MAX_ID

STATE_CHOICES = [("", "Any state"), *tracking.State.LABELS.items()]


DATE_RANGE = [
    MinValueValidator(tracking.FILTER_DATE_MIN, message=tracking.FILTER_DATE_ERROR),
    MaxValueValidator(tracking.FILTER_DATE_MAX, message=tracking.FILTER_DATE_ERROR),
]



class WindowFilterForm(forms.Form):
    model = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    organisation = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    date_from = forms.DateField(required=False, label="From", validators=DATE_RANGE)
    date_to = forms.DateField(required=False, label="To", validators=DATE_RANGE)
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end of the range is before its start.")
        return data

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"model_id": data["model"], "organisation_id": data["organisation"],
                "date_from": data["date_from"], "date_to": data["date_to"],
                "state": data["state"] or None}


@login_required
def window_tracking(request):
    """One page of the windows the user may track that overlap a date range (default: the
    coming 90 days), as a timeline on the range's axis and a table (404 for anyone who may not
    track). A filter that cannot be read is shown as a form error and dropped, whole. Pages as
    every HTML list does (review_portal/pagination.py): 50 a page, a count bounded at 20 pages,
    404 for a page number that names no page."""
    form = WindowFilterForm(request.GET or None)
    number = pagination.page_number(request)
    size = pagination.page_size()
    page = tracking.windows_page(user=request.user, page=number, size=size,
                                 count_cap=size * pagination.counted_pages(), **form.filters())
    if not page.rows and number > 1:
        raise Http404("No such page.")
    models, organisations = tracking.tracking_filter_choices(user=request.user)
    pager = pagination.Page(rows=page.rows, number=number, per_page=size,
                            has_next=page.has_next,
                            total=None if page.count_capped else page.count, path=request.path,
                            query=request.GET)
    return render(request, "partners/window_tracking.html", {
        "form": form, "page": page, "pager": pager, "rows": page.rows,
        "range": page.date_range, "timeline": tracking.timeline(page.rows, page.date_range),
        "models": models, "organisations": organisations,
        "legend": list(tracking.State.LABELS.items()),
        "patterns": [(key, tracking.State.MARKS[key]) for key in tracking.State.LABELS],
        "geometry": {"label_w": tracking.LABEL_W, "chart_w": tracking.CHART_W,
                     "width": tracking.LABEL_W + tracking.CHART_W}})


@login_required
@require_POST
@never_cache
def calendar_feed_create(request):
    """Create (or replace) the user's secret feed URL and show it once."""
    _, token = tracking.calendar_feed_create(user=request.user)
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return render(request, "partners/calendar_feed_created.html", {"feed_url": url})


@login_required
@require_POST
def calendar_feed_revoke(request):
    if tracking.calendar_feed_revoke(user=request.user):
        messages.success(request, "Calendar feed URL revoked; calendars using it stop updating.")
    return redirect("profile")


def accepts_gzip(request) -> bool:
    """Whether Accept-Encoding admits gzip (not "gzip;q=0")."""
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() == "gzip":
            q = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return True
    return False


@require_GET
def calendar_feed(request, token):
    """The feed itself: no session, the secret token is the credential. 404 when revoked or
    unknown, like any object the caller may not see, and that before any 304: a revoked URL
    never learns whether anything changed.

    Horizon: the windows that end after now - 30 days and start before now + 365 days
    (tracking.FEED_PAST, FEED_FUTURE). Conditional GET: the answer carries an ETag and a
    Last-Modified computed by two aggregate queries without rendering the feed; a request whose
    If-None-Match (or, without one, If-Modified-Since) still matches gets 304 Not Modified.
    Cache-Control private, no-cache: a calendar app may keep the body but asks again each time,
    and no shared cache keeps a secret URL's content. The rendered body of each version is kept
    in the cache for a day (tracking.calendar_body), so a second client of the same URL costs
    the aggregates and a cache read, not a render."""
    user = tracking.calendar_feed_user(token=token)
    etag, last_modified = tracking.calendar_version(user=user)
    packed = accepts_gzip(request)
    headers = HttpResponse(content_type="text/calendar; charset=utf-8")
    # Two representations of one version: the gzip one's validator is weak (RFC 9110 8.8.3);
    # If-None-Match compares weakly, so either validator still earns a 304.
    headers["ETag"] = f"W/{etag}" if packed else etag
    headers["Last-Modified"] = http_date(last_modified.timestamp())
    patch_cache_control(headers, private=True, no_cache=True, max_age=0)
    patch_vary_headers(headers, ("Accept-Encoding",))
    answer = get_conditional_response(request, etag=headers["ETag"],
                                      last_modified=int(last_modified.timestamp()),
                                      response=headers)
    if answer is not headers:
        return answer  # 304 Not Modified (or 412 for a failed If-Match)
    body = tracking.calendar_body(user=user, token=token, etag=etag)
    if packed:
        headers["Content-Encoding"] = "gzip"
        headers.content = body
    else:
        headers.content = gzip.decompress(body)
    headers["Content-Disposition"] = 'inline; filename="access-windows.ics"'
    return headers
