"""kit.boards: a live board's poll answers 204 while its version holds and renders when it moved; what
arrived is announced once; an action from the board answers with the board and a toast, else a flash
message and a redirect."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from kit import boards

factory = RequestFactory()


def _request(query: dict | None = None, *, htmx: bool = True, target: str | None = None):
    headers = {}
    if htmx:
        headers["HX-Request"] = "true"
    if target:
        headers["HX-Target"] = target
    request = factory.get("/board/", query or {}, headers=headers)
    request.htmx = HtmxDetails(request)
    request._messages = CookieStorage(request)
    return request


class Board:
    """A board whose version the test sets; it records what was rendered."""

    def __init__(self, version: str = "1.2.3", arrivals: list | None = None):
        self.version = version
        self.arrivals = arrivals or []
        self.rendered: list[str] = []
        self.asked: list[tuple[str, str]] = []

    def answer(self, request) -> HttpResponse:
        return boards.live_board(
            request,
            version=lambda: self.version,
            page=self.page,
            partial=self.partial,
            arrived=self.arrived,
            event="codeArrived",
        )

    def page(self) -> HttpResponse:
        self.rendered.append("page")
        return HttpResponse("<html>page</html>")

    def partial(self, version: str) -> HttpResponse:
        self.rendered.append(f"partial {version}")
        return HttpResponse(f'<div hx-get="/board/?v={version}"></div>')

    def arrived(self, client: str, current: str) -> list:
        self.asked.append((client, current))
        return self.arrivals


def test_it_answers_204_when_the_clients_version_is_current():
    board = Board("7.3.42")
    response = board.answer(_request({"v": "7.3.42"}))
    assert response.status_code == 204 and response.content == b""
    assert board.rendered == [] and board.asked == []


def test_it_renders_the_partial_with_the_new_version_when_it_moved():
    board = Board("8.3.42")
    response = board.answer(_request({"v": "7.3.42"}))
    assert response.status_code == 200
    assert board.rendered == ["partial 8.3.42"]
    assert board.asked == [("7.3.42", "8.3.42")]
    assert "HX-Trigger" not in response  # nothing arrived, nothing announced


def test_a_first_poll_renders_and_announces_nothing():
    board = Board("8.3.42", arrivals=[{"phone": "79001234567", "code": "1234"}])
    response = board.answer(_request())
    assert response.status_code == 200 and board.rendered == ["partial 8.3.42"]
    assert board.asked == [] and "HX-Trigger" not in response


def test_a_plain_request_gets_the_whole_page_without_reading_the_version():
    board = Board()
    board.version = None  # reading it would be a bug: the page reads its own
    response = board.answer(_request({"v": "1.2.3"}, htmx=False))
    assert response.status_code == 200 and board.rendered == ["page"]


def test_what_arrived_is_announced_newest_first_on_top_and_all_under_codes():
    arrivals = [{"phone": "79001", "code": "111"}, {"phone": "79002", "code": "222"}]
    board = Board("9.1.5", arrivals=arrivals)
    response = board.answer(_request({"v": "9.1.4"}))
    event = json.loads(response["HX-Trigger"])["codeArrived"]
    assert event == {"phone": "79002", "code": "222", "codes": arrivals}


def test_an_action_from_the_board_answers_with_the_board_and_a_toast():
    request = _request(target="board")
    response = boards.after_action(
        request,
        target="board",
        board=lambda: HttpResponse("fresh board"),
        board_url="/board/",
        level="error",
        message="Refused.",
    )
    assert response.status_code == 200 and response.content == b"fresh board"
    assert json.loads(response["HX-Trigger"]) == {"toast": {"message": "Refused.", "level": "error"}}
    assert list(get_messages(request)) == []


@pytest.mark.parametrize(
    ("htmx", "target", "status", "header"),
    [(False, None, 302, "Location"), (True, "elsewhere", 200, "HX-Redirect")],
)
def test_an_action_from_elsewhere_flashes_and_goes_to_the_board(htmx, target, status, header):
    request = _request(htmx=htmx, target=target)
    response = boards.after_action(
        request,
        target="board",
        board=lambda: pytest.fail("the board is not rendered for a redirect"),
        board_url="/board/",
        level="success",
        message="Done.",
    )
    assert response.status_code == status and response[header] == "/board/"
    assert [(m.message, m.level_tag) for m in get_messages(request)] == [("Done.", "success")]


def test_tokens_are_dotted_integers_and_bad_ones_are_none():
    assert boards.token(1712345678000000, 3, 0) == "1712345678000000.3.0"
    assert boards.parse_token("1712345678000000.3.0", 3) == (1712345678000000, 3, 0)
    for bad in (None, "", "1.2", "1.2.3.4", "1.-2.3", "a.b.c", "1.2.3 "):
        assert boards.parse_token(bad, 3) is None


def test_fingerprints_follow_the_values():
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    state = ("Main", Decimal("1000.0000"), when, None)
    assert boards.fingerprint(state) == boards.fingerprint(("Main", Decimal("1000.0000"), when, None))
    assert boards.fingerprint(state) != boards.fingerprint(("Main", Decimal("999.0000"), when, None))
    assert 0 <= boards.fingerprint(state) < 2**64
