"""Public Hypothesis strategies for testing code built on keepword.

Every strategy builds valid values by construction.

Time (:mod:`keepword.testing._time_strategies`):
``zones``, ``aware_datetimes``, ``dst_transitions``, ``weekly_hours``,
``calendar_kwargs``, ``calendars``, ``within_specs`` and the ``ODD_ZONES`` tuple.

Commitments (:mod:`keepword.testing._commitment_strategies`): ``commitments``,
``operations`` (with ``perform`` and ``Operation``), ``identifiers``, ``texts``,
``json_objects`` and the ``HOSTILE_STRINGS`` tuple.

Hostile values (:mod:`keepword.testing._hostile`), to probe a store the way
keepword's own stores are probed: what keepword accepts but a store finds
hard (``hostile_texts``, ``hostile_identifiers``, ``deep_terms``,
``boundary_ints``, ``boundary_priorities``, and ``boundary_datetimes`` from
the time strategies) and what keepword must refuse (``invalid_texts``,
``invalid_identifiers``).  ``commitments()`` draws the accepted ones too,
unless given ``hostile=False``.

>>> from hypothesis import given, settings
>>> from keepword import KeepwordError
>>> from keepword.testing.strategies import aware_datetimes, calendars, within_specs
>>> @settings(max_examples=10)
... @given(calendars(), aware_datetimes(), within_specs())
... def deadlines_are_aware(cal, start, spec):
...     try:
...         due = cal.resolve(start, spec)
...     except KeepwordError:
...         return
...     assert due.utcoffset() is not None
>>> deadlines_are_aware()
"""

from __future__ import annotations

from keepword.testing._commitment_strategies import (
    HOSTILE_STRINGS,
    LEGAL,
    Operation,
    commitments,
    identifiers,
    json_objects,
    operations,
    perform,
    texts,
)
from keepword.testing._hostile import (
    boundary_ints,
    boundary_priorities,
    deep_terms,
    hostile_identifiers,
    hostile_texts,
    invalid_identifiers,
    invalid_texts,
)
from keepword.testing._time_strategies import (
    ODD_ZONES,
    aware_datetimes,
    boundary_datetimes,
    calendar_kwargs,
    calendars,
    dst_transitions,
    weekly_hours,
    within_specs,
    zones,
)

__all__ = [
    "HOSTILE_STRINGS",
    "LEGAL",
    "ODD_ZONES",
    "Operation",
    "aware_datetimes",
    "boundary_datetimes",
    "boundary_ints",
    "boundary_priorities",
    "calendar_kwargs",
    "calendars",
    "commitments",
    "deep_terms",
    "dst_transitions",
    "hostile_identifiers",
    "hostile_texts",
    "identifiers",
    "invalid_identifiers",
    "invalid_texts",
    "json_objects",
    "operations",
    "perform",
    "texts",
    "weekly_hours",
    "within_specs",
    "zones",
]
