"""Messages that are stored, said in the reader's language when read.

A worker writes with no request and no language; a member reads in Russian, another in English. So a
message that is kept (an audit entry's summary, a key's health, a purchase's or a renewal's error, a job's
outcome) is stored as its English msgid and its parameters, and translated each time someone reads it:

    audit_record(..., summary=phrase(gettext_noop("Removed %(user)s"), user=user.username))
    touch(row, error_message=phrase(gettext_noop("The answer was lost (%(code)s)."), code=code).stored(300))
    {{ row.error_message|phrase_text }}   or   phrase_text(row.error_message)

The msgid is marked for makemessages at the call site: `gettext_noop("...")` (translates nothing),
`ngettext_lazy(singular, plural, "n")` for a count (Russian has three forms; `n` names the parameter that
holds the count), `pgettext_lazy(context, "...")` for a word with a context. Parameters stay data:
- text and numbers as they are;
- a lazy translation (a choice's label: `Role(role).label`) or a nested `Phrase` as a phrase of its own,
  translated too;
- money (`Money`, or a bare `Decimal`) and times (`datetime`) as values, formatted when read
  (`kit.formats`) in the reader's language and time zone.

A stored phrase is compact JSON (`{"m": msgid, "p": {...}}`) that `Phrase.stored` fits into the column by
shortening the longest text parameters, never by cutting the JSON. Text stored before this (plain words in
the writer's language) is shown as it is, or translated when it is exactly one of our msgids.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, npgettext, override, pgettext

from kit.formats import money_plain, money_text, time_text

# What a stored phrase starts with; anything else in a message column is text from before phrases.
PHRASE_START = '{"m":'
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Money:
    """An amount with its currency, formatted when read (`kit.formats.money_text`)."""

    amount: Decimal | int | str | None
    currency: str = ""


@dataclass(frozen=True)
class Phrase:
    """A msgid and its parameters (already in stored form: see `phrase`), translated when said."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str = ""
    count: str = ""  # the parameter holding the count, for a plural
    context: str = ""

    def data(self) -> dict[str, Any]:
        """The JSON-ready form: `{"m": msgid, "p": params, "pl": plural, "n": count, "x": context}`,
        empty parts left out."""
        data: dict[str, Any] = {"m": self.msgid}
        for key, value in (
            ("p", dict(self.params)),
            ("pl", self.plural),
            ("n", self.count),
            ("x", self.context),
        ):
            if value:
                data[key] = value
        return data

    def stored(self, limit: int) -> str:
        """Compact JSON of at most `limit` characters for a message column. Too long, the longest text
        parameters are shortened (ending in “…”), so the JSON stays whole and the words stay ours."""
        data = json.loads(json.dumps(self.data()))  # a deep copy that is safe to shorten
        text = _dumps(data)
        while len(text) > limit:
            leaves = _text_params(data)
            if not leaves:
                break
            params, key = max(leaves, key=lambda leaf: len(leaf[0][leaf[1]]))
            value = params[key]
            if len(value) <= 1:
                break
            keep = max(0, len(value) - (len(text) - limit) - len(_ELLIPSIS))
            params[key] = value[:keep].rstrip() + _ELLIPSIS if keep else value[:1]
            text = _dumps(data)
        if len(text) <= limit:
            return text
        # Even bare parameters do not fit (a column far too small for the message): the words alone.
        bare = _dumps({"m": self.msgid})
        return bare if len(bare) <= limit else self.msgid[:limit]

    def __str__(self) -> str:
        return phrase_text(self)


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _text_params(data: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    # Every text parameter, those of nested phrases too: what may be shortened to fit a column.
    params = data.get("p") or {}
    leaves: list[tuple[dict[str, Any], str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            leaves.append((params, key))
        elif isinstance(value, dict) and "m" in value:
            leaves.extend(_text_params(value))
    return leaves


def _lazy_phrase(message: Promise) -> Phrase:
    """The msgid (and plural or context) of a lazy translation, read without translating it."""
    # Lazy strings pickle as (rebuild, args): that contract names the gettext function and its arguments.
    _rebuild, args = message.__reduce__()
    func = args[0]
    if func is ngettext or func is npgettext:
        # ngettext_lazy(singular, plural, "n"): (func, resultclass, number, {"singular", "plural"[, "context"]})
        number, kwargs = args[2], args[3]
        if not isinstance(number, str):
            raise TypeError("a stored plural names its count parameter: ngettext_lazy(singular, plural, 'n')")
        return Phrase(
            kwargs["singular"], plural=kwargs["plural"], count=number, context=kwargs.get("context", "")
        )
    if func is pgettext:
        context, msgid = args[1]
        return Phrase(msgid, context=context)
    # gettext_lazy and anything else: with no language active, the text is the msgid.
    with override(None):
        return Phrase(str(message))


def _param(value: Any) -> Any:
    """A parameter in stored (JSON) form."""
    if isinstance(value, Phrase):
        return value.data()
    if isinstance(value, Promise):
        return _lazy_phrase(value).data()
    if isinstance(value, Money):
        # No amount (a price not known) is said as money_text says it: "—".
        return {"$": None if value.amount is None else money_plain(value.amount), "c": value.currency}
    if isinstance(value, Decimal):
        return {"$": money_plain(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping) and any(key in value for key in ("m", "$", "t")):
        return dict(value)  # already stored form (a phrase read back and passed on)
    return str(value)


def phrase(message: str | Promise | Phrase, /, **params: Any) -> Phrase:
    """`message` (a `gettext_noop` msgid, an `ngettext_lazy`/`pgettext_lazy` marker or a phrase) with
    `params`, for storing now and saying later in the reader's language."""
    if isinstance(message, Phrase):
        base = message
    elif isinstance(message, Promise):
        base = _lazy_phrase(message)
    else:
        base = Phrase(str(message))
    merged = {**base.params, **{key: _param(value) for key, value in params.items()}}
    return Phrase(base.msgid, merged, plural=base.plural, count=base.count, context=base.context)


def phrase_loads(text: str | None) -> Phrase:
    """A message column's content as a phrase: stored JSON, or text from before phrases (said as is)."""
    if text and text.startswith(PHRASE_START):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("m"), str):
            return _from_data(data)
    return Phrase(text or "")


def _from_data(data: Mapping[str, Any]) -> Phrase:
    params = data.get("p")
    return Phrase(
        str(data.get("m") or ""),
        params if isinstance(params, Mapping) else {},
        plural=str(data.get("pl") or ""),
        count=str(data.get("n") or ""),
        context=str(data.get("x") or ""),
    )


def phrase_from(msgid: str, rest: Mapping[str, Any] | None) -> Phrase:
    """A phrase kept in two places: the msgid in one column, the rest of `Phrase.data()` in another (an
    audit entry's summary and its details). Without the rest it is text from before phrases."""
    return _from_data({**(rest or {}), "m": msgid})


def _said_param(value: Any) -> Any:
    # A parameter in the reader's language: nested phrases translated, money and times formatted now.
    if isinstance(value, Mapping):
        if "m" in value:
            return phrase_text(_from_data(value))
        if "$" in value:
            amount = value["$"]
            try:
                return money_text(
                    None if amount in (None, "") else Decimal(str(amount)), str(value.get("c") or "")
                )
            except (InvalidOperation, ValueError):
                return str(amount)
        if "t" in value:
            try:
                return time_text(datetime.fromisoformat(str(value["t"])))
            except ValueError:
                return str(value["t"])
    return "" if value is None else value


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def phrase_text(value: "Phrase | str | None") -> str:
    """A stored message in the active language: a `Phrase`, a message column's content (stored JSON or
    older plain text), or None (empty)."""
    said = value if isinstance(value, Phrase) else phrase_loads(value)
    if not said.msgid:
        return ""  # gettext("") is the catalog's header, never a message
    params = {key: _said_param(item) for key, item in said.params.items()}
    if said.plural:
        count = params.get(said.count)
        number = count if isinstance(count, int) else 0
        if said.context:
            text = npgettext(said.context, said.msgid, said.plural, number)
        else:
            text = ngettext(said.msgid, said.plural, number)
    else:
        text = pgettext(said.context, said.msgid) if said.context else gettext(said.msgid)
        if text == _newlines(said.msgid):
            # Not translated: the words as stored (gettext turns "\r" into "\n" on the way).
            text = said.msgid
    if not params:
        return text
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        # A translation naming a parameter wrongly must not break a page: the English words then.
        try:
            return said.msgid % params
        except (KeyError, ValueError, TypeError):
            return said.msgid
