"""One keyset cursor for every list that pages: history, rentals, the audit log.

Rows are ordered by (-created_at, -id); the cursor is the last row shown, so page 20,000 costs what
page 1 costs (no OFFSET).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

Row = TypeVar("Row")


@dataclass(frozen=True)
class Cursor:
    """A keyset position: the last row shown. Serialised as `<created_at ISO>,<id>`."""

    created_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()},{self.id}"

    @classmethod
    def parse(cls, raw: str | None) -> "Cursor | None":
        """The cursor a link carried, or None for a missing or tampered one (the first page)."""
        stamp, _, pk = (raw or "").rpartition(",")
        try:
            moment = datetime.fromisoformat(stamp.replace(" ", "+"))
            number = int(pk)
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
            # The database compares in UTC: a moment whose UTC falls outside the calendar
            # (9999-12-31T23:00-05:00) is tampered with, not a row anyone was shown.
            moment = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
        return cls(moment, number)

    @classmethod
    def of(cls, row: Any) -> "Cursor":
        if isinstance(row, dict):
            return cls(row["created_at"], row["id"])
        return cls(row.created_at, row.pk)

    def before(self) -> Q:
        """Rows after this one in (-created_at, -id) order. The leading `<=` gives the database an index
        range to walk; the OR alone makes SQLite scan the team's whole history."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(created_at=self.created_at, id__lt=self.id)
        )


@dataclass
class Page(Generic[Row]):
    rows: list[Row]
    next_cursor: Cursor | None


def keyset_page(rows: QuerySet, *, after: Cursor | None, size: int, prepare: Callable | None = None) -> Page:
    """One page of `rows` (already ordered by -created_at, -id) after `after`."""
    if after is not None:
        rows = rows.filter(after.before())
    page = list(rows[: size + 1])
    next_cursor = None
    if len(page) > size:
        page = page[:size]
        next_cursor = Cursor.of(page[-1])
    return Page(rows=prepare(page) if prepare else page, next_cursor=next_cursor)
