"""keepword: keep your word.

Track the promises a business makes to its customers, compute their deadlines
on real business calendars, escalate before one is broken, and measure how
well the business keeps its word.  Nothing happens at import time.
"""

from __future__ import annotations

from keepword.calendar import BusinessCalendar, Within, within
from keepword.clock import Clock, FrozenClock, SystemClock
from keepword.commitment import Commitment, Event, Status
from keepword.errors import (
    CalendarError,
    ConflictError,
    InvalidArgumentError,
    InvalidTransitionError,
    KeepwordError,
    MissingPortError,
    NaiveDatetimeError,
    NotFoundError,
    SchemaError,
    StoreError,
)
from keepword.escalation import (
    EscalationPolicy,
    Match,
    PolicySet,
    Step,
    after_due,
    at_due,
    before_due,
    elapsed,
)
from keepword.fairness import FairnessReport, Finding, WaitingEntry
from keepword.notice import Notice
from keepword.playbook import DEFAULT_PLAYBOOK, CareRule, Playbook
from keepword.ports import (
    CommitmentRepository,
    Outbox,
    Query,
    Store,
    TickQueue,
    TouchpointLog,
    Waitlist,
)
from keepword.scorecard import Scorecard, ScoreRow, ServiceLevel
from keepword.services.ticking_all import Ticker
from keepword.stores.memory import MemoryStore
from keepword.stores.sql import SqlStore
from keepword.telling import CustomerStatus, PromiseStatus, add_locale_dir
from keepword.touchpoint import Touchpoint
from keepword.tracker import Tracker

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_PLAYBOOK",
    "BusinessCalendar",
    "CalendarError",
    "CareRule",
    "Clock",
    "Commitment",
    "CommitmentRepository",
    "ConflictError",
    "CustomerStatus",
    "EscalationPolicy",
    "Event",
    "FairnessReport",
    "Finding",
    "FrozenClock",
    "InvalidArgumentError",
    "InvalidTransitionError",
    "KeepwordError",
    "Match",
    "MemoryStore",
    "MissingPortError",
    "NaiveDatetimeError",
    "NotFoundError",
    "Notice",
    "Outbox",
    "Playbook",
    "PolicySet",
    "PromiseStatus",
    "Query",
    "SchemaError",
    "ScoreRow",
    "Scorecard",
    "ServiceLevel",
    "SqlStore",
    "Status",
    "Step",
    "Store",
    "StoreError",
    "SystemClock",
    "TickQueue",
    "Ticker",
    "Touchpoint",
    "TouchpointLog",
    "Tracker",
    "WaitingEntry",
    "Waitlist",
    "Within",
    "__version__",
    "add_locale_dir",
    "after_due",
    "at_due",
    "before_due",
    "elapsed",
    "within",
]
