"""One way to declare the filters of a list (the histories, the audit log) and of its exports: django-filter.

A list declares a `ListFilters` subclass, one filter per query parameter, named as the parameter. One
instance, bound to the query string, serves the page (its `form`, with a message beside a value it could
not read), the links (`query`: the "Older" link and the exports carry the same filters) and the rows
(`apply`):

- It holds no rows of its own. `apply(rows)` narrows rows the caller already scoped to the member's team
  and grants, so a filter can never widen what a member sees, and django-filter's default queryset (a
  whole table) is never built: `qs` is empty.
- Unbound (no query string) it filters nothing. A value it cannot read (a bad date, an id that is not
  one of the member's choices, garbage) filters nothing and is reported beside its field; the other
  values still apply, so the page, its next pages and its exports always show the same rows.
- A day is a whole day in the reader's time zone, both ends included (`DayFromFilter`, `DayToFilter`):
  the lists show times in that zone too.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})

# The range of an IntegerField column on every database we run on: a larger value typed in a form or a
# query string is refused as a value, never sent to the database (SQLite overflows, PostgreSQL errs).
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the reader's time zone (the active one), as UTC."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone()).astimezone(UTC)


class DayFromFilter(django_filters.DateFilter):
    """Rows from the start of this day (the reader's time zone) on."""

    def __init__(self, field_name: str = "created_at", **kwargs: Any) -> None:
        kwargs.setdefault("widget", DATE_WIDGET)
        super().__init__(field_name, **kwargs)

    def filter(self, qs: QuerySet, value: date | None) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__gte": day_start(value)})


class DayToFilter(django_filters.DateFilter):
    """Rows up to the end of this day in the reader's time zone (before the next one starts)."""

    def __init__(self, field_name: str = "created_at", **kwargs: Any) -> None:
        kwargs.setdefault("widget", DATE_WIDGET)
        super().__init__(field_name, **kwargs)

    def filter(self, qs: QuerySet, value: date | None) -> QuerySet:
        if value in EMPTY_VALUES or value == date.max:  # no day after the last one: nothing to cut
            return qs
        return qs.filter(**{f"{self.field_name}__lt": day_start(value + timedelta(days=1))})


class TextFilter(django_filters.CharFilter):
    """Text compared the way it is stored: `normalise` turns what was typed into that form (surrounding
    spaces are already gone); a value that normalises to nothing filters nothing."""

    def __init__(self, field_name: str, *, normalise: Callable[[str], str] = str, **kwargs: Any) -> None:
        self.normalise = normalise
        super().__init__(field_name, **kwargs)

    def filter(self, qs: QuerySet, value: str | None) -> QuerySet:
        return super().filter(qs, self.normalise(value) if value else value)


class NumberFilter(django_filters.Filter):
    """A whole number within an integer column's range (django-filter's own NumberFilter reads decimals)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["min_value"] = max(kwargs.get("min_value", INT_MIN), INT_MIN)
        kwargs["max_value"] = min(kwargs.get("max_value", INT_MAX), INT_MAX)
        super().__init__(*args, **kwargs)


class RowFilter(django_filters.ModelChoiceFilter):
    """One of the member's own rows (a key, a member), chosen by public id.

    Declared without choices: the list's filters give each one the rows the member may choose from when
    they are built (`limit_to`), so another team's id is never a valid choice. A filter left without
    them fails loudly instead of reading a whole table.
    """

    def __init__(self, field_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(field_name, **kwargs)

    def limit_to(self, rows: QuerySet) -> None:
        self.queryset = rows

    def get_queryset(self, request: Any) -> QuerySet:
        if self.queryset is None:
            raise ImproperlyConfigured(f"{self.field_name}: no choices given (RowFilter.limit_to)")
        return self.queryset


class ListFilters(django_filters.FilterSet):
    """The filters of one list, bound to its query string (see the module docstring).

    Subclasses declare their filters and `Meta.model` (the model of the rows they narrow) with
    `fields = ()`: every filter is declared, none generated.
    """

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        # An empty query string is no filter at all (the page's first load), as an unbound form is.
        super().__init__(data or None, queryset=self._meta.model._default_manager.none())

    def apply(self, rows: QuerySet) -> QuerySet:
        """`rows` (already the member's) narrowed by every value that could be read."""
        if not self.is_bound:
            return rows
        self.form.is_valid()  # cleaned_data then holds the values that could be read, and only those
        return self.filter_queryset(rows)

    @property
    def ignored(self) -> bool:
        """Whether a value could not be read (and so filters nothing)."""
        return self.is_bound and bool(self.form.errors)

    @property
    def problems(self) -> list[tuple[str, str]]:
        """(label, message) of each value that could not be read, for a notice above the results."""
        if not self.ignored:
            return []
        fields = self.form.fields
        return [
            (str(fields[name].label) if name in fields else "", " ".join(errors))
            for name, errors in self.form.errors.items()
        ]

    @property
    def query(self) -> str:
        """The filters as submitted, as a query string for links that keep them (no `after`, no strays)."""
        return self.query_of(self.data) if self.is_bound else ""

    @classmethod
    def query_of(cls, data: Mapping[str, Any]) -> str:
        """`query` of the filters `data` would make, without making them (a poll that may answer 204)."""
        pairs = []
        for name in cls.base_filters:
            value = data.get(name)
            if value not in EMPTY_VALUES:
                pairs.append((name, str(value)))
        return urlencode(pairs)
