"""Page through a long list newest first, a window at a time, by position instead of number.

A numbered page costs ``OFFSET``: the database walks every row before the page, so page
500 of the outbox is as slow as reading 25,000 rows, and "page N of M" needs a
``COUNT(*)`` over the whole (filtered) list on every request. A keyset window starts
from a row instead: "the 50 rows older than contact 1234" is an index seek whatever the
depth. Rows are ordered by ``(key, id)`` descending, so an index on ``(…, key, id)``
serves every window; the anchor row's own key is read by the database in a subquery,
so the comparison uses exactly the stored value (no round trip through Python).

Rows sharing the anchor's key are read separately from the rows beyond it: a row-value
comparison ``(key, id) < (…)`` would be one query, but SQLite seeks on its first column
only, and thousands of outbox rows share one planned time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db.models import Model, QuerySet, Subquery


@dataclasses.dataclass(frozen=True, kw_only=True)
class Window:
    """Hold one window of rows, newest first, and the anchors of its neighbours.

    ``newer`` is the id to pass as ``after`` for the window before this one (``None`` on
    the newest window); ``older`` the id to pass as ``before`` for the next one.
    """

    rows: list[Any]
    newer: int | None
    older: int | None

    @property
    def has_other_pages(self) -> bool:
        """Tell whether there is a window either side of this one."""
        return self.newer is not None or self.older is not None


def window(
    queryset: QuerySet[Any],
    *,
    key: str,
    size: int,
    before: int | None = None,
    after: int | None = None,
) -> Window:
    """Return the ``size`` rows of ``queryset`` just older than row ``before`` (or newer than
    ``after``), newest first by ``(key, id)``; with neither, the newest ``size`` rows.

    A window newer than ``after`` that would be short is the newest window instead, so
    walking back always ends on a full first page; so is a window from a row that does
    not exist (deleted, or a made-up id).
    """
    anchor = before if before is not None else after
    if anchor is not None and not queryset.model._default_manager.filter(pk=anchor).exists():
        before = after = None
    if before is not None:
        rows = _beyond(queryset, key=key, anchor=before, older=True, limit=size + 1)
        shown = rows[:size]
        if not shown:  # nothing older: a link back to the rows newer than the anchor
            return Window(rows=[], newer=before, older=None)
        newer_exists = _beyond(queryset, key=key, anchor=shown[0].pk, older=False, limit=1)
        return Window(
            rows=shown,
            newer=shown[0].pk if newer_exists else None,
            older=shown[-1].pk if len(rows) > size else None,
        )
    if after is not None:
        rows = _beyond(queryset, key=key, anchor=after, older=False, limit=size + 1)
        if len(rows) > size:
            shown = rows[:size][::-1]
            older_exists = _beyond(queryset, key=key, anchor=shown[-1].pk, older=True, limit=1)
            return Window(
                rows=shown, newer=shown[0].pk, older=shown[-1].pk if older_exists else None
            )
    rows = list(queryset.order_by(f"-{key}", "-pk")[: size + 1])
    return Window(
        rows=rows[:size], newer=None, older=rows[size - 1].pk if len(rows) > size else None
    )


def _beyond(
    queryset: QuerySet[Any], *, key: str, anchor: int, older: bool, limit: int
) -> list[Any]:
    """Return up to ``limit`` rows past the anchor row, nearest first."""
    model: type[Model] = queryset.model
    # The anchor is looked up in the whole table: it need not match the filters any more
    # (a row shown as PLANNED may have been sent since), its position is still valid.
    mark = Subquery(model._default_manager.filter(pk=anchor).values(key)[:1])
    if older:
        order = (f"-{key}", "-pk")
        same = queryset.filter(**{key: mark, "pk__lt": anchor})
        past = queryset.filter(**{f"{key}__lt": mark})
    else:
        order = (key, "pk")
        same = queryset.filter(**{key: mark, "pk__gt": anchor})
        past = queryset.filter(**{f"{key}__gt": mark})
    rows = list(same.order_by(*order)[:limit])
    if len(rows) < limit:
        rows += list(past.order_by(*order)[: limit - len(rows)])
    return rows
