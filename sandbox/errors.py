"""The one exception the sandbox's services raise: a protocol error code, rendered per dialect."""

from typing import Any


class ApiError(Exception):
    """A documented error answer.

    `code` is the classic token (`NO_NUMBERS`); `suffix` is appended after a colon in the classic
    dialect (`WRONG_MAX_PRICE:12.5`, `BANNED:2026-1-2 10-00-00`); `info` goes into the HeroSMS
    envelope and into rent error objects; `hero_code` replaces the code in the HeroSMS dialect where
    that provider answers differently (`ACTIVATION_NOT_ACTIVE` where the classic one says `BAD_STATUS`).
    """

    def __init__(
        self,
        code: str,
        *,
        suffix: str | None = None,
        info: dict[str, Any] | None = None,
        hero_code: str | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.suffix = suffix
        self.info = info
        self.hero_code = hero_code

    def __repr__(self) -> str:
        return f"ApiError({self.code!r}, suffix={self.suffix!r})"
