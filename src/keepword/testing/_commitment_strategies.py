"""Hypothesis strategies for commitments and the moves they can make.

Everything is valid by construction: identifiers are drawn from the characters
keepword accepts, commitments are made with :func:`keepword.transitions.promise`
and moved only by legal transitions, so ``replay(c.history)`` always rebuilds
the drawn value.  Import them from :mod:`keepword.testing.strategies`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from hypothesis import strategies as st

from keepword import transitions as _t
from keepword._ids import new_id
from keepword._instant import to_utc
from keepword.calendar import BusinessCalendar, Within
from keepword.commitment import Commitment, Status
from keepword.errors import CalendarError, InvalidTransitionError
from keepword.escalation import EscalationPolicy
from keepword.testing._hostile import (
    HOSTILE_STRINGS,
    boundary_priorities,
    deep_terms,
    hostile_identifiers,
    hostile_texts,
)
from keepword.testing._time_strategies import aware_datetimes, within_specs
from keepword.transitions import Change

__all__ = [
    "HOSTILE_STRINGS",
    "LEGAL",
    "Operation",
    "commitments",
    "identifiers",
    "json_objects",
    "operations",
    "perform",
    "texts",
]

_CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


def identifiers(*, max_size: int = 24) -> st.SearchStrategy[str]:
    """Identifiers keepword accepts: 1-255 characters, no NUL, no lone surrogate.

    Mostly short printable names, sometimes any Unicode, sometimes one of
    :data:`HOSTILE_STRINGS`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20)
    ... @given(identifiers())
    ... def accepted(s):
    ...     assert 1 <= len(s) <= 255 and "\\x00" not in s
    >>> accepted()
    """
    return st.one_of(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-_:", min_size=1, max_size=max_size),
        st.text(_CHARACTERS, min_size=1, max_size=min(max_size, 255)),
        st.sampled_from(HOSTILE_STRINGS),
    )


def texts(*, max_size: int = 200) -> st.SearchStrategy[str]:
    """Free text keepword accepts (for ``what`` and reasons): no NUL, no lone surrogate."""
    return st.one_of(st.text(_CHARACTERS, max_size=max_size), st.sampled_from(HOSTILE_STRINGS))


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(_CHARACTERS, max_size=20),
)


def json_objects(*, max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects for ``terms``: nested dicts and lists of JSON scalars.

    Integers stay within +-2**53 so that every database's JSON type keeps them exact.
    """
    values = st.recursive(
        _JSON_SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(_CHARACTERS, max_size=8), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )
    return st.dictionaries(st.text(_CHARACTERS, max_size=8), values, max_size=4)


# --------------------------------------------------------------------------- operations


@attrs.frozen(kw_only=True)
class Operation:
    """One move to try on a commitment, after the clock advances by ``advance``.

    Args:
        name: ``"keep"``, ``"fail"``, ``"cancel"``, ``"pause"``, ``"resume"``,
            ``"renegotiate"``, ``"reassign"``, ``"retarget"`` or
            ``"mark_breached"``.
        advance: how far the clock moves forward before the move (``>= 0``).
        args: the move's keyword arguments besides ``now`` (e.g. ``reason``);
            ``kept_back`` for ``keep`` is how long before ``now`` it was kept.
    """

    name: str
    advance: dt.timedelta
    args: Mapping[str, Any] = attrs.field(factory=dict)


LEGAL: Mapping[Status, tuple[str, ...]] = {
    Status.OPEN: (
        "keep",
        "fail",
        "cancel",
        "pause",
        "renegotiate",
        "reassign",
        "retarget",
        "mark_breached",
    ),
    Status.PAUSED: ("keep", "fail", "cancel", "resume", "reassign", "retarget"),
    Status.KEPT: (),
    Status.BROKEN: (),
    Status.CANCELLED: (),
}
"""Which moves each status allows (the rest raise ``InvalidTransitionError``)."""

_ALL_NAMES = (*LEGAL[Status.OPEN], "resume")

_ADVANCES = st.one_of(
    st.just(dt.timedelta(0)),
    st.integers(1, 59).map(lambda m: dt.timedelta(minutes=m)),
    st.integers(1, 72).map(lambda h: dt.timedelta(hours=h)),
    st.integers(1, 20).map(lambda d: dt.timedelta(days=d)),
)


@st.composite
def _operation(
    draw: st.DrawFn,
    name: str,
    calendars_: st.SearchStrategy[BusinessCalendar],
    owners: st.SearchStrategy[str],
) -> Operation:
    advance = draw(_ADVANCES)
    args: dict[str, Any] = {}
    if name == "keep":
        args["kept_back"] = draw(
            st.sampled_from([dt.timedelta(0), dt.timedelta(minutes=5), dt.timedelta(hours=30)])
        )
    elif name in ("fail", "pause"):
        args["reason"] = draw(st.text("abcdefgh ", min_size=1, max_size=12).filter(str.strip))
    elif name == "cancel":
        args["reason"] = draw(st.none() | st.text(max_size=12).filter(lambda s: "\x00" not in s))
    elif name == "renegotiate":
        args["due"] = draw(
            within_specs(max_business_days=10)
            | st.integers(0, 30 * 24).map(lambda h: dt.timedelta(hours=h))
        )
        args["reason"] = draw(st.none() | st.just("customer agreed"))
    elif name == "reassign":
        args["owner"] = draw(owners)
    elif name == "retarget":
        args["calendar"] = draw(calendars_)
    return Operation(name=name, advance=advance, args=args)


