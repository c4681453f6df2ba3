"""One picker for a service or a country of a provider's catalogue, used by every form and history filter.

The widget is a native `<input list>` with a `<datalist>` whose options are the codes, each labelled with
its name in the reader's language: browsers search the names and the codes as the member types, the
keyboard and screen readers work as for any text field, and a picked entry submits its code. A name typed
in full ("Telegram", "telegram", "Россия", "Russia") is understood as well: the fields resolve what was
typed to the code on the server (`providers.selectors.resolve`), and an unknown name is a form error.
`static/js/simdesk.js` shows the picked entry's name beside the field and, for a list of several
services, offers the names for the part after the last comma.

Forms give the fields their entries (`field.options = catalogue.services`) when they are built; a field
without entries (the provider's lists could not be read) accepts codes only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership
from accounts.permissions import visible_keys
from kit.filters import INT_MAX
from providers.selectors import Catalogue, Option, catalogue_for, matching, resolve

SERVICE_CODE = re.compile(r"[a-z0-9_]{1,16}")
# ASCII digits only: str.isdigit() also takes "²" and "٣", which int() cannot read.
COUNTRY_CODE = re.compile(r"[0-9]{1,10}")

Options = list[Option] | Callable[[], list[Option]]


class CatalogPicker(forms.TextInput):
    """A text input searching a catalogue list by name and code (`templates/providers/picker.html`)."""

    def __init__(self, attrs: dict[str, Any] | None = None, *, multiple: bool = False) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.multiple = multiple
        self.options: Options = []

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = dict(attrs or {})
        base = attrs.get("id") or f"id_{name}"
        list_id, name_id = f"{base}-options", f"{base}-name"
        attrs.update({"list": list_id, "data-picker": "multiple" if self.multiple else "one"})
        attrs["aria-describedby"] = " ".join(filter(None, [attrs.get("aria-describedby"), name_id]))
        field = super().render(name, value, attrs, renderer)
        options = self.options() if callable(self.options) else self.options
        extra = render_to_string(
            "providers/picker.html", {"list_id": list_id, "name_id": name_id, "options": options}
        )
        return mark_safe(field + extra)  # noqa: S308 - both parts are rendered (escaped) templates


class _CatalogField(forms.CharField):
    """A service or country typed or picked by name or code; subclasses say how a code looks."""

    widget = CatalogPicker
    code = SERVICE_CODE
    unknown = _("No entry is called “%(value)s”.")
    unreadable = _("“%(value)s” is not a code.")

    def __init__(self, *, multiple: bool = False, placeholder: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200 if multiple else 80)
        kwargs.setdefault("widget", CatalogPicker(multiple=multiple))
        super().__init__(**kwargs)
        self.multiple = multiple
        self._options: Options = []
        if placeholder:
            self.widget.attrs["placeholder"] = placeholder

    @property
    def options(self) -> list[Option]:
        """The entries a typed name is resolved against (read once, when first needed)."""
        if callable(self._options):
            self._options = self._options()
        return self._options

    @options.setter
    def options(self, options: Options) -> None:
        self._options = options
        self.widget.options = lambda: self.options

    def to_code(self, text: str) -> Any:
        """The code `text` names; a ValidationError saying so when it names none."""
        options = self.options
        if options:
            option = resolve(text, options)
            if option is not None and self.code.fullmatch(option.code.lower()):
                return self.as_code(option.code)
            raise ValidationError(self.unknown, params={"value": text}, code="unknown")
        # Without the provider's list only a code can be understood.
        if self.code.fullmatch(text.lower()):
            return self.as_code(text)
        raise ValidationError(self.unreadable, params={"value": text}, code="invalid")

    def as_code(self, code: str) -> Any:
        return code.lower()

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in self.empty_values:
            return [] if self.multiple else text
        if not self.multiple:
            return self.to_code(text)
        codes: list[Any] = []
        problems: list[ValidationError] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                codes.append(self.to_code(part))
            except ValidationError as exc:
                problems.append(exc)
        if problems:
            raise ValidationError(problems)
        return codes


class ServiceField(_CatalogField):
    """A service of the catalogue by name or code, cleaned to its code (`tg`); `multiple`: a comma list."""

    unknown = _("No service is called “%(value)s”: choose one from the list or type its code (e.g. tg).")
    unreadable = _("“%(value)s” is not a service code (e.g. tg); the provider's list could not be read.")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", _("e.g. Telegram or tg"))
        super().__init__(**kwargs)


class CountryField(_CatalogField):
    """A country of the catalogue by name in any of the provider's languages or by number, cleaned to its
    number (0 for Russia)."""

    code = COUNTRY_CODE
    unknown = _("No country is called “%(value)s”: choose one from the list or type its number (e.g. 0).")
    unreadable = _("“%(value)s” is not a country number (e.g. 0); the provider's list could not be read.")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", _("e.g. Russia or 0"))
        super().__init__(**kwargs)

    def as_code(self, code: str) -> int:
        number = int(code)
        if number > INT_MAX:
            raise ValidationError(self.unknown, params={"value": code}, code="unknown")
        return number


# --- history filters -----------------------------------------------------------------------------


class _SearchField(forms.CharField):
    """A history filter's search: every code the text names, or whose name contains it."""

    code = SERVICE_CODE
    nothing = _("Nothing is called “%(value)s”.")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("widget", CatalogPicker())
        super().__init__(**kwargs)
        self._options: Options = []

    options = _CatalogField.options

    def as_code(self, code: str) -> Any:
        return code.lower()

    def clean(self, value: Any) -> list[Any] | None:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        options = self.options
        exact = resolve(text, options)
        found = [exact] if exact is not None else matching(text, options)
        codes = [self.as_code(o.code) for o in found if self.code.fullmatch(o.code.lower())]
        # A code the catalogue no longer lists still finds the rows that carry it.
        if not codes and self.code.fullmatch(text.lower()):
            codes = [self.as_code(text)]
        codes = [code for code in codes if code is not None]  # a number no column holds finds nothing
        if not codes:
            raise ValidationError(self.nothing, params={"value": text}, code="unknown")
        return codes


