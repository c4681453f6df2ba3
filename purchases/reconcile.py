"""Matching purchases whose answer was lost to what the provider lists, without ever guessing.

An unsettled intent and an unknown upstream number are paired only when each is the other's one and
only candidate by what identifies a purchase (service, country, time window, phone where known).
Anything else is left unmatched: ambiguity is shown to admins to resolve, never settled by a guess.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from purchases.models import PENDING, Purchase

I = TypeVar("I")  # noqa: E741 - an intent
S = TypeVar("S")  # an upstream number nobody recorded


@dataclass
class Matching(Generic[I, S]):
    pairs: list[tuple[I, S]] = field(default_factory=list)
    # Intents with several candidates left: an admin must choose.
    ambiguous: list[I] = field(default_factory=list)
    # Intents without any candidate upstream.
    unmatched: list[I] = field(default_factory=list)
    # Upstream numbers that may belong to an intent still being settled: not ours to adopt yet.
    claimed: list[S] = field(default_factory=list)
    # Upstream numbers no intent could be: bought outside simdesk.
    free: list[S] = field(default_factory=list)


def match_unambiguous(intents: Sequence[I], strangers: Sequence[S], fits: Callable[[I, S], bool]) -> Matching:
    """Pair each intent and stranger that fit each other and nothing else on either side."""
    candidates = [[s for s in range(len(strangers)) if fits(intent, strangers[s])] for intent in intents]
    takers = [[i for i in range(len(intents)) if s in candidates[i]] for s in range(len(strangers))]
    result: Matching = Matching()
    for i, intent in enumerate(intents):
        if len(candidates[i]) == 1 and takers[candidates[i][0]] == [i]:
            result.pairs.append((intent, strangers[candidates[i][0]]))
        else:
            (result.ambiguous if candidates[i] else result.unmatched).append(intent)
    for s, stranger in enumerate(strangers):
        if len(takers[s]) == 1 and candidates[takers[s][0]] == [s]:
            continue  # paired above
        (result.claimed if takers[s] else result.free).append(stranger)
    return result


def match_lost(
    unsettled: Sequence[Purchase], strangers: Sequence[S], fits: Callable[[Purchase, S], bool]
) -> Matching:
    """Match every unsettled purchase of a key, fresh intents included, against the numbers nobody recorded.

    A fresh intent (still `pending`) is in its buyer's hands: a number it could be is never given to a
    lost purchase nor adopted, and a lost purchase that shares a candidate with it waits rather than
    asking an admin. Only lost purchases come back paired, ambiguous or unmatched.
    """
    matching = match_unambiguous(unsettled, strangers, fits)
    fresh = [intent for intent in unsettled if intent.status == PENDING]

    def contested(intent: Purchase) -> bool:
        return any(fits(other, s) for s in strangers if fits(intent, s) for other in fresh)

    return Matching(
        pairs=[(intent, s) for intent, s in matching.pairs if intent.status != PENDING],
        ambiguous=[i for i in matching.ambiguous if i.status != PENDING and not contested(i)],
        unmatched=[i for i in matching.unmatched if i.status != PENDING],
        claimed=matching.claimed,
        free=matching.free,
    )
