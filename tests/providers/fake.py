"""A fake transport for the protocol client's unit tests: exact bodies, statuses and transport failures.

Only the malformed-answer and quirk tests use it; behaviour against a provider is tested over HTTP
against the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from providers.client import ProviderClient

API_KEY = "sk-live-7d41c09e5b2fSECRETKEY8842"
BASE_URL = "https://provider.test"

Reply = tuple[int, bytes | str, dict[str, str]] | Callable[[requests.PreparedRequest], BaseException]


class FakeAdapter(BaseAdapter):
    """Answers queued replies in order (the last one repeats) and records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: list[Reply] = []
        self.sent: list[requests.PreparedRequest] = []

    def reply(
        self, body: bytes | str, status: int = 200, headers: dict[str, str] | None = None
    ) -> FakeAdapter:
        self.replies.append((status, body, headers or {"Content-Type": "text/html; charset=UTF-8"}))
        return self

    def fail(self, make: Callable[[requests.PreparedRequest], BaseException]) -> FakeAdapter:
        self.replies.append(make)
        return self

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.sent.append(request)
        reply = self.replies[len(self.sent) - 1] if len(self.sent) <= len(self.replies) else self.replies[-1]
        if callable(reply):
            raise reply(request)
        status, body, headers = reply
        response = requests.Response()
        response.status_code = status
        response._content = body.encode("utf-8") if isinstance(body, str) else body
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass

    @property
    def calls(self) -> int:
        return len(self.sent)

    def query(self, index: int = -1) -> list[tuple[str, str]]:
        """The query string of a recorded request as ordered pairs."""
        return parse_qsl(urlsplit(self.sent[index].url or "").query, keep_blank_values=True)


def make_client(
    adapter: FakeAdapter, *, dialect: str = "classic", currency: str | None = "RUB", **options: object
) -> ProviderClient:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return ProviderClient(
        BASE_URL,
        API_KEY,
        dialect=dialect,
        currency=currency,
        provider_tz="Europe/Moscow" if dialect == "classic" else "UTC",
        session=session,
        timeout=(1.0, 2.0),
        **options,
    )
