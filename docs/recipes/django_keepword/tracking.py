"""One keepword store per process, on the Django project's own database."""

from __future__ import annotations

import functools
from typing import Any

import django.conf
import sqlalchemy as sa
from django.db import connections

import keepword as kw

# --8<-- [start:url]
# Django's database backends and the SQLAlchemy drivers keepword runs on.
DRIVERS = {
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.postgresql": "postgresql+psycopg",
    "django.db.backends.mysql": "mysql+pymysql",
}


def database_url(alias: str = "default") -> sa.URL:
    """The SQLAlchemy URL of one of the project's databases (``settings.DATABASES``)."""
    db: dict[str, Any] = connections[alias].settings_dict
    try:
        driver = DRIVERS[db["ENGINE"]]
    except KeyError:
        raise kw.InvalidArgumentError(
            f"keepword does not run on {db['ENGINE']}", argument=f"DATABASES[{alias!r}]"
        ) from None
    return sa.URL.create(
        driver,
        username=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=int(db["PORT"]) if db.get("PORT") else None,
        database=str(db["NAME"]),
    )


# --8<-- [end:url]


# --8<-- [start:tracker]
def config() -> dict[str, Any]:
    """``settings.KEEPWORD``: the database alias, table prefix, tenant, calendar and policies.

    ``CLOCK`` is for tests: a ``keepword.FrozenClock`` (default: the system clock).
    """
    defaults: dict[str, Any] = {
        "DATABASE": "default",
        "TABLE_PREFIX": "keepword_",
        "TENANT": "default",
        "CALENDAR": {"tz": "UTC", "hours": "Mon-Fri 09:00-17:00"},
        "POLICIES": [],
        "CLOCK": None,
    }
    return defaults | getattr(django.conf.settings, "KEEPWORD", {})


@functools.cache
def store() -> kw.SqlStore:
    """The process's store: one connection pool, shared by every request and command."""
    conf = config()
    return kw.SqlStore(database_url(conf["DATABASE"]), table_prefix=conf["TABLE_PREFIX"])


def tracker(tenant: str | None = None) -> kw.Tracker:
    """A tracker on the project's database, for ``tenant`` (default ``settings.KEEPWORD``'s)."""
    conf = config()
    return kw.Tracker(
        store(),
        calendar=kw.BusinessCalendar(**conf["CALENDAR"]),
        tenant=tenant or conf["TENANT"],
        clock=conf["CLOCK"],
        policies=conf["POLICIES"],
    )


# --8<-- [end:tracker]
