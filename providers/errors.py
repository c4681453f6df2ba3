"""Errors raised by the provider client, one class per documented answer.

Every error carries the provider's ``code`` (e.g. ``NO_NUMBERS``), a ``message`` a user can read,
and two class-level flags that callers base decisions on:

* ``temporary`` -- worth retrying later (server hiccup, rate limit, unreadable answer);
* ``definite`` -- the provider clearly refused, so a money-spending call spent nothing. When it is
  False the outcome is unknown: a purchase must be recorded as "unknown" and reconciled later
  from ``getActiveActivations`` / ``getRentList``.

No error ever holds the API key: the client builds every message itself and scrubs excerpts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any


class ProviderError(Exception):
    """Base class: the provider answered with an error, or could not be understood.

    A bare ``ProviderError`` is raised for error tokens that no subclass knows (its ``code`` is the token).
    """

    code: str = "PROVIDER_ERROR"
    default_message: str = "The provider refused the request."
    definite: bool = True
    temporary: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: str = "",
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code or type(self).code
        self.message = message or self.default_message
        self.http_status = http_status
        # The provider's own wording (envelope ``details`` / ``msg``), already cut short and key-free.
        self.details = details
        self.info: dict[str, Any] = dict(info or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments would be lost by the default Exception pickling
        # (Celery result backends pickle exceptions), so rebuild from the instance dict.
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


# --- account and request errors -------------------------------------------------------------


class BadKey(ProviderError):
    """The API key is missing, unknown or revoked (``BAD_KEY``, ``NO_KEY``, ``API_KEY_NOT_VALID``, HTTP 401)."""

    code = "BAD_KEY"
    default_message = "The API key was rejected by the provider."


class Banned(ProviderError):
    """The account is blocked, possibly until ``until`` (UTC); ``scope`` is HeroSMS' ``global``/``specific``."""

    code = "BANNED"
    default_message = "The account is temporarily blocked by the provider."

    def __init__(
        self,
        message: str | None = None,
        *,
        until: datetime | None = None,
        scope: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.until = until
        self.scope = scope
        if message is None and until is not None:
            message = f"The account is blocked by the provider until {until:%Y-%m-%d %H:%M} UTC."
        super().__init__(message, **kwargs)


class AccountInactive(ProviderError):
    """``ACCOUNT_INACTIVE``: the account must be verified or re-activated on the provider's site."""

    code = "ACCOUNT_INACTIVE"
    default_message = "The provider account is inactive; verify it on the provider's site."


class ChannelsLimit(ProviderError):
    """``CHANNELS_LIMIT``: too many activations open at once for this account."""

    code = "CHANNELS_LIMIT"
    default_message = "Too many numbers are open at once on this account; finish some first."


class BadAction(ProviderError):
    """``BAD_ACTION``: the provider does not implement this action."""

    code = "BAD_ACTION"
    default_message = "The provider does not support this operation."


class WrongDate(ProviderError):
    """``WRONG_DATE``: a history date range is not a timestamp or is too long."""

    code = "WRONG_DATE"
    default_message = "The date range was rejected by the provider."


# --- money and stock ------------------------------------------------------------------------


class NoBalance(ProviderError):
    """Not enough money on the account (``NO_BALANCE``, ``NO_MEANS``, HTTP 402)."""

    code = "NO_BALANCE"
    default_message = "Not enough money on the provider account."


class NoBalanceForward(NoBalance):
    """``NO_BALANCE_FORWARD``: not enough money for a number with call forwarding."""

    code = "NO_BALANCE_FORWARD"
    default_message = "Not enough money on the provider account for call forwarding."


class NoNumbers(ProviderError):
    """No number available for this service and country right now (``NO_NUMBERS``, ``OUT_OF_STOCK``)."""

    code = "NO_NUMBERS"
    default_message = "No numbers are available right now; try another country, operator or price."


class WrongMaxPrice(ProviderError):
    """``WRONG_MAX_PRICE:<min>``: the maximum price is below the provider's ``minimum``."""

    code = "WRONG_MAX_PRICE"
    default_message = "The maximum price is lower than the provider's minimum."

    def __init__(self, message: str | None = None, *, minimum: Decimal | None = None, **kwargs: Any) -> None:
        self.minimum = minimum
        if message is None and minimum is not None:
            message = f"The maximum price is lower than the provider's minimum of {minimum}."
        super().__init__(message, **kwargs)


class WrongExceptionPhone(ProviderError):
    """``WRONG_EXCEPTION_PHONE``: the excluded prefixes are malformed."""

    code = "WRONG_EXCEPTION_PHONE"
    default_message = "The excluded number prefixes are not valid."


class BadService(ProviderError):
    """Unknown or unavailable service (``BAD_SERVICE``, ``WRONG_SERVICE``, ``service is incorrect``)."""

    code = "BAD_SERVICE"
    default_message = "The provider does not know this service."


class BadCountry(ProviderError):
    """Unknown or unavailable country (``BAD_COUNTRY``, ``WRONG_COUNTRY``, ``country is incorrect``)."""

    code = "BAD_COUNTRY"
    default_message = "The provider does not know this country."


class WrongOperator(ProviderError):
    """``WRONG_OPERATOR``: the operator is unknown or not allowed for this call."""

    code = "WRONG_OPERATOR"
    default_message = "The operator is not available for this request."


class BadForward(ProviderError):
    """``BAD_FORWARD``: the forwarding flags are invalid."""

    code = "BAD_FORWARD"
    default_message = "The call-forwarding option is not valid."


class NotAvailable(ProviderError):
    """``NOT_AVAILABLE``: several services on one number are not offered for this country."""

    code = "NOT_AVAILABLE"
    default_message = "Several services on one number are not available for this country."


class OperatorsNotFound(ProviderError):
    """``OPERATORS_NOT_FOUND``; the client's ``get_operators`` turns it into an empty result."""

    code = "OPERATORS_NOT_FOUND"
    default_message = "The provider lists no operators for this country."


# --- activations ----------------------------------------------------------------------------


class NoActivation(ProviderError):
    """Unknown activation id (``NO_ACTIVATION``, ``WRONG_ACTIVATION_ID``, ``INVALID_ACTIVATION_ID``, HTTP 404)."""

    code = "NO_ACTIVATION"
    default_message = "The provider does not know this activation."


class NoActivations(ProviderError):
    """``NO_ACTIVATIONS``: the list is empty; list methods of the client return ``[]`` instead."""

    code = "NO_ACTIVATIONS"
    default_message = "There are no active activations."


class BadStatus(ProviderError):
    """``BAD_STATUS``: the status change is not allowed now or the status value is unknown."""

    code = "BAD_STATUS"
    default_message = "This status change is not allowed for the activation right now."


class EarlyCancelDenied(ProviderError):
    """``EARLY_CANCEL_DENIED``: a number cannot be cancelled in its first minutes (``min_seconds`` if told)."""

    code = "EARLY_CANCEL_DENIED"
    default_message = "The number cannot be cancelled during its first 2 minutes; try again shortly."

    def __init__(self, message: str | None = None, *, min_seconds: int | None = None, **kwargs: Any) -> None:
        self.min_seconds = min_seconds
        super().__init__(message, **kwargs)


class CancelWindowExpired(ProviderError):
    """HeroSMS ``FREE_CANCELLATION_EXPIRED``: the free-cancel window has passed."""

    code = "FREE_CANCELLATION_EXPIRED"
    default_message = "The time to cancel this number for free has passed."


class ActivationNotActive(ProviderError):
    """HeroSMS 409 ``ACTIVATION_NOT_ACTIVE``: the activation is already finished, cancelled or refunded."""

    code = "ACTIVATION_NOT_ACTIVE"
    default_message = "The activation is no longer active."


class OtpReceived(ProviderError):
    """HeroSMS 409 ``OTP_RECEIVED`` / ``NEW_OTP_RECEIVED``: a code arrived, so cancelling is refused."""

    code = "OTP_RECEIVED"
    default_message = "A code has already arrived for this number, so it cannot be cancelled."


class RenewNotAvailable(ProviderError):
    """``RENEW_ACTIVATION_NOT_AVAILABLE``: the number cannot be activated again."""

    code = "RENEW_ACTIVATION_NOT_AVAILABLE"
    default_message = "This number cannot be activated again."


class NewActivationImpossible(ProviderError):
    """``NEW_ACTIVATION_IMPOSSIBLE``: a repeat activation cannot be made now."""

    code = "NEW_ACTIVATION_IMPOSSIBLE"
    default_message = "A new activation on this number is not possible."


class WrongAdditionalService(ProviderError):
    """``WRONG_ADDITIONAL_SERVICE``: only forwarding services can be added to a number."""

    code = "WRONG_ADDITIONAL_SERVICE"
    default_message = "This service cannot be added to the number."


class WrongSecurity(ProviderError):
    """``WRONG_SECURITY``: the parent activation has no forwarding or is no longer active."""

    code = "WRONG_SECURITY"
    default_message = "The parent activation does not allow an additional service."


class RepeatAdditionalService(ProviderError):
    """``REPEAT_ADDITIONAL_SERVICE``: this additional service was already bought."""

    code = "REPEAT_ADDITIONAL_SERVICE"
    default_message = "This additional service was already bought for the number."


class CallTaskAlreadyExists(ProviderError):
    """``CALL_TASK_ALREADY_EXIST``: an outgoing call was already requested."""

    code = "CALL_TASK_ALREADY_EXIST"
    default_message = "A call request for this number already exists."


class NumberNotExist(ProviderError):
    """``NUMBER_NOT_EXIST``: the number to call does not exist."""

    code = "NUMBER_NOT_EXIST"
    default_message = "The number to call does not exist."


class NotIncoming(ProviderError):
    """``NOT_INCOMING`` / ``NO_CALL``: the activation is not a call verification or no call came."""

    code = "NOT_INCOMING"
    default_message = "This activation has no incoming call."


# --- rent -----------------------------------------------------------------------------------


class NoIdRent(ProviderError):
    """``NO_ID_RENT``: the rent id is missing."""

    code = "NO_ID_RENT"
    default_message = "The rent id is missing."


class InvalidPhone(ProviderError):
    """``INVALID_PHONE``: the number is not rented by this account (wrong rent id)."""

    code = "INVALID_PHONE"
    default_message = "This number is not rented by the account."


class IncorrectStatus(ProviderError):
    """``INCORECT_STATUS`` (sic): the rent status value is missing or wrong."""

    code = "INCORECT_STATUS"
    default_message = "The rent status change is not valid."


class CantCancel(ProviderError):
    """``CANT_CANCEL``: a rent can be cancelled only in its first 20 minutes."""

    code = "CANT_CANCEL"
    default_message = "The rent can no longer be cancelled (only within the first 20 minutes)."


class AlreadyFinish(ProviderError):
    """``ALREADY_FINISH``: the rent is already finished."""

    code = "ALREADY_FINISH"
    default_message = "The rent is already finished."


class AlreadyCancel(ProviderError):
    """``ALREADY_CANCEL``: the rent is already cancelled."""

    code = "ALREADY_CANCEL"
    default_message = "The rent is already cancelled."


class InvalidTime(ProviderError):
    """``INVALID_TIME`` / HeroSMS ``BAD_DURATION``: the rent length is not allowed."""

    code = "INVALID_TIME"
    default_message = "The rent length is not allowed by the provider."


class MaxHoursExceed(ProviderError):
    """``MAX_HOURS_EXCEED``: the rent would be longer than ``maximum`` hours."""

    code = "MAX_HOURS_EXCEED"
    default_message = "The rent would exceed the provider's maximum length."

    def __init__(self, message: str | None = None, *, maximum: int | None = None, **kwargs: Any) -> None:
        self.maximum = maximum
        if message is None and maximum is not None:
            message = f"The rent would exceed the provider's maximum of {maximum} hours."
        super().__init__(message, **kwargs)


class RentDie(ProviderError):
    """``RENT_DIE``: the number has expired and the rent cannot be extended."""

    code = "RENT_DIE"
    default_message = "The rented number has expired and cannot be extended."


# --- temporary and unreadable ---------------------------------------------------------------


class ErrorSql(ProviderError):
    """Provider-side failure (``ERROR_SQL``, ``SQL_ERROR``, ``SERVER_ERROR``); whether it acted is unknown."""

    code = "ERROR_SQL"
    default_message = "The provider had an internal error; try again shortly."
    definite = False
    temporary = True


class RateLimited(ProviderError):
    """Too many requests (HTTP 429, ``RATE_LIMIT``); ``retry_after`` seconds if the provider said so."""

    code = "RATE_LIMIT"
    default_message = "The provider is limiting requests; slow down and try again shortly."
    temporary = True

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ProtocolError(ProviderError):
    """The answer fits nothing the protocol allows (HTML page, empty body, truncated JSON).

    ``excerpt`` is the start of the body, whitespace collapsed, at most 120 characters, key-free.
    """

    code = "PROTOCOL_ERROR"
    default_message = "The provider sent an answer that could not be understood."
    definite = False
    temporary = True

    def __init__(self, message: str | None = None, *, excerpt: str = "", **kwargs: Any) -> None:
        self.excerpt = excerpt
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} [{self.excerpt}]" if self.excerpt else base


