"""Touchpoints: every time the business and a customer were in touch.

A :class:`Touchpoint` is one contact, stored append-only per tenant: a message
received, a reply sent (by a person or automatically), a thank-you card, a
follow-up call, an extra-mile gesture, an occasion the host reported.  The
customer-care services read them to decide what is owed (a reply, a
thank-you, a keep-in-touch call) and the scorecard counts them.  No I/O here.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from typing import Any

import attrs

from keepword._instant import to_utc
from keepword._json import FrozenDict, freeze_json
from keepword._validate import identifier as _identifier
from keepword._validate import optional_identifier as _optional_identifier
from keepword.errors import InvalidArgumentError

__all__ = ["TOUCHPOINT_KINDS", "Touchpoint", "pick_order"]

TOUCHPOINT_KINDS = frozenset(
    {
        "received",
        "reply",
        "thank_you",
        "follow_up",
        "extra_mile",
        "occasion",
        "keep_in_touch",
        "contact",
    }
)
"""The kinds keepword itself records; a host may record any other identifier.

- ``"received"``: a message from the customer (``ref`` is the message's id).
- ``"reply"``: a reply to the customer (``automated`` for an auto-reply).
- ``"thank_you"``: a thank-you (a card, a call, lunch, flowers, ...).
- ``"follow_up"``: a follow-up after a sale or an occasion.
- ``"extra_mile"``: a special gesture picked by ``Tracker.extra_mile``.
- ``"occasion"``: an occasion the host reported (``occasion`` names it).
- ``"keep_in_touch"``: a contact made because the customer went quiet too long.
- ``"contact"``: any other contact.
"""


def _at(value: Any) -> _dt.datetime:
    return to_utc(value, "at")


def _data(value: Any) -> FrozenDict:
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"must be a JSON object (a mapping), not {type(value).__name__}", argument="data"
        )
    frozen = freeze_json(value, "data")
    assert isinstance(frozen, FrozenDict)
    return frozen


def _bool(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"must be True or False, not {type(value).__name__}", argument=attribute.name
        )


@attrs.frozen(kw_only=True)
class Touchpoint:
    """One contact between the business and a customer, as it happened.

    Attributes:
        id: the touchpoint's id.
        tenant: whose data it is.
        customer: the customer (the relationship) it belongs to.
        channel: how (``"email"``, ``"phone"``, ``"letter"``, ``"card"``,
            ``"lunch"``, ``"flowers"``, ``"gift"``, ... any identifier).
        kind: what it was (see :data:`TOUCHPOINT_KINDS`; any identifier).
        at: when it happened (aware, kept in UTC).
        occasion: the occasion it marks (``"first_purchase"``, ...), or ``None``.
        actor: who made it (staff id), or ``None`` for the customer or the host.
        automated: an automatic message (an auto-reply, an out-of-office, a
            bounce): recorded, but it answers nothing and owes nothing.
        commitment_id: the commitment it kept or opened, if any.
        ref: the host's id for it (a message id), unique per tenant and
            ``kind``: recording the same ``ref`` again returns the first.
        thread: the conversation it belongs to (messages only), or ``None``.
        counted: whether it counts toward a target (a thank-you sent within
            the playbook's minimum spacing of the last one does not).
        data: anything else, a JSON object.

    >>> import datetime as dt
    >>> t = Touchpoint(id="t1", tenant="shop", customer="acct-42", channel="card",
    ...                kind="thank_you", at=dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC))
    >>> t.counted, t.automated
    (True, False)
    """

    id: str = attrs.field(validator=_identifier)
    tenant: str = attrs.field(validator=_identifier)
    customer: str = attrs.field(validator=_identifier)
    channel: str = attrs.field(validator=_identifier)
    kind: str = attrs.field(validator=_identifier)
    at: _dt.datetime = attrs.field(converter=_at)
    occasion: str | None = attrs.field(default=None, validator=_optional_identifier)
    actor: str | None = attrs.field(default=None, validator=_optional_identifier)
    automated: bool = attrs.field(default=False, validator=_bool)
    commitment_id: str | None = attrs.field(default=None, validator=_optional_identifier)
    ref: str | None = attrs.field(default=None, validator=_optional_identifier)
    thread: str | None = attrs.field(default=None, validator=_optional_identifier)
    counted: bool = attrs.field(default=True, validator=_bool)
    data: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_data, hash=False)


def pick_order(seed: str, customer: str) -> str:
    """The key an extra-mile pick sorts eligible customers by within a round.

    ``md5(seed + ":" + customer)`` in lowercase hex: reproducible from the
    seed (tenant and period) alone, the same in every process and in SQL
    (``md5()`` in PostgreSQL and MariaDB; a registered function in SQLite),
    and unrelated to the customer's name or age.

    >>> pick_order("shop:2026-12", "acct-1") != pick_order("shop:2027-01", "acct-1")
    True
    """
    return hashlib.md5(f"{seed}:{customer}".encode(), usedforsecurity=False).hexdigest()
