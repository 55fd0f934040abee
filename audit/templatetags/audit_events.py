"""Audit events on pages, in plain words (audit/describe.py):
{{ event|audit_sentence }}, {{ event|audit_sentence:"hide_government" }} for whoever may not
learn who in the government acted, {{ event.action|audit_label }}, and
{% for field in event|audit_details %}{{ field.label }}: {{ field.value }}{% endfor %}."""

from django import template

from audit import describe

register = template.Library()


@register.filter
def audit_sentence(event, mode: str = "") -> str:
    return describe.sentence(event, hide_government=mode == "hide_government")


@register.filter
def audit_actor(event, mode: str = "") -> str:
    return describe.actor_name(event, hide_government=mode == "hide_government")


@register.filter
def audit_label(code: str) -> str:
    return describe.action_label(code)


@register.filter
def audit_details(event) -> list[describe.Field]:
    return describe.details(event)