def operations(
    *,
    names: tuple[str, ...] = _ALL_NAMES,
    calendars_: st.SearchStrategy[BusinessCalendar] | None = None,
    owners: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Operation]:
    """Moves of any kind, legal or not for a given commitment; see :func:`perform`.

    Args:
        names: which moves to draw from.
        calendars_: calendars for ``retarget`` (default: a few simple ones).
        owners: new owners for ``reassign``.
    """
    cals = calendars_ if calendars_ is not None else _simple_calendars()
    who = owners if owners is not None else identifiers(max_size=8)
    return st.sampled_from(names).flatmap(lambda n: _operation(n, cals, who))


def perform(c: Commitment, op: Operation, now: dt.datetime) -> Change:
    """Apply ``op`` to ``c`` at ``now`` with the pure transition of the same name.

    Returns:
        ``(new_commitment, new_events)`` as the transition returns them.

    Raises:
        InvalidTransitionError: the move is illegal in ``c``'s status.
        InvalidArgumentError: e.g. ``reassign`` to the current owner.
    """
    a = op.args
    now = to_utc(now, "now")
    if op.name == "keep":
        kept_at = max(now - a.get("kept_back", dt.timedelta(0)), c.made_at)
        return _t.keep(c, now=now, kept_at=min(kept_at, now))
    if op.name == "fail":
        return _t.fail(c, now=now, reason=a["reason"])
    if op.name == "cancel":
        return _t.cancel(c, now=now, reason=a.get("reason"))
    if op.name == "pause":
        return _t.pause(c, now=now, reason=a["reason"])
    if op.name == "resume":
        return _t.resume(c, now=now)
    if op.name == "renegotiate":
        due = a["due"]
        if isinstance(due, dt.timedelta):
            due = max(now, c.made_at) + due
        return _t.renegotiate(c, now=now, due=due, reason=a.get("reason"))
    if op.name == "reassign":
        return _t.reassign(c, now=now, owner=a["owner"])
    if op.name == "retarget":
        return _t.retarget(c, now=now, calendar=a["calendar"])
    if op.name == "mark_breached":
        return _t.mark_breached(c, now=now)
    raise ValueError(f"unknown operation {op.name!r}")


# --------------------------------------------------------------------------- commitments


def _simple_calendars() -> st.SearchStrategy[BusinessCalendar]:
    return st.sampled_from(
        [
            ("UTC", "Daily 00:00-24:00", None),
            ("America/New_York", "Mon-Fri 09:00-17:00", "US"),
            ("Europe/Stockholm", "Mon-Fri 08:00-12:00,13:00-17:00", "SE"),
            ("Asia/Kathmandu", "Sun-Fri 10:00-18:00", None),
            ("Australia/Sydney", "Mon-Fri 22:00-06:00", None),
        ]
    ).map(lambda t: BusinessCalendar(tz=t[0], hours=t[1], country=t[2]))


def _new_owner(current: str, drawn: str) -> str:
    if drawn != current:
        return drawn
    return drawn[:-1] + ("y" if drawn[-1] == "x" else "x")


