"""Calendars, escalation policies and the database, read from a TOML file the host writes.

What ``keepword --config keepword.toml ...`` reads, and what a host may read
itself with :func:`load_config` (the standard library's ``tomllib``; no I/O
beyond reading the file)::

    [database]
    url = "postgresql+psycopg://keepword@db/keepword"   # or --url / KEEPWORD_URL
    table_prefix = "keepword_"                          # optional
    schema = "support"                                  # optional (PostgreSQL)
    tenant = "acme"                                     # optional (--tenant / KEEPWORD_TENANT)

    default_calendar = "new-york"          # optional: the first calendar otherwise

    [calendars.new-york]
    tz = "America/New_York"                # required: an IANA zone
    hours = "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    country = "US"                         # public holidays (the holidays package)
    subdivision = "NY"                     # optional ("subdiv" is accepted too)
    holidays = { 2026-12-24 = "Christmas Eve" }   # or a list of dates
    closures = [2026-12-31, [2027-01-02, 2027-01-03]]
    special_hours = { 2026-11-27 = "09:00-13:00" }

    [customers]                            # optional, per customer
    tiers = { acct-1 = "gold" }            # the tier policies match on
    calendars = { acct-2 = "new-york" }    # the calendar a customer's promises run on

    [[policies]]                           # tried in order: the first that fits wins
    name = "replies"
    kinds = ["reply"]                      # match: kinds, tags, tiers, min_priority
    tiers = ["gold"]

    [[policies.steps]]
    before_due = "business_hours=1"        # exactly one trigger: before_due, at_due,
    notify = "owner"                       # after_due, elapsed (a fraction of the window)
    quiet = true

    [[policies.steps]]
    after_due = "business_hours=4"
    notify = "support-lead"                # the target
    action = "reassign"                    # notify | reassign | raise_priority
    every = "business_hours=4"
    times = 2
    name = "stale-reply"

Offsets are written as :meth:`keepword.Within.parse` reads them
(``"hours=2"``, ``"business_hours=4"``, ``"minutes=30"``); ``at_due = true``;
``elapsed = 0.5`` with ``business = true`` for business time.

Anything wrong raises :class:`ConfigError` naming the key path
(``calendars.new-york.hours``, ``policies[0].steps[1].after_due``) and what
to write instead.

>>> config = parse_config('''
... [calendars.main]
... tz = "Europe/Stockholm"
... [[policies]]
... name = "default"
... [[policies.steps]]
... at_due = true
... notify = "manager"
... ''')
>>> config.calendar.tz, [p.name for p in config.policies.policies]
('Europe/Stockholm', ['default'])
>>> parse_config('[calendars.main]\\ntz = "Mars/Olympus"')
Traceback (most recent call last):
...
keepword.config.ConfigError: calendars.main.tz: ...
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from keepword.calendar import BusinessCalendar, Within
from keepword.errors import InvalidArgumentError, KeepwordError
from keepword.escalation import (
    EscalationPolicy,
    PolicySet,
    Step,
    Trigger,
    at_due,
    elapsed,
)

if TYPE_CHECKING:
    from keepword.clock import Clock
    from keepword.ports import CommitmentRepository
    from keepword.tracker import Tracker

__all__ = ["DEFAULT_CALENDAR", "Config", "ConfigError", "load_config", "parse_config"]

DEFAULT_CALENDAR = BusinessCalendar(tz="UTC")
"""The calendar when a config names none: UTC, Monday to Friday 09:00-17:00."""

_TOP = frozenset({"database", "default_calendar", "calendars", "customers", "policies"})
_DATABASE = frozenset({"url", "table_prefix", "schema", "tenant"})
_CALENDAR = frozenset(
    {"tz", "hours", "country", "subdivision", "subdiv", "holidays", "closures", "special_hours"}
)
_CUSTOMERS = frozenset({"tiers", "calendars"})
_POLICY = frozenset({"name", "kinds", "tags", "tiers", "min_priority", "steps"})
_TRIGGERS = ("before_due", "at_due", "after_due", "elapsed")
_STEP = frozenset({*_TRIGGERS, "business", "notify", "action", "every", "times", "quiet", "name"})


class ConfigError(InvalidArgumentError):
    """A config file is unreadable or holds something wrong; ``argument`` is the key path."""


@attrs.frozen
class Config:
    """What a config file resolved to.

    Attributes:
        calendars: the calendars by name, in file order.
        default_calendar: the name of the default calendar (``""`` when the
            file has none: :data:`DEFAULT_CALENDAR` is used).
        policies: the escalation policies, or ``None`` when the file has none.
        tiers: ``customer -> tier`` for policy matching.
        customer_calendars: ``customer -> calendar name``.
        url: the database URL, or ``None``.
        table_prefix: the tables' prefix.
        schema: the database schema, or ``None``.
        tenant: the tenant, or ``None``.
        path: the file read, or ``None``.
    """

    calendars: Mapping[str, BusinessCalendar] = attrs.field(factory=dict, hash=False)
    default_calendar: str = ""
    policies: PolicySet | None = None
    tiers: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    customer_calendars: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    url: str | None = None
    table_prefix: str = "keepword_"
    schema: str | None = None
    tenant: str | None = None
    path: Path | None = None

    @property
    def calendar(self) -> BusinessCalendar:
        """The default calendar (:data:`DEFAULT_CALENDAR` when the file names none)."""
        return self.calendars.get(self.default_calendar, DEFAULT_CALENDAR)

    def calendar_for(self, customer: str) -> BusinessCalendar | None:
        """The calendar ``customer``'s promises run on, or ``None`` for the default."""
        name = self.customer_calendars.get(customer)
        return None if name is None else self.calendars[name]

    def tier_for(self, customer: str) -> str | None:
        """``customer``'s tier, or ``None``."""
        return self.tiers.get(customer)

    def tracker(
        self, store: CommitmentRepository, tenant: str | None = None, *, clock: Clock | None = None
    ) -> Tracker:
        """A :class:`~keepword.Tracker` over ``store`` with this config's calendars and policies.

        Args:
            store: the store.
            tenant: the tenant (default: the file's, else ``"default"``).
            clock: the clock (default: the system clock).
        """
        from keepword.tracker import Tracker

        calendar_for: Callable[[str], BusinessCalendar | None] | None = (
            self.calendar_for if self.customer_calendars else None
        )
        tier_for: Callable[[str], str | None] | None = self.tier_for if self.tiers else None
        return Tracker(
            store,
            calendar=self.calendar,
            tenant=tenant or self.tenant or "default",
            clock=clock,
            calendar_for=calendar_for,
            policies=self.policies,
            tier_for=tier_for,
        )