class UpstreamUnavailable(ProviderError):
    """Timeout, connection failure or HTTP 5xx without a known token; the request may have been processed."""

    code = "UPSTREAM_UNAVAILABLE"
    default_message = "The provider could not be reached or did not answer in time."
    definite = False
    temporary = True

    def __init__(self, message: str | None = None, *, excerpt: str = "", **kwargs: Any) -> None:
        self.excerpt = excerpt
        super().__init__(message, **kwargs)

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} [{self.excerpt}]" if self.excerpt else base


class UpstreamUnreachable(UpstreamUnavailable):
    """The connection was never established (refused, DNS, connect timeout): nothing reached the provider."""

    code = "UPSTREAM_UNREACHABLE"
    default_message = "The provider could not be reached."
    definite = True


# Every documented token and its known spellings, mapped to the class that represents it.
ERROR_CLASSES: dict[str, type[ProviderError]] = {
    "BAD_KEY": BadKey,
    "NO_KEY": BadKey,
    "EMPTY_KEY": BadKey,
    "API_KEY_NOT_VALID": BadKey,
    "INVALID_SIGNATURE": BadKey,
    "UNAUTHORIZED": BadKey,
    "UNAUTHENTICATED": BadKey,
    "BANNED": Banned,
    "ACCOUNT_INACTIVE": AccountInactive,
    "CHANNELS_LIMIT": ChannelsLimit,
    "BAD_ACTION": BadAction,
    "WRONG_ACTION": BadAction,
    "WRONG_DATE": WrongDate,
    "NO_BALANCE": NoBalance,
    "NO_MEANS": NoBalance,
    "NO_BALANCE_FORWARD": NoBalanceForward,
    "NO_NUMBERS": NoNumbers,
    "NO_NUMBER": NoNumbers,
    "OUT_OF_STOCK": NoNumbers,
    "WRONG_MAX_PRICE": WrongMaxPrice,
    "WRONG_EXCEPTION_PHONE": WrongExceptionPhone,
    "BAD_SERVICE": BadService,
    "WRONG_SERVICE": BadService,
    "BAD_COUNTRY": BadCountry,
    "WRONG_COUNTRY": BadCountry,
    "WRONG_OPERATOR": WrongOperator,
    "BAD_FORWARD": BadForward,
    "NOT_AVAILABLE": NotAvailable,
    "OPERATORS_NOT_FOUND": OperatorsNotFound,
    "NO_ACTIVATION": NoActivation,
    "WRONG_ACTIVATION_ID": NoActivation,
    "INVALID_ACTIVATION_ID": NoActivation,
    "NOT_FOUND": NoActivation,
    "NO_ACTIVATIONS": NoActivations,
    "BAD_STATUS": BadStatus,
    "INVALID_STATUS": BadStatus,
    "EARLY_CANCEL_DENIED": EarlyCancelDenied,
    "FREE_CANCELLATION_EXPIRED": CancelWindowExpired,
    "ACTIVATION_NOT_ACTIVE": ActivationNotActive,
    "OTP_RECEIVED": OtpReceived,
    "NEW_OTP_RECEIVED": OtpReceived,
    "RENEW_ACTIVATION_NOT_AVAILABLE": RenewNotAvailable,
    "NEW_ACTIVATION_IMPOSSIBLE": NewActivationImpossible,
    "WRONG_ADDITIONAL_SERVICE": WrongAdditionalService,
    "WRONG_SECURITY": WrongSecurity,
    "REPEAT_ADDITIONAL_SERVICE": RepeatAdditionalService,
    "CALL_TASK_ALREADY_EXIST": CallTaskAlreadyExists,
    "NUMBER_NOT_EXIST": NumberNotExist,
    "NOT_INCOMING": NotIncoming,
    "NO_CALL": NotIncoming,
    "NO_ID_RENT": NoIdRent,
    "INVALID_PHONE": InvalidPhone,
    "INCORECT_STATUS": IncorrectStatus,
    "INCORRECT_STATUS": IncorrectStatus,
    "CANT_CANCEL": CantCancel,
    "ALREADY_FINISH": AlreadyFinish,
    "ALREADY_CANCEL": AlreadyCancel,
    "INVALID_TIME": InvalidTime,
    "BAD_DURATION": InvalidTime,
    "MAX_HOURS_EXCEED": MaxHoursExceed,
    "RENT_DIE": RentDie,
    "ERROR_SQL": ErrorSql,
    "SQL_ERROR": ErrorSql,
    "SERVER_ERROR": ErrorSql,
    "RATE_LIMIT": RateLimited,
    "RATE_LIMITED": RateLimited,
    "TOO_MANY_REQUESTS": RateLimited,
}

