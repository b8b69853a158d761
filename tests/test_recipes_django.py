"""The Django recipe (docs/recipes/django_keepword/) runs as its page says.

A minimal project is configured here: SQLite, the recipe's app, a frozen clock.
Django's settings are configured once per process, so every test of this module
shares one project (its database in a temporary directory).
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import keepword as kw
from keepword.stores.sql import migrate

django = pytest.importorskip("django")
from django import conf as django_conf  # noqa: E402
from django.core.management import call_command  # noqa: E402

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes"
if str(RECIPES) not in sys.path:
    sys.path.insert(0, str(RECIPES))
recipe_settings: Any = importlib.import_module("django_settings")

MONDAY_9 = dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC)  # Mon 09:00 New York


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    settings = django_conf.settings
    if settings.configured:
        pytest.skip("Django settings were configured elsewhere in this process")
    db = tmp_path_factory.mktemp("django") / "db.sqlite3"
    clock = kw.FrozenClock(MONDAY_9)
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)},
            # never connected to: only its URL is computed
            "reports": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "shop",
                "USER": "kw",
                "PASSWORD": "s3cret",
                "HOST": "db.internal",
                "PORT": "5433",
            },
        },
        INSTALLED_APPS=recipe_settings.INSTALLED_APPS,
        ROOT_URLCONF="django_keepword.urls",
        USE_TZ=True,
        KEEPWORD=recipe_settings.KEEPWORD | {"CLOCK": clock},
    )
    django.setup()
    call_command("migrate", verbosity=0)
    tracking: Any = importlib.import_module("django_keepword.tracking")
    return SimpleNamespace(db=db, clock=clock, tracking=tracking)


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def tick(*args: str) -> str:
    out = io.StringIO()
    call_command("keepword_tick", *args, stdout=out)
    return out.getvalue()


def test_manage_py_migrate_creates_keepwords_tables_in_the_projects_database(
    project: SimpleNamespace,
) -> None:
    names = tables(project.db)
    assert {"keepword_commitments", "keepword_events", "keepword_notices"} <= names
    assert "django_migrations" in names
    url = project.tracking.database_url()
    assert migrate.current(url) is not None
    with sqlite3.connect(project.db) as conn:
        applied = conn.execute(
            "SELECT name FROM django_migrations WHERE app = 'django_keepword'"
        ).fetchall()
    assert applied == [("0001_keepword_tables",)]


def test_the_database_url_comes_from_django_settings(project: SimpleNamespace) -> None:
    default = project.tracking.database_url()
    assert default.drivername == "sqlite"
    assert default.database == str(project.db)
    reports = project.tracking.database_url("reports")
    assert reports.render_as_string(hide_password=True) == (
        "postgresql+psycopg://kw:***@db.internal:5433/shop"
    )
    assert reports.password == "s3cret"


def test_the_tick_command_fires_due_steps_once(project: SimpleNamespace) -> None:
    tracker = project.tracking.tracker()
    assert tracker.tenant == "shop-7"
    c = tracker.promise(
        customer="acct-42",
        owner="alice",
        kind="reply",
        what="Send the quote",
        due=kw.within(business_hours=4),  # Mon 13:00 New York
    )
    assert tick().splitlines() == [
        "shop-7: fired 0 notices, recorded 0 breaches",
        "next tick due: 2026-11-23T16:00:00+00:00",
    ]
    project.clock.set(dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC))  # Mon 11:00: the reminder
    assert tick().splitlines()[0] == "shop-7: fired 1 notices, recorded 0 breaches"
    assert tick().splitlines()[0] == "shop-7: fired 0 notices, recorded 0 breaches"
    project.clock.set(dt.datetime(2026, 11, 23, 19, tzinfo=dt.UTC))  # Mon 14:00: past due
    assert tick("--tenant", "shop-7").splitlines() == [
        "shop-7: fired 1 notices, recorded 1 breaches",
        "next tick due: nothing scheduled",
    ]
    pending = tracker.pending_notices()
    assert [(n.recipient, n.commitment_id) for n in pending] == [
        ("owner", c.id),
        ("manager", c.id),
    ]
    # another tenant's tick sees none of it
    assert (
        tick("--tenant", "shop-8").splitlines()[0] == "shop-8: fired 0 notices, recorded 0 breaches"
    )


def test_the_tick_command_drains_more_than_one_batch(project: SimpleNamespace) -> None:
    tracker = project.tracking.tracker("batches")
    due = project.clock.now() + dt.timedelta(hours=1)
    tracker.promise_many(
        {"customer": f"acct-{i}", "owner": "bob", "kind": "reply", "what": "Reply", "due": due}
        for i in range(5)
    )
    project.clock.advance(hours=2)
    out = tick("--tenant", "batches", "--limit", "2").splitlines()
    # each promise's reminder (already due when it was made) and its at_due notice
    assert sum(int(line.split()[2]) for line in out[:-1]) == 10
    assert len(out) - 1 >= 3  # at least three batches of at most two commitments
    assert tracker.count(statuses=["open"]) == 5


def test_the_migration_reverses(project: SimpleNamespace) -> None:
    call_command("migrate", "django_keepword", "zero", verbosity=0)
    # Alembic keeps its (now empty) version table; keepword's own tables are gone
    assert {n for n in tables(project.db) if n.startswith("keepword_")} == {
        "keepword_alembic_version"
    }
    assert migrate.current(project.tracking.database_url()) is None
    call_command("migrate", verbosity=0)
    assert "keepword_commitments" in tables(project.db)


def test_a_helpdesk_webhook_view_retried_three_times_makes_one_promise(
    project: SimpleNamespace,
) -> None:
    from django.test import Client

    client = Client()
    event = {"ticket_id": "981", "customer": "acct-42", "agent": "alice", "subject": "Prices?"}
    answers = [
        client.post("/webhooks/helpdesk", event, content_type="application/json") for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json()["id"] for a in answers}) == 1
    tracker = project.tracking.tracker()
    assert tracker.count(external_ref="ticket:981") == 1
    assert tracker.get(answers[0].json()["id"]).what == "Answer: Prices?"

    other = client.post(
        "/webhooks/helpdesk", dict(event, agent="bob"), content_type="application/json"
    )
    assert other.status_code == 409
    bad = client.post(
        "/webhooks/helpdesk", dict(event, ticket_id="982", customer=""),
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["argument"] == "customer"
