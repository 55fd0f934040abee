"""allauth's MFA signals, turned into audit events (no rules here: see accounts.services)."""

from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from accounts import services


@receiver(authenticator_added)
def record_authenticator_added(sender, user, authenticator, **kwargs):
    services.mfa_change_record(user=user, authenticator=authenticator, change="added")


@receiver(pre_delete, sender=Authenticator)
def remember_authenticator_id(sender, instance, **kwargs):
    # Django clears the primary key on delete; the removal event still names the row.
    instance._audit_id = instance.pk


@receiver(authenticator_removed)
def record_authenticator_removed(sender, user, authenticator, **kwargs):
    services.mfa_change_record(user=user, authenticator=authenticator, change="removed",
                               authenticator_id=getattr(authenticator, "_audit_id", None))
