"""Pages for window tracking and the iCalendar feed. They parse, call partners/tracking.py and
render; the rules (who sees what, the states) live there."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from partners import tracking

STATE_CHOICES = [("", "Any state"), *tracking.State.LABELS.items()]


DATE_RANGE = [
    MinValueValidator(tracking.FILTER_DATE_MIN, message=tracking.FILTER_DATE_ERROR),
    MaxValueValidator(tracking.FILTER_DATE_MAX, message=tracking.FILTER_DATE_ERROR),
]


# The largest id any database here stores (64-bit); SQLite overflows on a larger lookup.
MAX_ID = 2**63 - 1


class WindowFilterForm(forms.Form):
    model = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    organisation = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    date_from = forms.DateField(required=False, label="From", validators=DATE_RANGE)
    date_to = forms.DateField(required=False, label="To", validators=DATE_RANGE)
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"model_id": data["model"], "organisation_id": data["organisation"],
                "date_from": data["date_from"], "date_to": data["date_to"],
                "state": data["state"] or None}


@login_required
def window_tracking(request):
    """Every window the user may track, as a table and a timeline per model (404 otherwise)."""
    form = WindowFilterForm(request.GET or None)
    rows = tracking.windows_overview(user=request.user, **form.filters())
    models, organisations = tracking.tracking_filter_choices(user=request.user)
    return render(request, "partners/window_tracking.html", {
        "form": form, "rows": rows, "timelines": tracking.timelines(rows), "models": models,
        "organisations": organisations, "legend": [
            (label, tracking.State.COLOURS[key]) for key, label in tracking.State.LABELS.items()],
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


@require_GET
@never_cache
def calendar_feed(request, token):
    """The feed itself: no session, the secret token is the credential. 404 when revoked or
    unknown, like any object the caller may not see."""
    user = tracking.calendar_feed_user(token=token)
    body = tracking.calendar_render(tracking.windows_for_calendar(user=user))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="access-windows.ics"'
    return response
