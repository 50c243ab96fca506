"""Choosing the next item of a pool: the four pool orders, and the rotation rules with their relaxation.

Rules are checked start to start: artist (or series) and title separation in minutes, plays of one item per
local clock hour and per local day. When no candidate meets every rule, rules are relaxed one at a time in
RELAXATION_ORDER (the first is given up first) and the candidate that misses the relaxed rule by the least
is placed; every miss is reported. The search is bounded, so generation never loops forever.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from onair.models import Item, Pool, Rules

RELAXATION_ORDER = ("artist_separation", "title_separation", "max_plays_per_hour", "max_plays_per_day")
DRAWS_BEFORE_SCAN = 24  # random/weighted: tries before every item is considered


def stable_rng(*parts: object) -> random.Random:
    """A generator seeded from the parts alone (not Python's per-process string hash): same run, same draws."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


class Clock(NamedTuple):  # a tuple: one is made for every item placed
    """Where a candidate would start: the UTC instant (ms) and its local hour and day keys."""

    at_ms: int
    hour: int  # hour_key(): the local clock hour, the repeated hour of a DST change apart
    day: int  # local date ordinal


def hour_key(ordinal: int, hour: int, fold: int) -> int:
    """One int for a local clock hour (date ordinal, hour, fold): hashed for every candidate, unlike a tuple."""
    return (ordinal * 24 + hour) * 2 + fold


class History:
    """What one channel has played, for its rules."""

    def __init__(self, rules: Rules) -> None:
        self.artist_ms = None if rules.artist_separation is None else rules.artist_separation * 60_000
        self.title_ms = None if rules.title_separation is None else rules.title_separation * 60_000
        self.per_hour = rules.max_plays_per_hour
        self.per_day = rules.max_plays_per_day
        self._credit: dict[str, int] = {}
        self._title: dict[str, int] = {}
        # item id -> [hour key, plays in that hour, day, plays that day] at its last play. The clock only
        # moves forward on a channel (slots are placed in time order), so an item's plays in any later hour
        # or day are 0: one entry per item, not one per item and hour, and no key tuple per play.
        self._plays: dict[str, list[int]] = {}

    def shortfall(self, rule: str, item: Item, clock: Clock) -> float:
        """How far placing `item` at `clock` misses `rule`: seconds for a separation, plays for a cap; 0 if met."""
        if rule == "artist_separation":
            return self._separation(self._credit.get(item.credit or ""), self.artist_ms, clock, item.credit)
        if rule == "title_separation":
            return self._separation(self._title.get(item.title), self.title_ms, clock, item.title)
        plays = self._plays.get(item.id) or [0, 0, 0, 0]
        if rule == "max_plays_per_hour":
            return self._cap(plays[1] if plays[0] == clock.hour else 0, self.per_hour)
        return self._cap(plays[3] if plays[2] == clock.day else 0, self.per_day)

    def allows(self, item: Item, clock: Clock, rules: Sequence[str]) -> bool:
        return all(self.shortfall(rule, item, clock) == 0 for rule in rules)

    def allows_all(self, item: Item, clock: Clock) -> bool:
        """allows() with every rule, written out: it runs once or more for every item placed."""
        at = clock.at_ms
        credit = item.artist or item.series  # Item.credit, without a property call per candidate
        if self.artist_ms is not None and credit:
            last = self._credit.get(credit)
            if last is not None and at - last < self.artist_ms:
                return False
        if self.title_ms is not None:
            last = self._title.get(item.title)
            if last is not None and at - last < self.title_ms:
                return False
        plays = self._plays.get(item.id)
        if plays is None:
            return True
        if self.per_hour is not None and plays[0] == clock.hour and plays[1] >= self.per_hour:
            return False
        return self.per_day is None or plays[2] != clock.day or plays[3] < self.per_day

    def record(self, item: Item, clock: Clock) -> None:
        credit = item.artist or item.series  # Item.credit, without a property call per item placed
        if credit:
            self._credit[credit] = clock.at_ms
        self._title[item.title] = clock.at_ms
        plays = self._plays.get(item.id)
        if plays is None:
            self._plays[item.id] = [clock.hour, 1, clock.day, 1]
            return
        if plays[0] == clock.hour:
            plays[1] += 1
        else:
            plays[0], plays[1] = clock.hour, 1
        if plays[2] == clock.day:
            plays[3] += 1
        else:
            plays[2], plays[3] = clock.day, 1

    @staticmethod
    def _separation(last: int | None, minimum: int | None, clock: Clock, key: str | None) -> float:
        if minimum is None or last is None or not key:
            return 0.0
        return max(0.0, (minimum - (clock.at_ms - last)) / 1000)

    @staticmethod
    def _cap(plays: int, cap: int | None) -> float:
        return 0.0 if cap is None or plays < cap else float(plays + 1 - cap)


class Rotation:
    """The order in which one pool offers its items on one channel; state carries across blocks and days."""

    def __init__(self, pool: Pool, items: list[Item], rng: random.Random) -> None:
        self.pool_id = pool.id
        self.order = pool.order
        self.items = items
        self._rng = rng
        self._next = 0  # sequential: the next item's index
        self._position = {item.id: index for index, item in enumerate(items)}
        self._deck: list[Item] = []  # shuffle: the current pass; items before _dealt were played
        self._deck_position: dict[str, int] = {}  # item id -> index in _deck
        self._dealt = 0
        self._last_of_pass: Item | None = None
        self._drawn: Item | None = None  # random, weighted: head()'s draw, the next candidates()' first
        self._cumulative = list(itertools.accumulate(item.weight for item in items))
        self.by_duration = sorted(items, key=lambda item: (item.duration, item.id))
        self._durations = [item.duration for item in self.by_duration]

    def candidates(self) -> Iterator[Item]:
        """Every item at most once, most preferred first."""
        if self.order == "sequential":
            return _from(self.items, self._next)
        if self.order == "shuffle":
            if self._dealt >= len(self._deck):
                self._new_pass()
            # the played part of the pass comes last: only reached when the rest breaks the rules
            return _from(self._deck, self._dealt)
        drawn, self._drawn = self._drawn, None
        return self._draws(drawn)

    def head(self) -> Item | None:
        """What candidates() would offer first. Most often it meets the rules: the engine tries it before
        asking for the candidates. For random and weighted it is a draw, which the candidates() that
        follows offers first (a later head() draws again, as a later candidates() would)."""
        if not self.items:
            return None
        if self.order == "sequential":
            return self.items[self._next]
        if self.order == "shuffle":
            if self._dealt >= len(self._deck):
                self._new_pass()
            return self._deck[self._dealt]
        self._drawn = self._draw()
        return self._drawn

    def played(self, item: Item, *, in_turn: bool) -> None:
        """`item` went on air: offered by candidates() (in turn), or picked as a best fit (out of turn)."""
        self._drawn = None
        if self.order == "sequential":
            if in_turn:  # the items skipped for the rules lose this turn; the order continues after `item`
                self._next = (self._position[item.id] + 1) % len(self.items)
        elif self.order == "shuffle":
            if self._dealt >= len(self._deck):
                self._new_pass()
            deck = self._deck
            # Identity, not ==: pydantic's equality compares every field, and this runs for every item.
            if deck[self._dealt] is not item:  # not the pass's next (most often it is): swap it there
                position = self._deck_position[item.id]
                if position < self._dealt:
                    return  # played out of turn (a best fit) after its turn in this pass
                dealt = deck[position], deck[self._dealt]
                deck[self._dealt], deck[position] = dealt
                self._deck_position[dealt[0].id], self._deck_position[dealt[1].id] = self._dealt, position
            self._dealt += 1
            if self._dealt == len(deck):
                self._last_of_pass = item

    def longest_within(self, limit_s: float) -> Iterator[Item]:
        """Items no longer than `limit_s`, longest first (for filling a block's last minutes)."""
        end = bisect.bisect_right(self._durations, limit_s + 1e-9)
        for index in range(end - 1, -1, -1):
            yield self.by_duration[index]

    def _new_pass(self) -> None:
        deck = list(self.items)
        self._rng.shuffle(deck)
        if len(deck) > 1 and deck[0] is self._last_of_pass:
            # A pass never starts with the item that ended the previous one.
            swap = self._rng.randrange(1, len(deck))
            deck[0], deck[swap] = deck[swap], deck[0]
        self._deck, self._dealt = deck, 0
        self._deck_position = {item.id: index for index, item in enumerate(deck)}

    def _draw(self) -> Item:
        items = self.items
        if self.order == "weighted":
            drawn = bisect.bisect_right(self._cumulative, self._rng.random() * self._cumulative[-1])
            return items[min(drawn, len(items) - 1)]
        return items[self._rng.randrange(len(items))]

    def _draws(self, first: Item | None) -> Iterator[Item]:
        """DRAWS_BEFORE_SCAN draws (the first may be head()'s), then every item not drawn."""
        seen: set[str] = set()
        for draw in range(DRAWS_BEFORE_SCAN):
            item = first if draw == 0 and first is not None else self._draw()
            if item.id not in seen:
                seen.add(item.id)
                yield item
        # Then every other item once, in a weighted random order (Efraimidis-Spirakis keys).
        rest = [item for item in self.items if item.id not in seen]
        keys = {item.id: self._rng.random() ** (1 / item.weight) for item in rest}
        yield from sorted(rest, key=lambda item: -keys[item.id])


def _from(items: list[Item], start: int) -> Iterator[Item]:
    """Every item once, from `start` round to the one before it. Indexing, not slicing: a slice would copy
    the whole pool for every item placed."""
    for index in range(len(items)):
        yield items[(start + index) % len(items)]


class Choice(NamedTuple):  # a tuple: one is made for every item placed
    item: Item
    breaks: tuple[tuple[str, float], ...]  # (rule, shortfall) for each rule the choice misses


def choose(candidates: Iterator[Item], history: History, clock: Clock) -> Choice | None:
    """The first candidate meeting every rule; else relax the rules in order."""
    considered: list[Item] = []
    allows_all = history.allows_all
    for item in candidates:
        if allows_all(item, clock):
            return Choice(item, ())
        considered.append(item)
    if not considered:
        return None
    for level, relaxed in enumerate(RELAXATION_ORDER):
        kept = RELAXATION_ORDER[level + 1 :]
        eligible = [item for item in considered if history.allows(item, clock, kept)]
        if eligible:
            best = min(eligible, key=lambda item: history.shortfall(relaxed, item, clock))
            misses = tuple(
                (rule, miss)
                for rule in RELAXATION_ORDER[: level + 1]
                if (miss := history.shortfall(rule, best, clock)) > 0
            )
            return Choice(best, misses)
    return None  # unreachable: with every rule relaxed, every candidate is eligible
