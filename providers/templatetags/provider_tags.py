"""The provider's display name for a key's profile slug."""

from django import template

from providers.profiles import get_profile

register = template.Library()


@register.filter
def provider_name(slug: str) -> str:
    try:
        return get_profile(slug).name
    except (KeyError, LookupError, ValueError):
        return slug