class ServiceSearchField(_SearchField):
    nothing = _("No service is called “%(value)s”.")


class CountrySearchField(_SearchField):
    code = COUNTRY_CODE
    nothing = _("No country is called “%(value)s”.")

    def as_code(self, code: str) -> int | None:
        number = int(code)
        return number if number <= INT_MAX else None


class CatalogFilter(django_filters.Filter):
    """Rows whose service (or country) is one the typed name or code finds (`CatalogFilters` gives the
    entries); a name that finds nothing filters nothing and is reported beside the field."""

    def filter(self, qs: QuerySet, value: list[Any] | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class ServiceFilter(CatalogFilter):
    field_class = ServiceSearchField


class CountryFilter(CatalogFilter):
    field_class = CountrySearchField


class CatalogFilters:
    """Mixin for a team list's filters (`accounts.filters.TeamFilters`): its service and country filters
    search the catalogues of the keys the member sees, as stored by the catalogue sweeper or cached by a
    form (a list never waits for a provider), read once and only when a field is shown or a name typed."""

    filters: Mapping[str, django_filters.Filter]

    def use_catalogue(self, membership: Membership | None) -> None:
        form = self.form  # type: ignore[attr-defined]
        read: list[Catalogue] = []

        def catalogue() -> Catalogue:
            if not read:
                keys = list(visible_keys(membership).distinct()) if membership is not None else []
                read.append(catalogue_for(keys))
            return read[0]

        for name, filter_ in self.filters.items():
            if isinstance(filter_, CatalogFilter) and name in form.fields:
                kind = "services" if isinstance(filter_, ServiceFilter) else "countries"
                form.fields[name].options = lambda kind=kind: getattr(catalogue(), kind)