@st.composite
def _commitments(
    draw: st.DrawFn,
    tenants: st.SearchStrategy[str],
    calendars_: st.SearchStrategy[BusinessCalendar],
    made: st.SearchStrategy[dt.datetime],
    max_moves: int,
    version: int | None,
    external_refs: st.SearchStrategy[str | None],
    statuses: frozenset[Status] | None,
    policies: st.SearchStrategy[EscalationPolicy | None] | None,
    hostile: bool,
) -> Commitment:
    # stdlib UTC: wall-clock arithmetic in a zone (or on pendulum values) is not elapsed time
    now = to_utc(draw(made), "made_at")
    calendar = draw(calendars_)
    fallback = now + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 20)))
    due: Within | dt.datetime = draw(within_specs(max_business_days=15) | st.just(fallback))
    if isinstance(due, Within):
        try:
            calendar.resolve(now, due)
        except CalendarError:  # too much business time for a sparse calendar's horizon
            due = fallback
    names, words = identifiers(), texts()
    priorities, terms = st.integers(0, 5), json_objects()
    if hostile:  # sometimes the hard values: a store must take them as well
        names, words = names | hostile_identifiers(), words | hostile_texts()
        priorities, terms = priorities | boundary_priorities(), terms | deep_terms()
    c, _ = _t.promise(
        id=new_id(now),
        tenant=draw(tenants),
        customer=draw(names),
        owner=draw(names),
        kind=draw(st.sampled_from(["reply", "refund", "thank_you", "follow_up", "ship"])),
        what=draw(words),
        now=now,
        calendar=calendar,
        due=due,
        external_ref=draw(external_refs),
        tags=draw(st.lists(identifiers(max_size=8), max_size=3)),
        priority=draw(priorities),
        waiting_for=draw(st.none() | st.sampled_from(["sku:FIG-1", "sku:FIG-2", "agent"])),
        terms=draw(terms),
        actor=draw(st.none() | identifiers(max_size=8)),
        policy=None if policies is None else draw(policies),
    )
    moves = draw(st.integers(0, max_moves))
    for _ in range(moves):
        legal = LEGAL[c.status]
        if statuses is not None and c.status in statuses and draw(st.booleans()):
            break
        if not legal:
            break
        name = draw(st.sampled_from(legal))
        op = draw(_operation(name, calendars_, identifiers(max_size=8)))
        now = now + op.advance
        if name == "reassign":
            op = attrs.evolve(op, args={"owner": _new_owner(c.owner, op.args["owner"])})
        try:
            c, _ = perform(c, op, now)
        except CalendarError:  # a deadline beyond a sparse calendar's horizon: skip the move
            continue
    if statuses is not None and c.status not in statuses:
        c = _force_status(c, statuses, now)
    if version is not None:
        c = attrs.evolve(c, version=version)
    return c


def _force_status(c: Commitment, statuses: frozenset[Status], now: dt.datetime) -> Commitment:
    """Move ``c`` into one of ``statuses`` with legal moves, if it can get there."""
    moves: dict[Status, Callable[[Commitment], Change]] = {
        Status.KEPT: lambda x: _t.keep(x, now=now),
        Status.BROKEN: lambda x: _t.fail(x, now=now, reason="could not"),
        Status.CANCELLED: lambda x: _t.cancel(x, now=now),
        Status.PAUSED: lambda x: _t.pause(x, now=now, reason="waiting"),
        Status.OPEN: lambda x: _t.resume(x, now=now),
    }
    for target in sorted(statuses, key=lambda s: s.value):
        if c.status in (Status.OPEN, Status.PAUSED):
            try:
                return moves[target](c)[0]
            except (InvalidTransitionError, CalendarError):
                continue
    return c


def commitments(
    *,
    tenants: st.SearchStrategy[str] | None = None,
    calendars: st.SearchStrategy[BusinessCalendar] | None = None,
    made_at: st.SearchStrategy[dt.datetime] | None = None,
    max_moves: int = 6,
    version: int | None = None,
    external_refs: st.SearchStrategy[str | None] | None = None,
    statuses: frozenset[Status] | None = None,
    policies: st.SearchStrategy[EscalationPolicy | None] | None = None,
    hostile: bool = True,
) -> st.SearchStrategy[Commitment]:
    """Commitments with a real history: promised, then a few legal moves.

    Args:
        tenants: tenant names (default ``"default"``, ``"shop-7"``, ``"shop-8"``).
        calendars: the calendars promises are made under (default: five
            fixed, fast ones; pass ``keepword.testing.strategies.calendars()``
            for the full variety).
        made_at: promise instants (default: aware datetimes in 2020-2030).
        max_moves: the most transitions after the promise.
        version: force this version (``1`` for values to pass to
            ``Store.add``); by default 1 plus the number of transitions.
        external_refs: external references (default: mostly ``None``).
        statuses: end in one of these statuses (when reachable).
        policies: the escalation policies promises are made under (default:
            none, so no policy is drawn).
        hostile: also draw the values that are hard for a store (on by
            default): customers and owners from :func:`hostile_identifiers`
            (often exactly 255 characters), ``what`` from
            :func:`hostile_texts`, priorities at their edges (0 to
            ``MAX_PRIORITY``, 2**31-1) and ``terms`` nested up to the accepted
            depth (:func:`deep_terms`).  ``False`` draws only the ordinary
            values: short names, priorities 0-5, shallow terms.

    Returns:
        A strategy whose values satisfy ``replay(c.history, version=c.version) == c``.

    >>> from hypothesis import given, settings
    >>> from keepword.commitment import replay
    >>> @settings(max_examples=10)
    ... @given(commitments())
    ... def replays(c):
    ...     assert replay(c.history, version=c.version) == c
    >>> replays()
    """
    return _commitments(
        tenants if tenants is not None else st.sampled_from(["default", "shop-7", "shop-8"]),
        calendars if calendars is not None else _simple_calendars(),
        made_at if made_at is not None else aware_datetimes(2020, 2030),
        max_moves,
        version,
        external_refs
        if external_refs is not None
        else st.none() | identifiers(max_size=12).map(lambda s: "ref-" + s[:200]),
        statuses,
        policies,
        hostile,
    )
