"""One use case a module, each a few functions over a :class:`Context`.

- :mod:`~keepword.services.promising`: make commitments, once per external reference.
- :mod:`~keepword.services.keeping`: change a stored commitment (keep, pause, ...).
- :mod:`~keepword.services.finding`: look commitments up.
- :mod:`~keepword.services.ticking`: fire due escalation steps into the outbox.
- :mod:`~keepword.services.delivering`: hand fired notices to the host.

The :class:`~keepword.Tracker` holds one :class:`Context` and delegates to
these; hosts normally call the tracker.
"""

from keepword.services._context import CommitmentOrId, Context

__all__ = ["CommitmentOrId", "Context"]
