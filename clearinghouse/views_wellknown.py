"""The public CSAF provider directory at /.well-known/csaf/ (CSAF 2.0 requirements 7, 9, 11-14,
18): provider-metadata.json, white/<year>/<file>.json with its .sha256, white/index.txt,
white/changes.csv, and plain directory listings. Anyone may read it, signed in or not: only
published TLP:CLEAR (CSAF 2.0 WHITE) advisories are ever written there, by
publication.provider_directory_write. Anything else answers 404."""

import re

from django.http import Http404, HttpResponse
from django.utils.html import escape
from django.views.decorators.http import require_GET

from clearinghouse.publication import provider_root

FILE = re.compile(r"^(provider-metadata\.json|white/(index\.txt|changes\.csv)|"
                  r"white/\d{4}/[+\-a-z0-9_]+\.json(\.sha256)?)$")
FOLDER = re.compile(r"^(white/(\d{4}/)?)?$")
TYPES = {".json": "application/json", ".txt": "text/plain; charset=utf-8",
         ".csv": "text/csv; charset=utf-8", ".sha256": "text/plain; charset=utf-8"}


@require_GET
def csaf_file(request, path: str):
    if FOLDER.match(path):
        return _listing(path)
    if not FILE.match(path):
        raise Http404
    target = provider_root() / path
    if not target.is_file():
        raise Http404
    suffix = "." + path.rsplit(".", 1)[1]
    response = HttpResponse(target.read_bytes(), content_type=TYPES[suffix])
    # Aggregators poll; a minute of caching keeps them cheap and a publication visible soon.
    response["Cache-Control"] = "public, max-age=60"
    return response


def _listing(path: str):
    """Requirement 14: directory listings for manual navigation (links only, no script)."""
    folder = provider_root() / path
    if not folder.is_dir():
        raise Http404
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                   if not p.name.startswith("."))
    items = "".join(f'<li><a href="{escape(n)}">{escape(n)}</a></li>' for n in names)
    title = escape(f"/.well-known/csaf/{path}")
    return HttpResponse(f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                        f"<title>{title}</title></head><body><h1>{title}</h1><ul>{items}</ul>"
                        f"</body></html>", content_type="text/html; charset=utf-8")
