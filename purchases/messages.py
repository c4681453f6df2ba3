"""Plain words for every provider refusal a member may see, in one translatable table keyed by error class.

Activations, rentals and every later caller read the same table, so one refusal reads the same
everywhere. Subclasses inherit their parent's words unless the table names them.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers import errors

Words = Callable[[errors.ProviderError], str]


def _banned(exc: errors.ProviderError) -> str:
    until = getattr(exc, "until", None)
    when = until.strftime("%Y-%m-%d %H:%M UTC") if until else _("further notice")
    return _("The provider has banned this account until %(until)s.") % {"until": when}


def _wrong_max_price(exc: errors.ProviderError) -> str:
    return _("The price is above your maximum; the lowest price now is %(min)s.") % {
        "min": getattr(exc, "minimum", None)
    }


def _max_hours(exc: errors.ProviderError) -> str:
    maximum = getattr(exc, "maximum", None)
    if maximum is not None:
        return _("The provider allows at most %(max)s more hours on this number.") % {"max": maximum}
    return _("That would exceed the longest time the provider allows on this number.")


def _invalid_time(exc: errors.ProviderError) -> str:
    # The range the protocol documents for rent_time (seed: INVALID_TIME, 4-1344 h).
    return _("The provider accepts rent lengths from %(min)s to %(max)s hours.") % {"min": 4, "max": 1344}


MESSAGES: dict[type[errors.ProviderError], Words | str] = {
    errors.WrongMaxPrice: _wrong_max_price,
    errors.Banned: _banned,
    errors.NoNumbers: gettext_lazy(
        "The provider has no free numbers for this service and country right now."
    ),
    errors.NoBalance: gettext_lazy("The provider account has not enough balance for this purchase."),
    errors.BadService: gettext_lazy("The provider does not know this service."),
    errors.BadCountry: gettext_lazy("The provider does not know this country."),
    errors.BadKey: gettext_lazy("The provider rejected the API key; an admin must re-enter it."),
    errors.EarlyCancelDenied: gettext_lazy(
        "The provider does not allow cancelling in the first minutes; try again shortly."
    ),
    errors.CantCancel: gettext_lazy(
        "A rent can be cancelled for a refund only in its first 20 minutes; this one is older. "
        "Finish it instead (no refund)."
    ),
    errors.AlreadyFinish: gettext_lazy("The provider says this rent is already finished."),
    errors.AlreadyCancel: gettext_lazy("The provider says this rent is already cancelled."),
    errors.RentDie: gettext_lazy(
        "The number's life at the provider is over: it cannot be extended or re-ordered any more."
    ),
    errors.MaxHoursExceed: _max_hours,
    errors.InvalidTime: _invalid_time,
    errors.InvalidPhone: gettext_lazy(
        "The provider no longer knows this rent (it is not rented by this account)."
    ),
    errors.NoIdRent: gettext_lazy(
        "The provider no longer knows this rent (it is not rented by this account)."
    ),
    errors.IncorrectStatus: gettext_lazy("The provider rejected this status change."),
    errors.AccountInactive: gettext_lazy(
        "The provider has no number to offer right now (or the account is inactive)."
    ),
}


def describe_error(exc: errors.ProviderError) -> str:
    """The provider's refusal in plain words for forms, boards and the audit log."""
    for cls in type(exc).__mro__:
        words = MESSAGES.get(cls)  # type: ignore[call-overload]
        if words is not None:
            return words(exc) if callable(words) else str(words)
    return exc.message
