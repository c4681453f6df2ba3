"""The live-board kit: how every polled page answers (the activations and rentals boards, the team home).

A polled page carries its version token in its own poll URL (`hx-get="...?v=<token>"`). A poll whose
token equals the current one answers 204, which htmx leaves alone, so an unchanged poll costs only the
version read; any other poll gets the page's partial rendered with the new token, and what arrived since
the client's token (codes, SMS) is announced with one `HX-Trigger` event. The partial is swapped by
morphing (idiomorph, `hx-swap="morph:outerHTML"`), so what a member typed, chose or opened inside a
board survives the refresh.

An action posted from a board answers the same way everywhere (`after_action`): to htmx from the board
itself the fresh board and a `toast` event; to anything else a flash message and the board's page.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

# The query parameter a polled page sends its version token in.
VERSION_PARAM = "v"

LEVELS = {
    "info": messages.INFO,
    "success": messages.SUCCESS,
    "warning": messages.WARNING,
    "error": messages.ERROR,
}

Arrival = Mapping[str, Any]


# --- version tokens ------------------------------------------------------------------------------


def token(*parts: int) -> str:
    """A version token from non-negative integers (times in microseconds, counts, ids): `171234.3.42`."""
    return ".".join(str(int(part)) for part in parts)


def parse_token(raw: str | None, size: int) -> tuple[int, ...] | None:
    """The integers of a client's token of `size` parts; None when absent or malformed (it is input)."""
    parts = (raw or "").split(".")
    if len(parts) != size or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def fingerprint(*values: Any) -> int:
    """A stable number for plain values (str, int, Decimal, datetime, None and tuples/lists of them), for a
    page whose data has no single change stamp to version it by. Equal values, equal number."""
    digest = hashlib.blake2b(repr(values).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


# A board's version is read at most this often per board shape (seconds): the many polls of one team's
# members in between answer from the cache. A change the purchase core, the codes or a key's health make
# (`board_changed`) is seen at once; anything else within this time.
VERSION_TTL = 1


def _generation_key(team_id: int) -> str:
    return f"board:gen:{team_id}"


def board_changed(team_id: int) -> None:
    """Something the team's boards show changed: their next polls read the version afresh."""
    try:
        cache.incr(_generation_key(team_id))
    except ValueError:
        cache.set(_generation_key(team_id), 1, None)


def cached_version(team_id: int, shape: str, compute: Callable[[], str]) -> str:
    """The version token of one board shape (who reads it, with which filters), read by `compute` at most
    once per `VERSION_TTL` and again after `board_changed`: an unchanged poll then costs one cache read,
    not the version query. Without a cache (Redis away), every poll computes it."""
    generation_key, key = _generation_key(team_id), f"board:v:{team_id}:{fingerprint(shape)}"
    found = cache.get_many([generation_key, key])  # one round trip
    generation = found.get(generation_key, 0)
    cached = found.get(key)
    if cached is not None and cached[0] == generation:
        return cached[1]
    current = compute()
    cache.set(key, (generation, current), VERSION_TTL)
    return current


def client_version(request: HttpRequest) -> str | None:
    """The version token the polling page showed; None for a first request."""
    return request.GET.get(VERSION_PARAM) or None


# --- answers -------------------------------------------------------------------------------------


def announce(response: HttpResponse, event: str, arrivals: Sequence[Arrival]) -> HttpResponse:
    """Raise `event` in the browser for what arrived, oldest first: the newest one's fields at the top
    (`phone`, `code`, ...) and all of them under `codes`. Nothing arrived, no event."""
    if arrivals:
        trigger_client_event(response, event, {**arrivals[-1], "codes": [dict(item) for item in arrivals]})
    return response


def toast(response: HttpResponse, message: str, level: str = "info") -> HttpResponse:
    """Show `message` as a toast when htmx swaps `response` (the `toast` event of simdesk.js)."""
    return trigger_client_event(response, "toast", {"message": message, "level": level})


def page_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Move the whole page on: `HX-Redirect` for htmx (a 302 would be swapped into the target), else a 302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def live_board(
    request: HttpRequest,
    *,
    version: Callable[[], str],
    page: Callable[[], HttpResponse],
    partial: Callable[[str], HttpResponse],
    arrived: Callable[[str, str], Sequence[Arrival]] | None = None,
    event: str = "",
) -> HttpResponse:
    """Answer a live board's request.

    A plain request gets the whole `page()`. An htmx poll gets 204 when its token equals `version()`;
    otherwise `partial(current)`, with `event` announcing `arrived(client, current)` when the client
    showed a token (a first poll has nothing to compare with, so it announces nothing).
    """
    if not request.htmx:
        return page()
    client = client_version(request)
    current = version()
    if client == current:
        # htmx leaves the page as it is on 204.
        return HttpResponse(status=204)
    response = partial(current)
    if client is not None and arrived is not None:
        announce(response, event, arrived(client, current))
    return response


def after_action(
    request: HttpRequest,
    *,
    target: str,
    board: Callable[[], HttpResponse],
    board_url: str,
    level: str,
    message: str,
) -> HttpResponse:
    """The answer to an action posted from a board. htmx aiming at the board (`HX-Target` is `target`):
    the fresh `board()` and a toast; anything else: a flash message and back to `board_url`."""
    if request.htmx and request.htmx.target == target:
        return toast(board(), message, level)
    messages.add_message(request, LEVELS.get(level, messages.INFO), message)
    return page_redirect(request, board_url)
