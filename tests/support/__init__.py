"""Helpers shared by the test suite and the benchmarks, imported as ``tests.support``.

- :mod:`tests.support.backends`: the stores the tests run on (memory, SQLite,
  PostgreSQL, MariaDB), their URLs, fresh table prefixes, the leak check;
- :mod:`tests.support.builders`: commitments built from the domain's values;
- :mod:`tests.support.race_workers`: small process entry points for the SQL races;
- :mod:`tests.support.tick_workers` (with :mod:`tests.support.tick_hooks`): the
  tick and outbox workers, the fleet that runs them, and the checks of what they wrote.

Everything is imported by its full name from the repository root, with no
``sys.path`` edit: pytest puts the root on the path (``pythonpath = ["."]`` in
``pyproject.toml``), and the benchmarks run from the root as modules
(``python -m benchmarks.tick``).  Processes started with ``spawn`` inherit
that path, so they import the entry points here by the same names.
"""