__all__ = [
    "ERROR_CLASSES",
    "AccountInactive",
    "ActivationNotActive",
    "AlreadyCancel",
    "AlreadyFinish",
    "BadAction",
    "BadCountry",
    "BadForward",
    "BadKey",
    "BadService",
    "BadStatus",
    "Banned",
    "CallTaskAlreadyExists",
    "CancelWindowExpired",
    "CantCancel",
    "ChannelsLimit",
    "EarlyCancelDenied",
    "ErrorSql",
    "IncorrectStatus",
    "InvalidPhone",
    "InvalidTime",
    "MaxHoursExceed",
    "NewActivationImpossible",
    "NoActivation",
    "NoActivations",
    "NoBalance",
    "NoBalanceForward",
    "NoIdRent",
    "NoNumbers",
    "NotAvailable",
    "NotIncoming",
    "NumberNotExist",
    "OperatorsNotFound",
    "OtpReceived",
    "ProtocolError",
    "ProviderError",
    "RateLimited",
    "RenewNotAvailable",
    "RentDie",
    "RepeatAdditionalService",
    "UpstreamUnavailable",
    "UpstreamUnreachable",
    "WrongAdditionalService",
    "WrongDate",
    "WrongExceptionPhone",
    "WrongMaxPrice",
    "WrongOperator",
    "WrongSecurity",
]
