"""Advisory pages: a case's advisory revisions with what still holds publication back, a draft
with its validator reports, generating and publishing (confirmed first). Same access helpers and
services as /api/v1/advisories/; what the user may not see answers 404, may not do 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clearinghouse import access, case_selectors, publication
from clearinghouse.exports.generate import to_bytes
from clearinghouse.exports.naming import csaf_filename
from clearinghouse.exports.validate import problems
from review_portal.pages import call_service, call_service_confirmed

EXPORTS = ("csaf", "vex", "osv", "cve")


@login_required
def advisory_list(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    coordinates = access.may_coordinate(request.user, case)
    return render(request, "clearinghouse/advisory_list.html", {
        "case": case, "coordinates": coordinates,
        "advisories": access.advisories_visible_to(request.user).filter(case=case)
        .defer("csaf", "vex", "osv", "cve").order_by("-revision"),
        "blockers": publication.publication_blockers(case) if coordinates else []})


@login_required
@require_POST
def advisory_generate_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    if not access.may_coordinate(request.user, case):
        raise PermissionDenied
    advisory = call_service(request, None, lambda: publication.advisory_generate(
        case=case, by=request.user))
    if advisory is None:
        return redirect("advisory_list", pk=case.pk)
    if advisory.validation.get("ok"):
        messages.success(request, f"Draft revision {advisory.revision} generated; every "
                                  "export validates.")
    else:
        messages.error(request, f"Draft revision {advisory.revision} generated, but some "
                                "exports do not validate: see the reports below.")
    return redirect("advisory_detail", pk=advisory.pk)


@login_required
def advisory_detail(request, pk):
    advisory = access.advisory_get_for_user(user=request.user, pk=pk)
    coordinates = access.may_coordinate(request.user, advisory.case)
    draft = advisory.status == advisory.Status.DRAFT
    reports = advisory.validation or {}
    rows = [("CSAF advisory", reports.get("csaf")), ("CSAF VEX", reports.get("vex"))]
    rows += [(f"OSV record {i}", r) for i, r in enumerate(reports.get("osv", []), start=1)]
    rows += [(f"CVE CNA container {i}", r) for i, r in enumerate(reports.get("cve", []),
                                                                 start=1)]
    return render(request, "clearinghouse/advisory_detail.html", {
        "advisory": advisory, "case": advisory.case, "coordinates": coordinates,
        "reports": [(label, r) for label, r in rows if r],
        "problems": problems(reports) if reports else [],
        "blockers": publication.publication_blockers(advisory.case, advisory=advisory)
        if coordinates and draft else [],
        "may_publish": coordinates and draft, "exports": EXPORTS,
        "may_withdraw": coordinates and advisory.status == advisory.Status.PUBLISHED})


@login_required
def advisory_export(request, pk, kind):
    """One export as JSON, as generated (the same bytes as hashed)."""
    advisory = access.advisory_get_for_user(user=request.user, pk=pk)
    if kind not in EXPORTS:
        raise Http404
    name = {"csaf": csaf_filename(advisory.tracking_id),
            "vex": csaf_filename(f"{advisory.tracking_id}-VEX")}.get(
        kind, f"{advisory.tracking_id.lower()}-{kind}.json")
    response = HttpResponse(to_bytes(getattr(advisory, kind)), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def advisory_publish_view(request, pk):
    advisory = access.advisory_get_for_user(user=request.user, pk=pk)
    back = reverse("advisory_detail", args=[advisory.pk])
    done = call_service_confirmed(request, None, lambda: publication.advisory_publish(
        advisory=advisory, by=request.user), confirmation={
            "title": f"Publish {advisory.tracking_id} revision {advisory.revision}?",
            "consequence": "The advisory, its VEX document, OSV records and CVE record become "
                           "public at /.well-known/csaf/ for anyone and any aggregator, and "
                           "every participant is told. A published advisory is not unpublished "
                           "(it can only be withdrawn or superseded). This is recorded.",
            "button": "Publish the advisory", "back_url": back,
            "details": [("Case", advisory.case.reference),
                        ("Revision", str(advisory.revision))]})
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"{done.tracking_id} published.")
    return redirect(back)


@login_required
@require_POST
def advisory_withdraw_view(request, pk):
    advisory = access.advisory_get_for_user(user=request.user, pk=pk)
    back = reverse("advisory_detail", args=[advisory.pk])
    reason = request.POST.get("reason", "")
    done = call_service_confirmed(request, None, lambda: publication.advisory_withdraw(
        advisory=advisory, by=request.user, reason=reason), confirmation={
            "title": f"Withdraw {advisory.tracking_id} revision {advisory.revision}?",
            "consequence": "The case's advisory leaves /.well-known/csaf/ and every participant "
                           "is told. Copies aggregators already took stay with them. This is "
                           "recorded.",
            "button": "Withdraw the advisory", "back_url": back,
            "details": [("Case", advisory.case.reference), ("Reason", reason)]})
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"{done.tracking_id} revision {done.revision} withdrawn.")
    return redirect(back)
