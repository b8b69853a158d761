"""keepword's benchmarks and stress scripts, run from the repository root as modules.

``python -m benchmarks.calendar``, ``python -m benchmarks.store``,
``python -m benchmarks.tick``, ``python -m benchmarks.stress_store`` and
``python -m benchmarks.stress_tick`` (see ``benchmarks/README.md``).  Run so,
the root is on the import path: the scripts import the shared workers as
``tests.support``, and ``benchmarks/calendar.py`` shadows nothing.
"""
