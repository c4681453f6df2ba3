"""Plain words for every provider refusal a member may see, in one translatable table keyed by error class.

Activations, rentals and every later caller read the same table, so one refusal reads the same
everywhere. Subclasses inherit their parent's words unless the table names them.

The words are msgids with parameters (`kit.phrases`): `refusal` gives the phrase to store on a row (said in
each reader's language when read), `describe_error` the text for the member who is looking now.
"""

from collections.abc import Callable

from django.utils.translation import gettext_noop

from kit.phrases import Phrase, phrase, phrase_text
from providers import errors

Words = Callable[[errors.ProviderError], Phrase]


def _banned(exc: errors.ProviderError) -> Phrase:
    until = getattr(exc, "until", None)
    if until is None:
        return phrase(gettext_noop("The provider has banned this account until further notice."))
    # A time, shown when read in the reader's time zone.
    return phrase(gettext_noop("The provider has banned this account until %(until)s."), until=until)


def _wrong_max_price(exc: errors.ProviderError) -> Phrase:
    return phrase(
        gettext_noop("The price is above your maximum; the lowest price now is %(min)s."),
        min=getattr(exc, "minimum", None),
    )


def _max_hours(exc: errors.ProviderError) -> Phrase:
    maximum = getattr(exc, "maximum", None)
    if maximum is not None:
        return phrase(
            gettext_noop("The provider allows at most %(max)s more hours on this number."), max=maximum
        )
    return phrase(gettext_noop("That would exceed the longest time the provider allows on this number."))


def _invalid_time(exc: errors.ProviderError) -> Phrase:
    # The range the protocol documents for rent_time (seed: INVALID_TIME, 4-1344 h).
    return phrase(
        gettext_noop("The provider accepts rent lengths from %(min)s to %(max)s hours."), min=4, max=1344
    )


MESSAGES: dict[type[errors.ProviderError], Words | str] = {
    errors.WrongMaxPrice: _wrong_max_price,
    errors.Banned: _banned,
    errors.NoNumbers: gettext_noop(
        "The provider has no free numbers for this service and country right now."
    ),
    errors.NoBalance: gettext_noop("The provider account has not enough balance for this purchase."),
    errors.BadService: gettext_noop("The provider does not know this service."),
    errors.BadCountry: gettext_noop("The provider does not know this country."),
    errors.BadKey: gettext_noop("The provider rejected the API key; an admin must re-enter it."),
    errors.EarlyCancelDenied: gettext_noop(
        "The provider does not allow cancelling in the first minutes; try again shortly."
    ),
    errors.CantCancel: gettext_noop(
        "A rent can be cancelled for a refund only in its first 20 minutes; this one is older. "
        "Finish it instead (no refund)."
    ),
    errors.AlreadyFinish: gettext_noop("The provider says this rent is already finished."),
    errors.AlreadyCancel: gettext_noop("The provider says this rent is already cancelled."),
    errors.RentDie: gettext_noop(
        "The number's life at the provider is over: it cannot be extended or re-ordered any more."
    ),
    errors.MaxHoursExceed: _max_hours,
    errors.InvalidTime: _invalid_time,
    errors.InvalidPhone: gettext_noop(
        "The provider no longer knows this rent (it is not rented by this account)."
    ),
    errors.NoIdRent: gettext_noop(
        "The provider no longer knows this rent (it is not rented by this account)."
    ),
    errors.IncorrectStatus: gettext_noop("The provider rejected this status change."),
    errors.AccountInactive: gettext_noop(
        "The provider has no number to offer right now (or the account is inactive)."
    ),
}


def refusal(exc: errors.ProviderError) -> Phrase:
    """The provider's refusal in plain words, to store (`Phrase.stored`) and say when read."""
    for cls in type(exc).__mro__:
        words = MESSAGES.get(cls)  # type: ignore[call-overload]
        if words is not None:
            return words(exc) if callable(words) else phrase(words)
    # A refusal the table does not name: the provider's own text, as it is.
    return phrase(exc.message)


def describe_error(exc: errors.ProviderError) -> str:
    """The provider's refusal in plain words for the member reading it now (forms, flash messages)."""
    return phrase_text(refusal(exc))
