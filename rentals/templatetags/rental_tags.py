"""Template helpers of the rental pages: codes highlighted in SMS texts, countdowns, the at-risk badge."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Membership
from rentals.selectors import at_risk
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


@register.filter
def span(seconds: int | None) -> str:
    """Seconds as `2d 3:04:05`, `3:04:05` or `4:05` (the JavaScript countdown takes over from it)."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours or days else f"{minutes}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


@register.simple_tag
def rentals_at_risk(membership: Membership | None) -> list:
    """Live rentals that end soon with auto-renew off or failing (for the navigation badge)."""
    if membership is None:
        return []
    return at_risk(membership)
