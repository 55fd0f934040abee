from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notifications import selectors, services
from notifications.models import NotificationPreference
from review_portal.pagination import paginate


@login_required
def inbox(request):
    page = paginate(request, selectors.notifications_for(user=request.user))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk):
    """Mark read, then follow the notification's link (only a path inside the portal)."""
    notification = selectors.notification_get_for_user(user=request.user, pk=pk)
    services.notification_mark_read(notification=notification)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
            notification.link, allowed_hosts={request.get_host()}):
        return redirect(notification.link)
    return redirect("inbox")


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_mark_all_read(user=request.user)
    return redirect("inbox")


@login_required
def preferences(request):
    if request.method == "POST":
        delivery = request.POST.get("delivery")
        if delivery in NotificationPreference.Delivery.values:
            services.preference_set(user=request.user, delivery=delivery)
            messages.success(request, "Your email preference is saved.")
            return redirect("notification_preferences")
        messages.error(request, "Choose immediate emails or a daily digest.")
    return render(request, "notifications/preferences.html", {
        "delivery": selectors.delivery_of(user=request.user),
        "choices": NotificationPreference.Delivery.choices})
