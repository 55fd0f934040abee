"""Vendors and operators join the clearinghouse and are vetted by the program office, the way
trusted partners are; vendors keep the product catalogue reports are matched against."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Organisation, User
from audit.models import AuditEvent
from clearinghouse import access, members
from clearinghouse.models import Case, MemberProfile, Participant, VendorProduct
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind


@pytest.fixture
def cast(world):
    vendor_org = OrganisationFactory(name="Libexample Project", kind=K.VENDOR)
    operator_org = OrganisationFactory(name="County Water", kind=K.OPERATOR)
    world.vendor = UserFactory(username="vendor", organisation=vendor_org)
    world.operator = UserFactory(username="operator", organisation=operator_org)
    return world


def _apply(user):
    return members.member_apply(actor=user, description="An open-source TLS library.",
                                security_contact="security@example.org")


def test_a_vendor_applies_and_the_program_office_hears_of_it(cast):
    profile = _apply(cast.vendor)
    assert profile.status == MemberProfile.Status.APPLIED
    assert AuditEvent.objects.filter(action="clearinghouse.member_applied").count() == 1
    assert cast.admin.notifications.filter(kind="member_status").count() == 1


def test_only_vendors_and_operators_apply(api, cast):
    for user in (cast.owner, cast.partner, cast.reviewer):
        response = api.as_(user).post("/api/v1/clearinghouse-members/", {
            "description": "x", "security_contact": "a@example.org"})
        assert response.status_code == 403, user
    assert not MemberProfile.objects.exists()


def test_the_program_office_vets_a_member_with_a_reason_and_the_member_is_told(api, cast):
    profile = _apply(cast.operator)
    mail.outbox.clear()
    response = api.as_(cast.admin).post(f"/api/v1/clearinghouse-members/{profile.pk}/vet/",
                                        {"reason": "Known water utility."})
    assert response.status_code == 200 and response.json()["status"] == "vetted"
    assert AuditEvent.objects.filter(action="clearinghouse.member_vetted").count() == 1
    assert cast.operator.notifications.filter(kind="member_status").exists()
    assert all("Known water utility" not in m.body for m in mail.outbox)


def test_vetting_needs_a_reason_and_answers_json(api, cast):
    profile = _apply(cast.vendor)
    response = api.as_(cast.admin).post(f"/api/v1/clearinghouse-members/{profile.pk}/vet/", {})
    assert response.status_code == 400 and "reason" in response.content.decode()
    profile.refresh_from_db()
    assert profile.status == MemberProfile.Status.APPLIED


@pytest.mark.parametrize("actor", ["owner", "reviewer", "partner", "operator", "anonymous"])
def test_no_one_but_the_program_office_sees_or_vets_another_member(api, cast, actor):
    profile = _apply(cast.vendor)
    user = getattr(cast, actor, None) if actor != "anonymous" else None
    response = api.as_(user).post(f"/api/v1/clearinghouse-members/{profile.pk}/vet/",
                                  {"reason": "x"})
    assert response.status_code in ((401, 403) if user is None else (404,))
    profile.refresh_from_db()
    assert profile.status == MemberProfile.Status.APPLIED


def test_a_vendor_sees_its_cases_only_while_vetted(cast):
    profile = _apply(cast.vendor)
    case = Case.objects.create(reference="CH-2026-0001", year=2026, number=1, title="t",
                               summary="s", created_by=cast.admin)
    Participant.objects.create(case=case, organisation=cast.vendor.membership.organisation,
                               role=Participant.Role.VENDOR)
    # Each check loads the vendor anew, as each request does: a user object remembers its
    # vetting for the request it serves (is_active_member).
    def vendor():
        return User.objects.get(pk=cast.vendor.pk)

    assert not access.cases_visible_to(vendor()).exists()
    members.member_transition(profile=profile, actor=cast.admin, action="vet", reason="ok")
    assert list(access.cases_visible_to(vendor())) == [case]
    members.member_transition(profile=profile, actor=cast.admin, action="suspend",
                              reason="lapsed contact")
    assert not access.cases_visible_to(vendor()).exists()


def test_a_vendor_adds_a_product_by_package_url_and_it_is_stored_as_its_key(api, cast):
    response = api.as_(cast.vendor).post("/api/v1/vendor-products/", {
        "name": "libexample", "purl": "pkg:pypi/Lib_Example@1.2.0"})
    assert response.status_code == 201, response.content
    product = VendorProduct.objects.get()
    assert product.purl_key == "pkg:pypi/lib-example"
    assert product.vendor == cast.vendor.membership.organisation
    assert AuditEvent.objects.filter(action="clearinghouse.vendor_product_added").count() == 1


def test_a_product_without_a_valid_identifier_is_refused_with_a_clear_error(api, cast):
    for body in ({"name": "x"}, {"name": "x", "purl": "not a purl"},
                 {"name": "x", "cpe": "cpe:2.3:a:*:*"}):
        response = api.as_(cast.vendor).post("/api/v1/vendor-products/", body)
        assert response.status_code == 400, body
        assert response["Content-Type"].startswith("application/json")
    assert not VendorProduct.objects.exists()


def test_a_vendor_cannot_add_to_another_vendors_catalogue(api, cast):
    other = OrganisationFactory(name="Other Vendor", kind=K.VENDOR)
    response = api.as_(cast.vendor).post("/api/v1/vendor-products/", {
        "name": "x", "purl": "pkg:npm/x", "vendor": other.pk})
    assert response.status_code == 403
    assert not VendorProduct.objects.exists()


@pytest.mark.parametrize("actor,status", [
    ("vendor", 200), ("operator", 200), ("admin", 200), ("owner", 200), ("partner", 200),
    ("anonymous", 302)])
def test_the_members_page_shows_each_role_only_what_it_may_see(client, cast, actor, status):
    _apply(cast.vendor)
    user = getattr(cast, actor, None) if actor != "anonymous" else None
    if user:
        client.force_login(user)
    response = client.get(reverse("clearinghouse_member_list"))
    assert response.status_code == status
    if status == 200:
        sees = "Libexample Project" in response.content.decode()
        assert sees == (actor in ("vendor", "admin"))


def test_the_program_office_vets_from_the_page_after_confirming(client, cast):
    profile = _apply(cast.vendor)
    client.force_login(cast.admin)
    url = reverse("clearinghouse_member_action", args=[profile.pk, "vet"])
    page = client.post(url, {"reason": "Known project."})
    assert page.status_code == 200 and b"Vet the organisation" in page.content
    profile.refresh_from_db()
    assert profile.status == MemberProfile.Status.APPLIED
    client.post(url, {"reason": "Known project.", "confirm": "yes"})
    profile.refresh_from_db()
    assert profile.status == MemberProfile.Status.VETTED


def test_the_admin_shows_clearinghouse_records_but_changes_none_of_them(client, cast):
    profile = _apply(cast.vendor)
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(cast.admin)
    page = client.get(reverse("admin:clearinghouse_memberprofile_change", args=[profile.pk]))
    assert page.status_code == 200 and b"Libexample Project" in page.content
    client.post(reverse("admin:clearinghouse_memberprofile_change", args=[profile.pk]),
                {"status": "vetted", "status_reason": "side door"})
    assert client.get(reverse("admin:clearinghouse_memberprofile_add")).status_code == 403
    profile.refresh_from_db()
    assert profile.status == MemberProfile.Status.APPLIED


@pytest.mark.parametrize("catalogue,claimed", [
    ("pkg:pypi/Lib_Example", "pkg:pypi/lib.example@1.2.0"),
    ("pkg:github/LibreTLS/libretls", "pkg:github/libretls/LibreTLS@v3.8.1"),
    ("pkg:npm/%40scope/name", "pkg:npm/@scope/name@2.0.0?arch=x64"),
])
def test_a_catalogue_entry_and_a_reports_claim_of_one_package_share_one_key(
        cast, catalogue, claimed):
    from clearinghouse.intake import product_claim_build

    product = members.vendor_product_add(actor=cast.vendor,
                                         vendor=cast.vendor.membership.organisation,
                                         name="lib", purl=catalogue)
    assert product_claim_build(purl=claimed).purl_key == product.purl_key
