"""Ids that arrive as text (a query string's filter, a form's hidden field)."""

import re

_DIGITS = re.compile(r"[0-9]{1,19}")
# The largest value a BIGINT primary key holds, on PostgreSQL and SQLite alike.
MAX_ID = 2**63 - 1


def id_or_none(value) -> int | None:
    """The id written in ``value`` if it could name a row, else None: what no row can have
    (a negative number, 2**63, a superscript two that str.isdigit accepts) matches nothing
    rather than reaching the database, where SQLite overflows and PostgreSQL refuses it."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
