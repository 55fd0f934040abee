"""Emails as subject / text / html template triplets rendered by one helper.

Every notification is sent through notifications.services.notify (the inbox row first, then
an immediate email or the daily digest, as the user chose); allauth sends its own account
emails (address confirmation, password reset).

Bodies carry only what every recipient may see: a request's number, its model's name and the
new status, plus a link. Confidential content stays behind the portal's login.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    ctx = {"base_url": settings.PORTAL_BASE_URL, **context}
    subject = render_to_string(f"emails/{template}-subject.txt", ctx).strip()
    text = render_to_string(f"emails/{template}-body.txt", ctx)
    html = render_to_string(f"emails/{template}-body.html", ctx)
    return " ".join(subject.split()), text, html


def send_rendered(*, to: list[str], subject: str, text: str, html: str) -> None:
    msg = EmailMultiAlternatives(subject=subject, body=text, to=to)
    msg.attach_alternative(html, "text/html")
    msg.send()
