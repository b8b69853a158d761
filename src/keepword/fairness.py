"""Fairness: first come, first served, and the audit of queue jumping and clock gaming.

Pure values and functions, no I/O; the stores answer the audit's questions
(:class:`keepword.ports.Waitlist`) and :mod:`keepword.services.allocating` and
:mod:`keepword.services.auditing` put them together.

A commitment *waits* for a resource (``waiting_for="sku:FIG-1"``) for a
quantity of units, ``terms["quantity"]`` (1 when absent).  Its place in line
is ``(made_at, id)``.  Allocation *serves* it: a ``"served"`` event in its
history records how many units it got; it stays open (or paused) until kept.
It waits while it is open or paused and has units still unserved; a paused
commitment keeps its place (pausing stops the deadline's clock, not the
queue).

Its *turn* is the instant it first got units (its first ``"served"`` event),
or, if it was kept without ever being served, the instant it was kept.  A
commitment is served out of turn when its turn came while an earlier one
(``(made_at, id)`` smaller, same resource) still waited: one whose own turn
was not yet served in full (nor kept), and which was not closed (cancelled
or failed) before.

>>> import datetime as dt
>>> check_resource("sku:FIG-1", "resource")
'sku:FIG-1'
>>> check_resource("FIG 1", "resource")
Traceback (most recent call last):
keepword.errors.InvalidArgumentError: resource: must name a resource as 'type:name'...
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from keepword._instant import to_utc
from keepword._validate import check_count, check_identifier, check_positive
from keepword.commitment import Commitment, Status
from keepword.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_MAX_RENEGOTIATIONS",
    "DEFAULT_PAUSE_WINDOW",
    "RULES",
    "AuditRules",
    "FairnessReport",
    "Finding",
    "OutOfTurn",
    "PauseRecord",
    "QueueState",
    "Renegotiations",
    "Share",
    "WaitingEntry",
    "WaiverRecord",
    "check_first",
    "check_quantity",
    "check_resource",
    "check_window",
    "is_waiting",
    "out_of_turn",
    "plan_allocation",
    "quantity_of",
    "queue_key",
    "queue_state",
]

RULES = (
    "served_out_of_turn",
    "paused_after_customer",
    "renegotiated_often",
    "waived_replies",
)
"""Every :attr:`Finding.rule`, in the order the audit lists them.

- ``"served_out_of_turn"``: a commitment kept or served before an earlier
  one waiting for the same resource (an approved exception when it was served
  ahead through ``allocate(first=...)`` with a reason and an actor).
- ``"paused_after_customer"``: a pause that started within the pause window
  after the customer's own message (a ``"received"`` touchpoint).
- ``"renegotiated_often"``: a deadline renegotiated more than N times.
- ``"waived_replies"``: replies waived by ``no_reply_needed``, per actor.
"""

DEFAULT_PAUSE_WINDOW = _dt.timedelta(hours=1)
"""How soon after the customer's message a pause counts as "right after"."""

DEFAULT_MAX_RENEGOTIATIONS = 2
"""How many renegotiations of one commitment pass without a finding."""

_RESOURCE = re.compile(r"[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9][A-Za-z0-9._:/+#@-]{0,200}")


def check_resource(value: Any, argument: str = "resource") -> str:
    """``value`` if it names a resource as ``type:name`` (``"sku:FIG-1"``), else refuse it.

    The type is lower-case letters, digits, ``_`` and ``-`` (starting with a
    letter); the name starts with a letter or digit and may hold ``._:/+#@-``.

    Raises:
        InvalidArgumentError: naming ``argument``.
    """
    if not isinstance(value, str) or not _RESOURCE.fullmatch(value):
        raise InvalidArgumentError(
            f"must name a resource as 'type:name', e.g. 'sku:FIG-1' (got {value!r})",
            argument=argument,
            fix="use a lower-case type, a colon and a name without spaces",
        )
    return value


def check_quantity(value: Any, argument: str = "quantity") -> int:
    """``value`` if it is a positive int (not a bool), else InvalidArgumentError naming it."""
    return check_positive(value, argument)


