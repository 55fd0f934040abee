"""How API lists come in pages (HTML lists: review_portal/pagination.py).

Large lists (review requests, models, grants, access requests, runs, notifications, the audit
trail) are cursor pages: `{"next", "previous", "results"}`, where `next` and `previous` are
links (or null) carrying an opaque `cursor`. A page costs the same wherever it is in the list:
the cursor is a position in the list's ordering, which ends with the primary key and has an
index, so the database reads the page's rows and nothing before them, and nothing is counted.

Small lists (a request's thread and artifacts, a run's samples, suites, rubrics, ...) keep page
numbers, `{"count", "next", "previous", "results"}` with `?page=N`, because a count is useful
there. The count is bounded: past COUNT_LIMIT rows it stops counting and says "10000+" (a
string), and page numbers go as far as the bound.
"""

from functools import cache

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import CursorPagination, PageNumberPagination

PAGE_SIZE = 50
COUNT_LIMIT = 10_000


class CursorPage(CursorPagination):
    """A cursor page in the order of `ordering` (set per list with `cursor_pages`). The first
    field positions the cursor; the rest, ending with the primary key, only break ties."""

    page_size = PAGE_SIZE
    ordering = ("-created_at", "-id")


@cache
def cursor_pages(*ordering: str) -> type[CursorPage]:
    """A CursorPage class for a list in `ordering` (which must end with "id" or "-id")."""
    if not ordering or ordering[-1].lstrip("-") not in ("id", "pk"):
        raise ValueError(f"{ordering} does not end with the primary key")
    name = "CursorPage_" + "_".join(f.replace("-", "desc_") for f in ordering)
    return type(name, (CursorPage,), {"ordering": ordering})


class BoundedPaginator(Paginator):
    """Counts at most COUNT_LIMIT + 1 rows (SELECT COUNT(*) over a LIMIT), never the table."""

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if hasattr(rows, "query"):  # a queryset
            return rows[:COUNT_LIMIT + 1].count()
        return min(len(rows), COUNT_LIMIT + 1)

    @property
    def count_is_bounded(self) -> bool:
        return self.count > COUNT_LIMIT

    def page(self, number):
        if not self.count_is_bounded:
            return super().page(number)
        # Past the bound the count is not the end of the list: a page is always full.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom:bottom + self.per_page], number, self)


class BoundedPageNumberPagination(PageNumberPagination):
    """Numbered pages (?page=N) with a count that stops at COUNT_LIMIT ("10000+")."""

    page_size = PAGE_SIZE
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.page.paginator.count_is_bounded:
            response.data["count"] = f"{COUNT_LIMIT}+"
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"] = {
            "oneOf": [{"type": "integer", "example": 123},
                      {"type": "string", "enum": [f"{COUNT_LIMIT}+"]}],
            "description": f"The number of results, or \"{COUNT_LIMIT}+\" past {COUNT_LIMIT}.",
        }
        return paginated


class CursorListMixin:
    """For a viewset: its `list` in cursor pages, in `list_ordering`; any other action that
    pages (a request's thread, a run's samples) in numbered pages."""

    list_ordering: tuple[str, ...] = ("-created_at", "-id")

    @property
    def pagination_class(self):
        if getattr(self, "action", None) == "list":
            return cursor_pages(*self.list_ordering)
        return BoundedPageNumberPagination
