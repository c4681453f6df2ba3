"""Template helpers of the rental pages: codes highlighted in SMS texts."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from rentals.services import CODE_RE

register = template.Library()


@register.filter
def highlight_codes(text: str) -> SafeString:
    """The SMS text, escaped, with everything that looks like a code wrapped in <mark class="code">."""
    parts: list[str] = []
    last = 0
    for match in CODE_RE.finditer(text or ""):
        parts.append(escape(text[last : match.start(1)]))
        parts.append(format_html('<mark class="code mono">{}</mark>', match.group(1)))
        last = match.end(1)
    parts.append(escape((text or "")[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above