def check_window(since: Any, until: Any) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """``(since, until)`` as UTC instants (or ``None``), ``since`` not after ``until``.

    Raises:
        NaiveDatetimeError: naming ``since`` or ``until``.
        InvalidArgumentError: ``since`` is after ``until`` (naming ``since``).
    """
    lo = None if since is None else to_utc(since, "since")
    hi = None if until is None else to_utc(until, "until")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidArgumentError("must not be after until", argument="since")
    return lo, hi


def check_first(first: Any) -> tuple[str, ...]:
    """The ids of ``first`` (commitments or ids), each once, in the order given.

    Raises:
        InvalidArgumentError: naming ``first``.
    """
    if first is None:
        return ()
    if isinstance(first, (str, bytes, Commitment)) or not isinstance(first, Iterable):
        raise InvalidArgumentError("must be a list of commitments or their ids", argument="first")
    ids: list[str] = []
    for item in first:
        id = item.id if isinstance(item, Commitment) else item
        if not isinstance(id, str):
            raise InvalidArgumentError(
                f"must hold commitments or ids, not {type(item).__name__}", argument="first"
            )
        check_identifier(id, "first")
        if id in ids:
            raise InvalidArgumentError(f"names {id!r} twice", argument="first")
        ids.append(id)
    return tuple(ids)


def quantity_of(c: Commitment) -> int:
    """How many units ``c`` waits for: ``terms["quantity"]``, 1 when absent.

    A stored value that is not a positive int counts as 1 (the tracker never
    writes one; a host's hand-written terms must not stop the queue).
    """
    q = c.terms.get("quantity", 1)
    return q if isinstance(q, int) and not isinstance(q, bool) and q >= 1 else 1


def queue_key(c: Commitment) -> tuple[_dt.datetime, str]:
    """A commitment's place in line: ``(made_at, id)``."""
    return (c.made_at, c.id)


@attrs.frozen(kw_only=True)
class QueueState:
    """Where a commitment waiting for a resource stands, read off its history.

    What the SQL store keeps in its waitlist columns, so a waitlist and the
    audit are indexed queries.

    Attributes:
        quantity: units it waits for (:func:`quantity_of`).
        served: units served so far.
        queue_at: ``made_at`` while it waits, else ``None``.
        turn_at: when its turn came (first served, else kept), or ``None``.
        full_at: when it stopped waiting by being served in full (or kept),
            or ``None``.
        ahead: its first service was an approved exception.
    """

    quantity: int
    served: int
    queue_at: _dt.datetime | None
    turn_at: _dt.datetime | None
    full_at: _dt.datetime | None
    ahead: bool


def queue_state(c: Commitment) -> QueueState | None:
    """``c``'s :class:`QueueState`, or ``None`` when it waits for nothing."""
    if c.waiting_for is None:
        return None
    quantity = quantity_of(c)
    served = 0
    turn_at: _dt.datetime | None = None
    full_at: _dt.datetime | None = None
    ahead = False
    for event in c.history:
        if event.kind == "served":
            units = event.data.get("quantity", 0)
            served += units if isinstance(units, int) else 0
            if turn_at is None:
                turn_at = event.at
                ahead = event.data.get("ahead") is True
            if full_at is None and served >= quantity:
                full_at = event.at
    if c.status is Status.KEPT:
        turn_at = c.kept_at if turn_at is None else turn_at
        full_at = c.kept_at if full_at is None else full_at
    waiting = c.status in (Status.OPEN, Status.PAUSED) and served < quantity
    return QueueState(
        quantity=quantity,
        served=served,
        queue_at=c.made_at if waiting else None,
        turn_at=turn_at,
        full_at=full_at,
        ahead=ahead,
    )


def is_waiting(c: Commitment, resource: str | None = None) -> bool:
    """True if ``c`` still waits (for ``resource``, when given): open or paused, units unserved."""
    if resource is not None and c.waiting_for != resource:
        return False
    state = queue_state(c)
    return state is not None and state.queue_at is not None


@attrs.frozen(kw_only=True)
class WaitingEntry:
    """One commitment still waiting, with its place in line (what ``tracker.waitlist`` lists).

    Attributes:
        position: 1 for the head of the line.
        commitment: the commitment as stored.
        quantity: units it waits for.
        remaining: units still unserved.
    """

    position: int
    commitment: Commitment
    quantity: int
    remaining: int


