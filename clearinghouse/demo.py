"""The clearinghouse's part of the demo (`manage.py seed_demo`): two vendors and an operator,
vetted, with their catalogues; then a case opened from an AI-found report on a demo model's
evaluation, with one vendor that fixed and one that stayed silent, an embargo, and a published
advisory. Everything goes through the services, as a user would do it."""

from accounts.models import Organisation
from accounts.services import organisation_create, user_create
from clearinghouse import members

K = Organisation.Kind


def seed_members(*, password: str, admin) -> dict:
    """The vendors (one maintains an open-source library, one makes infusion-pump firmware)
    and a water utility, each with one user, applied and vetted."""
    libre = organisation_create(name="Libretls Project", kind=K.VENDOR)
    medi = organisation_create(name="MediPump Devices", kind=K.VENDOR)
    water = organisation_create(name="Riverside Water Authority", kind=K.OPERATOR)
    people = {
        "vendor": (libre, "Lee", "Park", "An open-source TLS and HTTP library."),
        "vendor2": (medi, "Kim", "Ruiz", "Infusion pump firmware and its update service."),
        "operator": (water, "Ola", "Berg", "Drinking water treatment for 80,000 people."),
    }
    users = {}
    for username, (org, first, last, description) in people.items():
        users[username] = user = user_create(
            username=username, email=f"{username}@example.org", password=password,
            organisation=org, first_name=first, last_name=last)
        profile = members.member_apply(actor=user, description=description,
                                       security_contact=f"security@{username}.example.org")
        members.member_transition(profile=profile, actor=admin, action="vet",
                                  reason="Security contact verified (demo).")
    members.vendor_product_add(actor=users["vendor"], vendor=libre, name="libretls",
                               purl="pkg:github/libretls/libretls")
    members.vendor_product_add(actor=users["vendor2"], vendor=medi, name="MediPump firmware",
                               cpe="cpe:2.3:o:medipump:mp200_firmware:*:*:*:*:*:*:*:*")
    return users
