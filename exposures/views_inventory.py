"""Pages of an operator's inventories, under /exposures/inventories/: the list (asset counts,
last import), a new inventory from its first upload with its SSVC defaults, one inventory (its
assets paged and filtered by name, its import history, a re-import, its SSVC inputs set on every
listed asset), one asset's SSVC inputs, and the program office's counts per operator (numbers
only: never an inventory's name or an asset). The same access helpers, selectors and services
as the API (exposures/api_inventory.py); what a user may not see answers 404; a refused upload
is shown on its form, never a 500."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from exposures import access
from exposures import inventory as inv
from exposures import inventory_selectors as selectors
from exposures.models import SSVC, Inventory
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate

FORMATS = [("", "Detect from the content"), *Inventory.Format.choices]
NAME_FILTER_MAX = 200


def _inputs_fields(prefix: str = "") -> dict:
    return {
        f"{prefix}exposure": forms.ChoiceField(
            choices=SSVC.SystemExposure.choices, label="System exposure",
            help_text="Small: local or air-gapped; controlled: reachable through access "
                      "controls; open: reachable from the internet."),
        f"{prefix}mission_impact": forms.ChoiceField(
            choices=SSVC.MissionImpact.choices, label="Mission impact",
            help_text="What its failure does to your organisation's mission essential "
                      "functions."),
        f"{prefix}safety_impact": forms.ChoiceField(
            choices=SSVC.SafetyImpact.choices, label="Safety impact",
            help_text="The worst harm to people, property or the environment its failure "
                      "could cause."),
    }


class UploadForm(forms.Form):
    file = forms.FileField(
        allow_empty_file=True,  # the service names the problem ("The file is empty.")
        label="Inventory file",
        help_text="CycloneDX (JSON or XML), SPDX (JSON or tag-value), or a CSV with the "
                  "columns vendor, product, version (and optionally purl, cpe, name).")
    format = forms.ChoiceField(choices=FORMATS, required=False, label="Format")


class InventoryCreateForm(UploadForm):
    name = forms.CharField(max_length=200, label="Name of the inventory",
                           help_text="For example the site or the system it lists.")
    field_order = ["name", "file", "format"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = _inputs_fields("default_")
        fields["default_exposure"].initial = SSVC.SystemExposure.CONTROLLED
        fields["default_mission_impact"].initial = SSVC.MissionImpact.MEF_SUPPORT_CRIPPLED
        fields["default_safety_impact"].initial = SSVC.SafetyImpact.MARGINAL
        for name, field in fields.items():
            field.help_text = "Every asset starts with it; " + field.help_text[0].lower() + \
                field.help_text[1:]
            self.fields[name] = field


class InputsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_inputs_fields())


def _require_operator(user) -> None:
    if not access.may_manage_inventory(user):
        raise Http404("No such page.")


def _label(details: dict) -> str:
    name = details.get("name") or details.get("product") or "(no name)"
    version = details.get("version")
    return f"{name} {version}" if version else name


def _decorate(assets) -> list:
    for asset in assets:
        if not hasattr(asset, "details"):
            asset.details = inv.details_decrypt(asset.details_encrypted)
        asset.label = _label(asset.details)
        asset.matchable = inv.asset_is_matchable(asset)
    return assets


def _matches(details: dict, needle: str) -> bool:
    return any(needle in (details.get(key) or "").casefold()
               for key in ("name", "vendor", "product"))


@login_required
def inventory_list(request):
    _require_operator(request.user)
    page = paginate(request, selectors.inventories_with_counts(request.user))
    return render(request, "exposures/inventory_list.html", {"inventories": page})


@login_required
def inventory_create(request):
    _require_operator(request.user)
    form = InventoryCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            record = call_service(request, form, lambda: inv.inventory_create(
                actor=request.user, name=data["name"], uploaded_file=data["file"],
                fmt=data.get("format", ""), default_exposure=data["default_exposure"],
                default_mission_impact=data["default_mission_impact"],
                default_safety_impact=data["default_safety_impact"]))
            if record is not None:
                messages.success(request, f"Inventory created: {record.added:,} assets.")
                return redirect("inventory_detail", pk=record.inventory_id)
        return render(request, "exposures/inventory_create.html", {"form": form}, status=400)
    return render(request, "exposures/inventory_create.html", {"form": form})


def _assets_page(request, inventory):
    """The page of the inventory's assets; `?q=` filters by name, vendor or product (their
    details are encrypted: the inventory's assets are decrypted here, in one query, and
    filtered; at most INVENTORY_MAX_ASSETS of them)."""
    removed = request.GET.get("removed", "") in ("1", "true")
    qs = selectors.assets_filtered(request.user, {"inventory": str(inventory.pk),
                                                  "removed": "1" if removed else ""})
    needle = request.GET.get("q", "").strip()[:NAME_FILTER_MAX].casefold()
    if needle:
        rows = []
        for asset in qs.iterator(chunk_size=2000):
            asset.details = inv.details_decrypt(asset.details_encrypted)
            if _matches(asset.details, needle):
                rows.append(asset)
        page = paginate(request, rows, fragment="assets")
    else:
        page = paginate(request, qs, fragment="assets")
    page.rows = _decorate(page.rows)
    return page, needle, removed


def _detail(request, inventory, *, upload_form=None, inputs_form=None, code=200):
    assets, needle, removed = _assets_page(request, inventory)
    imports = paginate(request, inventory.imports.all(), param="history_page",
                       fragment="imports")
    if inputs_form is None:
        inputs_form = InputsForm(initial={"exposure": inventory.default_exposure,
                                          "mission_impact": inventory.default_mission_impact,
                                          "safety_impact": inventory.default_safety_impact})
    return render(request, "exposures/inventory_detail.html", {
        "inventory": inventory, "assets": assets, "imports": imports,
        "q": request.GET.get("q", "").strip()[:NAME_FILTER_MAX], "filtered": bool(needle),
        "removed": removed, "upload_form": upload_form or UploadForm(),
        "inputs_form": inputs_form}, status=code)


@login_required
def inventory_detail(request, pk):
    inventory = access.inventory_get_for_user(user=request.user, pk=pk)
    return _detail(request, inventory)


@login_required
@require_POST
def inventory_upload(request, pk):
    inventory = access.inventory_get_for_user(user=request.user, pk=pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        record = call_service(request, form, lambda: inv.inventory_import(
            actor=request.user, inventory=inventory, uploaded_file=form.cleaned_data["file"],
            fmt=form.cleaned_data.get("format", "")))
        if record is not None:
            messages.success(request, f"Imported: {record.added:,} added, {record.updated:,} "
                                      f"updated, {record.unchanged:,} unchanged, "
                                      f"{record.removed:,} removed.")
            return redirect("inventory_detail", pk=inventory.pk)
    return _detail(request, inventory, upload_form=form, code=400)


@login_required
@require_POST
def inventory_inputs(request, pk):
    inventory = access.inventory_get_for_user(user=request.user, pk=pk)
    form = InputsForm(request.POST)
    if form.is_valid():
        inputs = form.cleaned_data
        overwritten = selectors.assets_an_inputs_change_overwrites(inventory, inputs)
        shown = [(form.fields[name].label, dict(form.fields[name].choices)[value])
                 for name, value in inputs.items()]
        changed = call_service_confirmed(request, form, lambda: inv.inventory_inputs_set(
            actor=request.user, inventory=inventory, **inputs), confirmation=dict(
                title=f"Set the SSVC inputs of every asset in “{inventory.name}”",
                consequence=f"{overwritten:,} listed assets hold other inputs, some of them "
                            "perhaps set one by one; they all take these, new assets start "
                            "with them, and the priorities of their exposures are computed "
                            "again. Each asset can be changed afterwards on its own page.",
                details=[*shown, ("Assets that change", f"{overwritten:,}")],
                button="Set on every asset", danger=False,
                back_url=reverse("inventory_detail", args=[inventory.pk])))
        if isinstance(changed, HttpResponse):
            return changed
        if changed is not None:
            messages.success(request, f"SSVC inputs set: {changed:,} assets changed; new "
                                      "assets start with them.")
            return redirect("inventory_detail", pk=inventory.pk)
    return _detail(request, inventory, inputs_form=form, code=400)


@login_required
def asset_edit(request, pk):
    asset = access.asset_get_for_user(user=request.user, pk=pk)
    _decorate([asset])
    form = InputsForm(request.POST or None, initial={
        "exposure": asset.exposure, "mission_impact": asset.mission_impact,
        "safety_impact": asset.safety_impact})
    if request.method == "POST":
        if form.is_valid() and call_service(request, form, lambda: inv.asset_inputs_set(
                actor=request.user, asset=asset, **form.cleaned_data)):
            messages.success(request, "SSVC inputs recorded for this asset.")
            return redirect("inventory_detail", pk=asset.inventory_id)
        code = 400
    else:
        code = 200
    return render(request, "exposures/inventory_asset.html", {
        "asset": asset, "inventory": asset.inventory, "form": form}, status=code)


@login_required
def inventory_counts(request):
    if not policy.is_clearinghouse_coordinator(request.user):
        raise Http404("No such page.")
    page = paginate(request, selectors.operator_counts(request.user))
    return render(request, "exposures/inventory_counts.html", {"operators": page})
