"""The provider's display name for a key's profile slug, and catalogue entries shown by name and code."""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from providers.profiles import get_profile

register = template.Library()


@register.filter
def provider_name(slug: str) -> str:
    try:
        return get_profile(slug).name
    except (KeyError, LookupError, ValueError):
        return slug


@register.simple_tag
def named(name: Any, code: Any) -> SafeString:
    """A service or country as every list shows it: its name with the code muted beside it
    (`Telegram tg`), or the code alone when the catalogue does not name it."""
    code_text = "" if code is None else str(code)
    name_text = "" if name is None else str(name)
    if not name_text or name_text == code_text:
        return format_html('<span class="named"><span class="mono">{}</span></span>', code_text)
    return format_html(
        '<span class="named">{} <span class="muted mono small code-tag">{}</span></span>',
        name_text,
        code_text,
    )


@register.simple_tag
def service_named(catalogue: Any, code: Any) -> SafeString:
    """A service code named from a catalogue (`providers.selectors.Catalogue` or `Names`), code muted."""
    name = catalogue.service_name(code) if catalogue is not None else ""
    return named(name, code)


@register.simple_tag
def service_text(catalogue: Any, code: Any) -> str:
    """A service's name as plain text (for a question or a tooltip), its code when the catalogue lacks it."""
    name = catalogue.service_name(code) if catalogue is not None else ""
    return name or ("" if code is None else str(code))


@register.simple_tag
def country_named(catalogue: Any, code: Any) -> SafeString:
    """A country number named from a catalogue in the reader's language, the number muted beside it."""
    name = catalogue.country_name(code) if catalogue is not None else ""
    return named(name, code)
