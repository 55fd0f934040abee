"""Emails as subject / text / html template triplets rendered by one helper.

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


def enqueue_email(template: str, *, to: list[str], context: dict) -> None:
    """Render now (the context is plain data), send from a worker once the transaction commits."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    subject, text, html = render_email(template, context)
    from jobs.services import job_enqueue

    # In the caller's transaction: the email exists exactly when the change does, and a broker
    # outage delays it without losing it.
    job_enqueue(task="portal.send_email",
                kwargs={"to": recipients, "subject": subject, "text": text, "html": html})