@attrs.frozen(kw_only=True)
class Share:
    """What one allocation gives one commitment.

    Attributes:
        commitment: the commitment served (as stored before the allocation).
        units: units it gets now (``>= 1``).
        ahead: served ahead of its turn (an approved exception).
    """

    commitment: Commitment
    units: int
    ahead: bool


def plan_allocation(
    waiting: Iterable[Commitment],
    quantity: int,
    *,
    partial: bool = False,
    first: Sequence[Commitment] = (),
) -> tuple[list[Share], int]:
    """Decide who gets ``quantity`` units: ``first`` (in the order given), then the line in turn.

    Whole orders go in turn: the head of the line gets all its remaining
    units or, if they do not fit, allocation stops there (a large early
    order is never skipped to serve a small later one).  With ``partial`` the
    head that does not fit gets what is left.  ``first`` is served the same
    way, ahead of the line.

    Args:
        waiting: the commitments still waiting, in line order (only read as
            far as the units go).
        quantity: the units to hand out (``> 0``).
        partial: whether an order may be served in part.
        first: approved exceptions, each still waiting.

    Returns:
        ``(shares, left)``: the shares in the order served and the units not
        handed out.

    >>> plan_allocation([], 3)
    ([], 3)
    """
    left = check_quantity(quantity)
    shares: list[Share] = []

    def take(c: Commitment, ahead: bool) -> bool:
        """Serve ``c`` if it fits; False once allocation must stop."""
        nonlocal left
        state = queue_state(c)
        need = 0 if state is None else state.quantity - state.served
        if need <= 0:
            return True
        units = min(need, left)
        if units < need and not partial:
            return False
        shares.append(Share(commitment=c, units=units, ahead=ahead))
        left -= units
        return left > 0

    chosen = {c.id for c in first}
    for c in first:
        if not take(c, True):
            return shares, left
    for c in waiting:
        if c.id not in chosen and not take(c, False):
            break
    return shares, left


# ------------------------------------------------------------------ what the stores report


@attrs.frozen(kw_only=True)
class OutOfTurn:
    """A commitment whose turn came while earlier ones still waited (or an approved exception).

    Attributes:
        commitment_id: the commitment served or kept.
        customer: its customer.
        resource: what it waited for.
        at: when its turn came.
        earlier: the earlier commitments still waiting then, in line order
            (at most :data:`EARLIER_SHOWN`).
        ahead: it was served ahead as an approved exception.
        reason: the exception's reason, if any.
        actor: who approved it, if any.
    """

    commitment_id: str
    customer: str
    resource: str
    at: _dt.datetime
    earlier: tuple[str, ...]
    ahead: bool
    reason: str | None = None
    actor: str | None = None


EARLIER_SHOWN = 20
"""How many jumped commitments an :class:`OutOfTurn` names at most."""


@attrs.frozen(kw_only=True)
class PauseRecord:
    """One ``"paused"`` event: which commitment, whose, when and by whom.

    Attributes:
        commitment_id: the commitment paused.
        customer: its customer.
        at: when the pause started.
        actor: who paused it, or ``None``.
    """

    commitment_id: str
    customer: str
    at: _dt.datetime
    actor: str | None


@attrs.frozen(kw_only=True)
class Renegotiations:
    """A commitment and how many times its deadline was renegotiated.

    Attributes:
        commitment_id: the commitment.
        customer: its customer.
        count: renegotiations in the audited period.
        last_at: when the last of them happened.
    """

    commitment_id: str
    customer: str
    count: int
    last_at: _dt.datetime


@attrs.frozen(kw_only=True)
class WaiverRecord:
    """One reply commitment cancelled as waived (``no_reply_needed``).

    Attributes:
        commitment_id: the reply commitment.
        customer: its customer.
        at: when it was waived.
        actor: who waived it (``None`` for the system).
    """

    commitment_id: str
    customer: str
    at: _dt.datetime
    actor: str | None