def load_config(path: str | Path) -> Config:
    """Read and check a TOML config file (see the module docstring for its schema).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or holds something
            wrong (``argument`` is the key path).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            f"cannot read {file}: {reason}",
            argument="config",
            fix="pass the path of a readable UTF-8 TOML file",
        ) from None
    return parse_config(text, path=file)


def parse_config(text: str, *, path: Path | None = None) -> Config:
    """Check a config given as TOML text (see :func:`load_config`).

    Raises:
        ConfigError: the text is not TOML or holds something wrong.
    """
    where = str(path) if path is not None else "the config"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not TOML: {exc}", argument="config") from None
    _known(data, _TOP, "")
    database = _table(data.get("database", {}), "database")
    _known(database, _DATABASE, "database")
    calendars = _calendars(data.get("calendars", {}))
    default = data.get("default_calendar")
    if default is None:
        default = next(iter(calendars), "")
    elif not isinstance(default, str) or default not in calendars:
        raise ConfigError(
            f"names no calendar in [calendars] ({default!r})",
            argument="default_calendar",
            fix=f"use one of {', '.join(calendars) or '(define a [calendars.NAME] table)'}",
        )
    customers = _table(data.get("customers", {}), "customers")
    _known(customers, _CUSTOMERS, "customers")
    tiers = _strings(customers.get("tiers", {}), "customers.tiers")
    chosen = _strings(customers.get("calendars", {}), "customers.calendars")
    for customer, name in chosen.items():
        if name not in calendars:
            raise ConfigError(
                f"names no calendar in [calendars] ({name!r})",
                argument=f"customers.calendars.{customer}",
                fix=f"use one of {', '.join(calendars) or '(define a [calendars.NAME] table)'}",
            )
    return Config(
        calendars=calendars,
        default_calendar=default,
        policies=_policies(data.get("policies")),
        tiers=tiers,
        customer_calendars=chosen,
        url=_optional_str(database, "url", "database"),
        table_prefix=_optional_str(database, "table_prefix", "database") or "keepword_",
        schema=_optional_str(database, "schema", "database"),
        tenant=_optional_str(database, "tenant", "database"),
        path=path,
    )


# --------------------------------------------------------------------------- checks


def _known(table: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    for key in table:
        if key not in keys:
            path = f"{where}.{key}" if where else key
            raise ConfigError(
                "is not a key keepword reads here",
                argument=path,
                fix=f"use one of {', '.join(sorted(keys))}",
            )


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"must be a table, not {_kind(value)}", argument=where)
    return value


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), type(value).__name__)


def _optional_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"must be a string, not {_kind(value)}", argument=f"{where}.{key}")
    return value


def _strings(value: Any, where: str) -> dict[str, str]:
    table = _table(value, where)
    for key, item in table.items():
        if not isinstance(item, str):
            raise ConfigError(f"must be a string, not {_kind(item)}", argument=f"{where}.{key}")
    return dict(table)


def _wrap(where: str, build: Callable[[], Any], fields: Mapping[str, str] | None = None) -> Any:
    """Run ``build``; re-raise a keepword error under the key path it concerns."""
    try:
        return build()
    except ConfigError:
        raise
    except KeepwordError as exc:
        key = (fields or {}).get(exc.argument or "", exc.argument)
        path = f"{where}.{key}" if key else where
        raise ConfigError(exc.message, argument=path, fix=exc.fix) from None


def _calendars(value: Any) -> dict[str, BusinessCalendar]:
    out: dict[str, BusinessCalendar] = {}
    for name, raw in _table(value, "calendars").items():
        where = f"calendars.{name}"
        table = _table(raw, where)
        _known(table, _CALENDAR, where)
        if "tz" not in table:
            raise ConfigError(
                "is missing", argument=f"{where}.tz", fix='add tz = "Area/City" (an IANA zone)'
            )
        if "subdivision" in table and "subdiv" in table:
            raise ConfigError("give subdivision or subdiv, not both", argument=where)
        args = {k: _dates(v) for k, v in table.items() if k != "subdivision"}
        if "subdivision" in table:
            args["subdiv"] = table["subdivision"]
        names = {"subdiv": "subdivision" if "subdivision" in table else "subdiv"}
        out[name] = _wrap(where, lambda args=args: BusinessCalendar(**args), names)  # type: ignore[misc]
    return out


def _dates(value: Any) -> Any:
    """TOML dates come as ``date``; keys of inline tables as text: make both dates."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            try:
                out[_dt.date.fromisoformat(key)] = item
            except ValueError:
                out[key] = item
        return out
    if isinstance(value, list):
        return [tuple(_dates(v)) if isinstance(v, list) else v for v in value]
    return value


