"""How the gateway writes its answers, in the dialect of the upstream key's profile.

Written from the protocol's documentation (../shared/seed, protocol.md), not shared with the sandbox:
the sandbox is the independent judge the tests compare these bytes with.

* classic (SMS-Activate): every answer HTTP 200; tokens as `text/plain; charset=utf-8`, JSON as
  `application/json; charset=utf-8`.
* hero (HeroSMS): served as `text/html; charset=utf-8`; errors as `{"title","details"}` envelopes with
  real HTTP codes.

Bodies never end with whitespace: exact-match clients compare the whole body.
"""

import json
from dataclasses import dataclass, field
from typing import Any

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """A finished answer: body, HTTP status, content type and extra headers."""

    body: str
    status: int = 200
    content_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def token(hero: bool, text: str) -> Answer:
    """A bare protocol token (`ACCESS_BALANCE:12.50`, `STATUS_WAIT_CODE`)."""
    return Answer(text, 200, HTML if hero else TEXT)


def as_json(hero: bool, data: Any, status: int = 200) -> Answer:
    return Answer(dumps(data), status, HTML if hero else JSON)