def out_of_turn(
    commitments: Iterable[Commitment],
    *,
    since: _dt.datetime | None = None,
    until: _dt.datetime | None = None,
) -> list[OutOfTurn]:
    """The reference answer to :meth:`keepword.ports.Waitlist.served_out_of_turn`.

    Every commitment whose turn came in ``[since, until)`` while an earlier
    one for the same resource still waited, and every approved exception
    whose turn came then; ordered by ``(at, id)``.  Quadratic: for
    ``MemoryStore`` and tests, not for a database.
    """
    by_resource: dict[str, list[tuple[Commitment, QueueState]]] = {}
    for c in commitments:
        state = queue_state(c)
        if state is not None and c.waiting_for is not None:
            by_resource.setdefault(c.waiting_for, []).append((c, state))
    out: list[OutOfTurn] = []
    for resource, line in by_resource.items():
        line.sort(key=lambda pair: queue_key(pair[0]))
        for i, (s, st) in enumerate(line):
            turn = st.turn_at
            if turn is None or (since is not None and turn < since):
                continue
            if until is not None and turn >= until:
                continue
            earlier = tuple(e.id for e, et in line[:i] if _still_waiting_at(e, et, turn))
            if not earlier and not st.ahead:
                continue
            reason, actor = _exception_of(s) if st.ahead else (None, None)
            out.append(
                OutOfTurn(
                    commitment_id=s.id,
                    customer=s.customer,
                    resource=resource,
                    at=turn,
                    earlier=earlier[:EARLIER_SHOWN],
                    ahead=st.ahead,
                    reason=reason,
                    actor=actor,
                )
            )
    out.sort(key=lambda o: (o.at, o.commitment_id))
    return out


def _still_waiting_at(e: Commitment, state: QueueState, at: _dt.datetime) -> bool:
    """Whether ``e`` still waited at ``at``: served in full later (or never), not closed before."""
    settled = state.full_at if state.full_at is not None else e.closed_at
    return settled is None or settled > at


def _exception_of(c: Commitment) -> tuple[str | None, str | None]:
    for event in c.history:
        if event.kind == "served":
            reason = event.data.get("reason")
            return (reason if isinstance(reason, str) else None), event.actor
    return None, None  # pragma: no cover - an ahead commitment has a served event


# ------------------------------------------------------------------ findings


@attrs.frozen(kw_only=True)
class AuditRules:
    """The audit's thresholds.

    Attributes:
        pause_window: a pause starting within this long after the customer's
            own message is a finding (default one hour).
        max_renegotiations: more renegotiations than this of one commitment
            is a finding (default 2).
    """

    pause_window: _dt.timedelta = attrs.field(default=DEFAULT_PAUSE_WINDOW)
    max_renegotiations: int = attrs.field(default=DEFAULT_MAX_RENEGOTIATIONS)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.pause_window, _dt.timedelta) or self.pause_window <= _dt.timedelta(
            0
        ):
            raise InvalidArgumentError(
                f"must be a positive timedelta (got {self.pause_window!r})",
                argument="pause_window",
            )
        check_count(self.max_renegotiations, "max_renegotiations", 0)


@attrs.frozen(kw_only=True)
class Finding:
    """One thing the fairness audit found.

    Attributes:
        rule: which rule, one of :data:`RULES`.
        commitments: the commitments involved, the one acted on first.
        sentence: what happened, in one sentence.
        approved: an approved exception (listed apart from violations).
        at: when it happened (for ``waived_replies``, the last waiver).
        actor: who did it, when known.
        count: how many times (renegotiations, waivers), else 1.
        resource: the resource, for ``served_out_of_turn``.
    """

    rule: str
    commitments: tuple[str, ...]
    sentence: str
    approved: bool = False
    at: _dt.datetime | None = None
    actor: str | None = None
    count: int = 1
    resource: str | None = None


