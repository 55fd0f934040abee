"""One way to page an HTML list: `paginate(request, queryset)` and `includes/pagination.html`.

- A page holds `HTML_PAGE_SIZE` rows (50; never more than MAX_PAGE_SIZE), in the queryset's
  order with the primary key appended as a tie-breaker when the order has none, so rows with
  equal sort keys never move between pages or show up twice.
- Two queries per list, whatever its size: a COUNT bounded to `HTML_PAGE_COUNTED_PAGES` pages
  (20: 1,000 rows at 50 a page; it reads at most that many index entries, where an unbounded
  COUNT of a 100,000-row list reads them all on every page), then the page's rows. Past the
  bound the total is unknown: the links show the pages around this one and "Next" while rows
  remain, no last page.
- `?page=` is a positive integer. Anything else (`abc`, `0`, `-1`, `1.5`, more than nine
  digits), and a page past the last, is a 404: a URL that names no page, never a 500 and never
  a silent page 1 that looks like the page asked for.
- Links keep every other query parameter (filters), so paging a filtered list stays filtered;
  several lists on one page each take their own parameter (`thread_page`, `history_page`).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.expressions import OrderBy
from django.http import Http404

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNTED_PAGES = 20
AROUND = 2  # page links shown on each side of the current one

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


def page_size() -> int:
    return max(1, min(int(getattr(settings, "HTML_PAGE_SIZE", PAGE_SIZE)), MAX_PAGE_SIZE))


def counted_pages() -> int:
    return max(1, int(getattr(settings, "HTML_PAGE_COUNTED_PAGES", COUNTED_PAGES)))


@dataclass
class Link:
    number: int | None  # None: a gap (…)
    url: str = ""
    current: bool = False


@dataclass
class Page:
    rows: list
    number: int
    per_page: int
    has_next: bool
    total: int | None  # None: more rows than the bounded count reads
    path: str
    query: object = field(repr=False)  # the request's QueryDict
    param: str = "page"
    fragment: str = ""

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def num_pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)

    def url(self, number: int) -> str:
        query = self.query.copy()
        if number == 1:
            query.pop(self.param, None)
        else:
            query[self.param] = str(number)
        encoded = query.urlencode()
        return (f"?{encoded}" if encoded else self.path) + (
            f"#{self.fragment}" if self.fragment else "")

    @property
    def previous_url(self) -> str:
        return self.url(self.number - 1) if self.has_previous else ""

    @property
    def next_url(self) -> str:
        return self.url(self.number + 1) if self.has_next else ""

    @property
    def links(self) -> list[Link]:
        """The first page, the pages around this one, the last when known; gaps between."""
        last = self.num_pages
        high = min(last, self.number + AROUND) if last else self.number + (1 if self.has_next
                                                                           else 0)
        numbers = sorted({1, *range(max(1, self.number - AROUND), high + 1),
                          *([last] if last else [])})
        links: list[Link] = []
        for number in numbers:
            if links and number - links[-1].number > 1:
                links.append(Link(None))
            links.append(Link(number, self.url(number), number == self.number))
        if last is None and self.has_next:
            links.append(Link(None))  # more pages than the bounded count read
        return links


def _with_tie_breaker(queryset: QuerySet) -> QuerySet:
    query = queryset.query
    ordering = list(query.order_by) or (
        list(queryset.model._meta.ordering) if query.default_ordering else [])
    if not ordering:
        return queryset.order_by("pk")
    last = ordering[-1]
    pk_names = {"pk", queryset.model._meta.pk.name, queryset.model._meta.pk.attname}
    if isinstance(last, str):
        if last.lstrip("-") in pk_names:
            return queryset
        descending = last.startswith("-")
    else:
        descending = isinstance(last, OrderBy) and last.descending
    return queryset.order_by(*ordering, "-pk" if descending else "pk")


def page_number(request, param: str = "page") -> int:
    raw = request.GET.get(param)
    if raw is None or raw == "":
        return 1
    if not _PAGE_NUMBER.fullmatch(raw):
        raise Http404("No such page.")
    return int(raw)


def paginate(request, rows: QuerySet | Sequence, *, param: str = "page",
             per_page: int | None = None, fragment: str = "") -> Page:
    """The page of `rows` that `request.GET[param]` names (404 if none); see the module doc."""
    number = page_number(request, param)
    size = max(1, min(per_page or page_size(), MAX_PAGE_SIZE))
    bound = size * counted_pages()
    if isinstance(rows, QuerySet):
        rows = _with_tie_breaker(rows)
        # values("pk") drops annotations from the counted SELECT (a correlated subquery per row
        # would cost what the bound saves); the slice makes it COUNT(*) FROM (... LIMIT bound).
        counted = rows.order_by().values("pk")[:bound + 1].count()
    else:
        counted = min(len(rows), bound + 1)
    total = counted if counted <= bound else None
    if total is not None and number > max(1, -(-total // size)):
        raise Http404("No such page.")
    offset = (number - 1) * size
    fetched = list(rows[offset:offset + size + 1])
    if not fetched and number > 1:
        raise Http404("No such page.")
    return Page(rows=fetched[:size], number=number, per_page=size,
                has_next=len(fetched) > size, total=total, path=request.path,
                query=request.GET, param=param, fragment=fragment)
