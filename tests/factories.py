"""factory_boy factories. They go through the services, so groups and permissions are real."""

from datetime import timedelta

import factory
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.services import organisation_create, user_create
from submissions import services


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.AI_DEVELOPER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return organisation_create(name=kwargs["name"], kind=kwargs["kind"])


class UserFactory(factory.django.DjangoModelFactory):
    """A user in `organisation`. Government users get a TOTP device unless with_totp=False."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)
    with_totp = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with_totp = kwargs.pop("with_totp")
        user = user_create(username=kwargs["username"], email=kwargs["email"],
                           password="correct horse battery staple",
                           organisation=kwargs["organisation"])
        if with_totp and user.membership.is_government:
            TOTP.activate(user, generate_totp_secret())
        return user


def model_fields(**overrides) -> dict:
    now = timezone.now()
    fields = {
        "name": "Atlas", "version": "1.0", "description": "A capable model.",
        "modalities": ["text", "code"], "training_compute_flop": 3e25,
        "compute_estimation_method": "arithmetic", "compute_estimation_notes": "",
        "planned_partner_release_at": now + timedelta(days=60),
        "planned_public_release_at": now + timedelta(days=90),
    }
    fields.update(overrides)
    return fields


def make_model(actor, **overrides):
    return services.model_register(actor=actor, **model_fields(**overrides))
