"""The one place money and times are turned into text: pages, messages, CSV exports and charts.

Money is `Decimal` from the database to the text; a float exists only for Chart.js to draw
(`money_number`), never for a value someone reads or adds up.

- Pages and messages: `money_text` -> `1,234.50 RUB`: two decimals, up to four when the amount has
  them (providers price in up to four), thousands grouped.
- Exports: `money_plain` -> `1234.5000`: always four decimals, the scale of every money column
  (`DecimalField(decimal_places=4)`), so an export is the ledger to the last unit, a column has one
  shape whatever its rows hold, and no row is rounded. No grouping, no exponent, no currency.
- Times in exports: `iso_time` -> `2026-03-01T12:00:00+00:00`, ISO 8601 in UTC (fractions of a
  second only when there are any, as `datetime.isoformat()` writes them), for scripts; `sheet_time` ->
  `2026-03-01 15:00:00` in the reader's time zone, the form a spreadsheet reads as a date and time.
- Times in messages said when read (`kit.phrases`): `time_text` -> `2026-03-01 15:00`, in the reader's
  (active) time zone, 24-hour.
- Time left on pages: `countdown_text` -> `2d 3:04:05`, `3:04:05`, `4:05` (the JavaScript countdown
  goes on from it in the same format).
"""

import math
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext

# Every money column stores four decimal places; exports write exactly that many.
PLAIN_PLACES = 4
# Pages show at least this many decimals, and the rest of the stored ones when they are not zero.
TEXT_MIN_PLACES = 2

# Decimal in practice; ints and text (`"12.5"`) are exact too. Floats are taken at their shortest text.
Amount = Decimal | int | str | float


def _decimal(amount: Amount) -> Decimal:
    # A float goes through its shortest text: 0.1 -> 0.1, not 0.1000000000000000055511151231257827.
    if isinstance(amount, Decimal):
        return amount
    if isinstance(amount, float):
        return Decimal(repr(amount))
    return Decimal(amount)


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(PLAIN_PLACES + 1)}


def _rounded(amount: Decimal, places: int) -> Decimal:
    # Half away from zero, as PostgreSQL's round(numeric) does, and no "-0.00".
    rounded = amount.quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def money_text(amount: Amount | None, currency: str = "") -> str:
    """`Decimal("1234.5"), "RUB"` -> `1,234.50 RUB`; `0.0725` -> `0.0725`; None -> `—`."""
    if amount is None:
        return "—"
    value = _decimal(amount)
    exponent = value.normalize().as_tuple().exponent
    places = TEXT_MIN_PLACES
    if isinstance(exponent, int) and -exponent > places:
        places = min(-exponent, PLAIN_PLACES)
    return f"{_rounded(value, places):,.{places}f} {currency}".strip()


def money_plain(amount: Amount | None, decimal_mark: str = ".") -> str:
    """`Decimal("12.5")` -> `12.5000`, `-3.5` -> `-3.5000`; None -> empty. For CSV and machine readers;
    a spreadsheet in a language that writes `12,5` gets `decimal_mark=","` -> `12,5000`."""
    if amount is None:
        return ""
    text = format(_rounded(_decimal(amount), PLAIN_PLACES), "f")
    return text if decimal_mark == "." else text.replace(".", decimal_mark)


def money_number(amount: Amount | None) -> float | None:
    """A number for Chart.js to draw (JavaScript has no decimal type); tables and exports keep the Decimal."""
    return None if amount is None else float(_decimal(amount))


def iso_time(moment: datetime | None) -> str:
    """`2026-03-01T12:00:00+00:00`: ISO 8601 in UTC; None -> empty."""
    if moment is None:
        return ""
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()


SHEET_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def sheet_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """`2026-03-01 15:00:00`: to the second in `zone` (default: the active time zone), 24-hour, no offset;
    what a spreadsheet takes for a date and time. None -> empty."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # `timezone.localtime`, written out: exports call this for millions of cells. isoformat is strftime's
    # SHEET_TIME_FORMAT at a fraction of the cost.
    return moment.astimezone(zone or timezone.get_current_timezone()).isoformat(" ", "seconds")[:19]


def time_text(moment: datetime) -> str:
    """`2026-03-01 15:00` in the active time zone (the reader's), 24-hour; a naive time is taken as UTC."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def countdown_text(seconds: float | None) -> str:
    """Seconds left as `2d 3:04:05`, `3:04:05` or `4:05`; None -> `—`. The text a countdown starts from,
    in the format `static/js/simdesk.js` keeps it ticking in. A fraction rounds UP (119.2 s is `2:00`):
    a countdown shows 0:00 only once the moment has come, never before."""
    if seconds is None:
        return "—"
    days, rest = divmod(max(0, math.ceil(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours or days else f"{minutes}:{secs:02d}"
    # Translators: days and the clock of a countdown, as in "2d 3:04:05" (the same text as simdesk.js).
    return gettext("%(days)sd %(clock)s") % {"days": days, "clock": clock} if days else clock
