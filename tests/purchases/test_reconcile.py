"""Matching lost purchases to unknown upstream numbers: pairs only where nothing else could fit."""

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from purchases.reconcile import match_lost, match_unambiguous


def same_service(intent: str, stranger: str) -> bool:
    return intent.split("-")[0] == stranger.split("-")[0]


def test_it_pairs_the_only_candidate_on_each_side():
    matching = match_unambiguous(["tg-1", "wa-1"], ["wa-x", "tg-x"], same_service)
    assert sorted(matching.pairs) == [("tg-1", "tg-x"), ("wa-1", "wa-x")]
    assert matching.ambiguous == matching.unmatched == matching.claimed == matching.free == []


def test_it_never_gives_a_wa_purchase_the_tg_number():
    matching = match_unambiguous(["wa-1"], ["tg-x"], same_service)
    assert matching.pairs == []
    assert matching.unmatched == ["wa-1"]
    assert matching.free == ["tg-x"]


def test_it_leaves_two_equal_candidates_to_an_admin():
    matching = match_unambiguous(["tg-1", "tg-2"], ["tg-x", "tg-y"], same_service)
    assert matching.pairs == []
    assert sorted(matching.ambiguous) == ["tg-1", "tg-2"]
    assert sorted(matching.claimed) == ["tg-x", "tg-y"]


def test_a_perfect_matching_that_could_be_wrong_is_not_guessed():
    # tg-1 fits x and y, tg-2 fits y only: pairing tg-1 with x is a guess (y may be tg-1's, tg-2 never sold).
    def fits(intent: str, stranger: str) -> bool:
        return (intent, stranger) in {("tg-1", "x"), ("tg-1", "y"), ("tg-2", "y")}

    matching = match_unambiguous(["tg-1", "tg-2"], ["x", "y"], fits)
    assert matching.pairs == []
    assert sorted(matching.ambiguous) == ["tg-1", "tg-2"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["tg", "wa", "vk"]), max_size=6),
    st.lists(st.sampled_from(["tg", "wa", "vk"]), max_size=6),
)
def test_every_pair_fits_and_nothing_is_used_twice(intent_services, stranger_services):
    intents = [f"{s}-{i}" for i, s in enumerate(intent_services)]
    strangers = [f"{s}-s{i}" for i, s in enumerate(stranger_services)]
    matching = match_unambiguous(intents, strangers, same_service)
    paired_intents = [i for i, _ in matching.pairs]
    paired_strangers = [s for _, s in matching.pairs]
    assert all(same_service(i, s) for i, s in matching.pairs)
    assert len(set(paired_intents)) == len(paired_intents) and len(set(paired_strangers)) == len(
        paired_strangers
    )
    # Every intent and stranger lands in exactly one bucket.
    assert sorted(paired_intents + matching.ambiguous + matching.unmatched) == sorted(intents)
    assert sorted(paired_strangers + matching.claimed + matching.free) == sorted(strangers)
    # A pair is only made when the service is unique on both sides at that moment: never with two of a kind.
    for service in {"tg", "wa", "vk"}:
        mine = [i for i in intents if i.startswith(service)]
        theirs = [s for s in strangers if s.startswith(service)]
        if len(mine) > 1 and len(theirs) > 1:
            assert not any(i.startswith(service) for i in paired_intents)


@dataclass(frozen=True)
class Intent:
    service: str
    status: str


def fits_intent(intent: Intent, stranger: str) -> bool:
    return stranger.startswith(intent.service)


def test_a_number_a_fresh_purchase_could_be_is_never_given_to_a_lost_one():
    lost, fresh = Intent("tg", "unknown"), Intent("tg", "pending")
    matching = match_lost([lost, fresh], ["tg-x"], fits_intent)
    assert matching.pairs == []
    assert matching.ambiguous == []  # it waits for the buyer rather than asking an admin
    assert matching.unmatched == []
    assert matching.free == [] and matching.claimed == ["tg-x"]


def test_a_fresh_purchase_is_left_to_its_buyer_and_a_lost_one_is_paired():
    lost, fresh = Intent("wa", "unknown"), Intent("tg", "pending")
    matching = match_lost([lost, fresh], ["tg-x", "wa-y"], fits_intent)
    assert matching.pairs == [(lost, "wa-y")]
    assert matching.free == []  # tg-x is the fresh purchase's, not bought outside


def test_only_numbers_no_purchase_could_be_are_free():
    matching = match_lost([Intent("tg", "pending")], ["wa-x"], fits_intent)
    assert matching.free == ["wa-x"]