def _policies(value: Any) -> PolicySet | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ConfigError(
            f"must be an array of tables, not {_kind(value)}",
            argument="policies",
            fix="write each policy as a [[policies]] table",
        )
    built = []
    for i, raw in enumerate(value):
        where = f"policies[{i}]"
        table = _table(raw, where)
        _known(table, _POLICY, where)
        if not isinstance(table.get("name"), str):
            raise ConfigError("is missing or not a string", argument=f"{where}.name")
        steps_raw = table.get("steps", [])
        if not isinstance(steps_raw, list):
            raise ConfigError(
                f"must be an array of tables, not {_kind(steps_raw)}",
                argument=f"{where}.steps",
                fix="write each step as a [[policies.steps]] table",
            )
        steps = [_step(s, f"{where}.steps[{j}]") for j, s in enumerate(steps_raw)]
        match = {k: table[k] for k in ("kinds", "tags", "tiers", "min_priority") if k in table}
        built.append(
            _wrap(
                where,
                lambda t=table, s=steps, m=match: EscalationPolicy(t["name"], steps=s, match=m),  # type: ignore[misc]
            )
        )
    return _wrap("policies", lambda: PolicySet(built), {"policies": ""}) if built else None


def _step(raw: Any, where: str) -> Step:
    table = _table(raw, where)
    _known(table, _STEP, where)
    given = [k for k in _TRIGGERS if k in table]
    if len(given) != 1:
        raise ConfigError(
            f"needs exactly one trigger, found {len(given)}",
            argument=where,
            fix='add one of before_due = "hours=2", at_due = true, '
            'after_due = "business_hours=4", elapsed = 0.5',
        )
    trigger = _trigger(given[0], table[given[0]], table.get("business", False), where)
    if "business" in table and given[0] != "elapsed":
        raise ConfigError("applies to elapsed steps only", argument=f"{where}.business")
    args: dict[str, Any] = {
        k: table[k] for k in ("notify", "action", "times", "quiet", "name") if k in table
    }
    if "every" in table:
        args["every"] = _wrap(f"{where}.every", lambda: _offset(table["every"]), {"spec": ""})
    return _wrap(where, lambda: Step(trigger, **args))  # type: ignore[no-any-return]


def _offset(value: Any) -> Within:
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"must be a string such as 'business_hours=4', not {_kind(value)}", argument="spec"
        )
    return Within.parse(value)


def _trigger(kind: str, value: Any, business: Any, where: str) -> Trigger:
    path = f"{where}.{kind}"
    if kind == "at_due":
        if value is not True:
            raise ConfigError("must be true", argument=path)
        return at_due()
    if kind == "elapsed":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(
                f"must be a fraction of the window, not {_kind(value)}",
                argument=path,
                fix="write e.g. elapsed = 0.5",
            )
        if not isinstance(business, bool):
            raise ConfigError(
                f"must be a boolean, not {_kind(business)}", argument=f"{where}.business"
            )
        return _wrap(path, lambda: elapsed(float(value), business=business), {"fraction": ""})  # type: ignore[no-any-return]
    offset = _wrap(path, lambda: _offset(value), {"spec": "", "unit": "", "amount": ""})
    return _wrap(path, lambda: Trigger(kind, offset), {"offset": "", "business_days": ""})  # type: ignore[no-any-return]