@attrs.frozen(kw_only=True)
class FairnessReport:
    """What ``tracker.fairness_audit`` found, violations apart from approved exceptions.

    Attributes:
        since: the start of the audited period (inclusive), or ``None``.
        until: its end (exclusive), or ``None``.
        violations: findings of rules broken, in :data:`RULES` order, then by time.
        approved: approved exceptions (served ahead with a reason and an actor).
        waivers: replies waived as needing no answer, one finding per actor.
        skipped: rules not checked, each with why (e.g. the pause rule on a
            store without the ``"touchpoints"`` port).
    """

    since: _dt.datetime | None
    until: _dt.datetime | None
    violations: tuple[Finding, ...]
    approved: tuple[Finding, ...]
    waivers: tuple[Finding, ...]
    skipped: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding: violations, then approved exceptions, then waivers."""
        return (*self.violations, *self.approved, *self.waivers)

    @property
    def clean(self) -> bool:
        """True when no rule was broken (approved exceptions and waivers aside)."""
        return not self.violations


def _when(at: _dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _ids(ids: Sequence[str], total: int | None = None) -> str:
    shown = ", ".join(ids)
    more = (total or len(ids)) - len(ids)
    return shown + (f" and {more} more" if more > 0 else "")


def out_of_turn_finding(o: OutOfTurn) -> Finding:
    """The :class:`Finding` of one :class:`OutOfTurn`."""
    if o.ahead:
        jumped = f", ahead of {_ids(o.earlier)}" if o.earlier else ""
        sentence = (
            f"{o.commitment_id} ({o.customer}) was served {o.resource} on {_when(o.at)}"
            f"{jumped} as an approved exception by {o.actor or 'the system'}: "
            f"{o.reason or 'no reason given'}."
        )
    else:
        sentence = (
            f"{o.commitment_id} ({o.customer}) got {o.resource} on {_when(o.at)} while "
            f"{_ids(o.earlier)}, ordered earlier, still waited."
        )
    return Finding(
        rule="served_out_of_turn",
        commitments=(o.commitment_id, *o.earlier),
        sentence=sentence,
        approved=o.ahead,
        at=o.at,
        actor=o.actor,
        resource=o.resource,
    )


def pause_finding(p: PauseRecord, received_at: _dt.datetime) -> Finding:
    """The :class:`Finding` of a pause that started soon after the customer's message."""
    gap = int((p.at - received_at).total_seconds() // 60)
    return Finding(
        rule="paused_after_customer",
        commitments=(p.commitment_id,),
        sentence=(
            f"{p.commitment_id} was paused by {p.actor or 'the system'} on {_when(p.at)}, "
            f"{gap} minute{'s' if gap != 1 else ''} after {p.customer} answered."
        ),
        at=p.at,
        actor=p.actor,
    )


def renegotiation_finding(r: Renegotiations, limit: int) -> Finding:
    """The :class:`Finding` of a commitment renegotiated more than ``limit`` times."""
    return Finding(
        rule="renegotiated_often",
        commitments=(r.commitment_id,),
        sentence=(
            f"{r.commitment_id} ({r.customer}) had its deadline renegotiated {r.count} times "
            f"(more than {limit}), last on {_when(r.last_at)}."
        ),
        at=r.last_at,
        count=r.count,
    )


def waiver_findings(records: Iterable[WaiverRecord]) -> list[Finding]:
    """One :class:`Finding` per actor who waived replies, most waivers first, then by actor."""
    by_actor: dict[str | None, list[WaiverRecord]] = {}
    for w in records:
        by_actor.setdefault(w.actor, []).append(w)
    out: list[Finding] = []
    for actor, items in by_actor.items():
        items.sort(key=lambda w: (w.at, w.commitment_id))
        n = len(items)
        out.append(
            Finding(
                rule="waived_replies",
                commitments=tuple(w.commitment_id for w in items),
                sentence=(
                    f"{actor or 'The system'} waived {n} repl{'y' if n == 1 else 'ies'} "
                    f"as needing no answer, last on {_when(items[-1].at)}."
                ),
                at=items[-1].at,
                actor=actor,
                count=n,
            )
        )
    out.sort(key=lambda f: (-f.count, f.actor or ""))
    return out


def pause_gaming(
    pauses: Iterable[PauseRecord],
    received: Mapping[str, Sequence[_dt.datetime]],
    window: _dt.timedelta,
) -> list[Finding]:
    """Findings for the pauses that started within ``window`` after a message of their customer.

    Args:
        pauses: the pauses to judge.
        received: per customer, the instants of their own (non-automated)
            messages.
        window: how soon counts as "right after".
    """
    out: list[Finding] = []
    for p in pauses:
        before = [t for t in received.get(p.customer, ()) if p.at - window <= t <= p.at]
        if before:
            out.append(pause_finding(p, max(before)))
    return out
