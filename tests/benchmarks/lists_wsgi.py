"""The WSGI application bench_lists.py serves on one gunicorn: the portal, plus /raw/<list>/,
a hand-written SQL baseline that answers the same page (same rows, same fields, same order) as
JSON, with no framework in between (no middleware, no authentication, no visibility check: the
caller's role comes in the query string). The second baseline, the same SQL behind the portal's
middleware, token authentication and visibility rule, is /stack/<list>/ in lists_urls.py (the
benchmark's URLconf, set by lists_settings.py). Only ever started by the benchmark."""

import json
from datetime import datetime
from urllib.parse import parse_qs

from review_portal.wsgi import application as portal

PAGE = 50

# list name -> (SELECT ... FROM ... for one row, ORDER BY columns, the filter for each role).
# %(user)s, %(org)s are the caller's id and organisation id.
REQUESTS = (
    "SELECT r.id, r.model_id, m.name || ' ' || m.version, r.status, r.cover_note, r.created_at,"
    " r.submitted_at, r.status_changed_at FROM submissions_reviewrequest r"
    " JOIN submissions_frontiermodel m ON m.id = r.model_id",
    ("r.created_at", "r.id"), True,
    {"admin": "TRUE", "developer": "m.organisation_id = %(org)s",
     "reviewer": "r.id IN (SELECT request_id FROM submissions_reviewerassignment"
                 " WHERE reviewer_id = %(user)s)"},
)
MODELS = (
    "SELECT m.id, o.name, m.name, m.version, m.description, m.modalities,"
    " m.training_compute_flop, m.compute_estimation_method, m.compute_estimation_notes,"
    " m.planned_partner_release_at, m.planned_public_release_at, m.created_at, m.updated_at"
    " FROM submissions_frontiermodel m JOIN accounts_organisation o ON o.id = m.organisation_id",
    ("m.name", "m.version", "m.id"), False,
    {"admin": "TRUE", "developer": "m.organisation_id = %(org)s",
     "reviewer": "m.id IN (SELECT r.model_id FROM submissions_reviewerassignment a"
                 " JOIN submissions_reviewrequest r ON r.id = a.request_id"
                 " WHERE a.reviewer_id = %(user)s)"},
)
GRANTS = (
    "SELECT g.id, g.request_id, g.model_id, m.name || ' ' || m.version, o.name, g.starts_at,"
    " g.ends_at, g.token_hint, (g.revoked_at IS NULL AND g.starts_at <= now()"
    " AND g.ends_at > now() AND p.status = 'vetted'), g.revoked_at, g.revoke_reason,"
    " g.created_at FROM partners_accessgrant g"
    " JOIN submissions_frontiermodel m ON m.id = g.model_id"
    " JOIN accounts_organisation o ON o.id = g.organisation_id"
    " LEFT JOIN partners_partnerprofile p ON p.organisation_id = o.id",
    ("g.starts_at", "g.id"), True,
    {"admin": "TRUE", "developer": "m.organisation_id = %(org)s",
     "partner": "g.organisation_id = %(org)s"},
)
NOTIFICATIONS = (
    "SELECT n.id, n.kind, n.title, n.body, n.link, n.created_at, n.read_at,"
    " n.read_at IS NOT NULL FROM notifications_notification n",
    ("n.created_at", "n.id"), True,
    {"admin": "n.user_id = %(user)s"},
)
AUDIT = (
    "SELECT e.id, e.created_at, e.actor_label, e.action, e.object_type, e.object_id,"
    " e.object_label, o.name, e.data FROM audit_auditevent e"
    " LEFT JOIN accounts_organisation o ON o.id = e.organisation_id",
    ("e.created_at", "e.id"), True,
    {"admin": "TRUE"},
)
LISTS = {"review-requests": REQUESTS, "models": MODELS, "access-grants": GRANTS,
         "notifications": NOTIFICATIONS, "audit-events": AUDIT}
FIELDS = {
    "review-requests": ["id", "model", "model_label", "status", "cover_note", "created_at",
                        "submitted_at", "status_changed_at"],
    "models": ["id", "organisation", "name", "version", "description", "modalities",
               "training_compute_flop", "compute_estimation_method", "compute_estimation_notes",
               "planned_partner_release_at", "planned_public_release_at", "created_at",
               "updated_at"],
    "access-grants": ["id", "request", "model", "model_label", "organisation", "starts_at",
                      "ends_at", "token_hint", "is_live", "revoked_at", "revoke_reason",
                      "created_at"],
    "notifications": ["id", "kind", "title", "body", "link", "created_at", "read_at", "is_read"],
    "audit-events": ["id", "created_at", "actor_label", "action", "object_type", "object_id",
                     "object_label", "organisation", "data"],
}


def _value(v):
    if isinstance(v, datetime):
        return v.isoformat().replace("+00:00", "Z")
    return v


def raw_page(name: str, role: str, user: int, org: int, last: bool) -> dict:
    """One page: the first, or with last=True the last (the order reversed, then turned back)."""
    from django.db import connection

    select, order, descending, filters = LISTS[name]
    forward = descending != last
    direction = " DESC" if forward else ""
    sql = (f"{select} WHERE {filters[role]} ORDER BY "
           + ", ".join(c + direction for c in order) + f" LIMIT {PAGE}")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user, "org": org})
        rows = cursor.fetchall()
        if last:
            rows.reverse()
        results = [dict(zip(FIELDS[name], map(_value, row), strict=True)) for row in rows]
        if name == "review-requests" and results:
            cursor.execute(
                "SELECT request_id, id, outcome, rationale, decided_at"
                " FROM submissions_determination WHERE request_id = ANY(%s)"
                " ORDER BY decided_at DESC, id DESC", [[r["id"] for r in results]])
            by_request: dict[int, list] = {}
            for request_id, pk, outcome, rationale, decided_at in cursor.fetchall():
                by_request.setdefault(request_id, []).append(
                    {"id": pk, "outcome": outcome, "rationale": rationale,
                     "decided_at": _value(decided_at)})
            for r in results:
                r["determinations"] = by_request.get(r["id"], [])
    for r in results:
        for key in ("modalities", "data"):
            if isinstance(r.get(key), str):
                r[key] = json.loads(r[key])
    return {"next": None, "previous": None, "results": results}


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/raw/"):
        return portal(environ, start_response)
    from django.db import close_old_connections

    close_old_connections()
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    body = json.dumps(raw_page(path.strip("/").split("/")[1], query["role"], int(query["user"]),
                               int(query.get("org", 0)), query.get("last") == "1")).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
