"""Matching purchases whose answer was lost to what the provider lists, without ever guessing.

An unsettled intent and an unknown upstream number are paired only when each is the other's one and
only candidate by what identifies a purchase (service, country, time window, phone where known).
Anything else is left unmatched: ambiguity is shown to admins to resolve, never settled by a guess.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
    """Pair intents and strangers that fit each other and nothing else, repeating as pairs take candidates."""
    candidates = {
        i: [s for s in range(len(strangers)) if fits(intents[i], strangers[s])] for i in range(len(intents))
    }
    takers = {s: [i for i in range(len(intents)) if s in candidates[i]] for s in range(len(strangers))}
    paired_i: set[int] = set()
    paired_s: set[int] = set()
    result: Matching = Matching()
    progress = True
    while progress:
        progress = False
        for i in range(len(intents)):
            if i in paired_i:
                continue
            open_s = [s for s in candidates[i] if s not in paired_s]
            if len(open_s) != 1:
                continue
            s = open_s[0]
            if [j for j in takers[s] if j not in paired_i] == [i]:
                result.pairs.append((intents[i], strangers[s]))
                paired_i.add(i)
                paired_s.add(s)
                progress = True
    for i in range(len(intents)):
        if i in paired_i:
            continue
        open_s = [s for s in candidates[i] if s not in paired_s]
        (result.ambiguous if open_s else result.unmatched).append(intents[i])
    for s in range(len(strangers)):
        if s in paired_s:
            continue
        (result.claimed if any(i not in paired_i for i in takers[s]) else result.free).append(strangers[s])
    return result
