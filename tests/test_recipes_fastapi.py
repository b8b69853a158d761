"""The FastAPI recipe (docs/recipes/fastapi_app.py) runs as its page says."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import keepword as kw

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    # newer Starlette suggests another HTTP client for its TestClient; httpx still works
    warnings.filterwarnings("ignore", message=".*starlette.testclient", category=Warning)
    from fastapi.testclient import TestClient

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes"
if str(RECIPES) not in sys.path:
    sys.path.insert(0, str(RECIPES))
recipe: Any = importlib.import_module("fastapi_app")

MONDAY_10 = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)  # Mon 10:00 Stockholm
SHOP = {"X-Tenant": "shop-7"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[kw.SqlStore]:
    store = kw.SqlStore(f"sqlite:///{tmp_path / 'shop.db'}")
    store.create_schema()
    yield store
    store.close()


@pytest.fixture
def clock() -> kw.FrozenClock:
    return kw.FrozenClock(MONDAY_10)


@pytest.fixture
def client(store: kw.SqlStore, clock: kw.FrozenClock) -> Iterator[TestClient]:
    with TestClient(recipe.create_app(store, clock=clock)) as client:
        yield client


def tracker(store: kw.SqlStore, clock: kw.FrozenClock, tenant: str = "shop-7") -> kw.Tracker:
    return kw.Tracker(store, calendar=recipe.CALENDAR, tenant=tenant, clock=clock)


def test_an_order_endpoint_promises_to_ship_in_two_business_days(
    client: TestClient, store: kw.SqlStore, clock: kw.FrozenClock
) -> None:
    answer = client.post(
        "/orders",
        json={"order_id": "1001", "customer": "acct-42", "items": ["fig", "jam"]},
        headers=SHOP,
    )
    assert answer.status_code == 201, answer.text
    ships_by = answer.json()["ships_by"]
    assert ships_by["what"] == "Ship order 1001 (2 items)"
    assert ships_by["status"] == "open"
    assert ships_by["due_at"] == "2026-11-25T16:00:00+00:00"  # Wed 17:00 Stockholm
    stored = tracker(store, clock).get(ships_by["id"])
    assert stored.external_ref == "order:1001"
    assert stored.policy is not None
    assert stored.policy.name == "standard"

    shipped = client.post("/orders/1001/shipped", headers=SHOP)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "kept"
    assert tracker(store, clock).get(ships_by["id"]).status is kw.Status.KEPT


def test_a_webhook_delivered_three_times_makes_one_commitment(
    client: TestClient, store: kw.SqlStore, clock: kw.FrozenClock
) -> None:
    created = {
        "event": "ticket.created",
        "ticket_id": "981",
        "customer": "acct-42",
        "agent": "alice",
        "subject": "Bulk prices?",
    }
    answers = [client.post("/webhooks/helpdesk", json=created, headers=SHOP) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json()["id"] for a in answers}) == 1
    assert tracker(store, clock).count(external_ref="ticket:981") == 1
    assert answers[0].json()["due_at"] == "2026-11-23T13:00:00+00:00"  # Mon 14:00 Stockholm

    clock.advance(hours=1)
    solved = dict(created, event="ticket.solved")
    again = [client.post("/webhooks/helpdesk", json=solved, headers=SHOP) for _ in range(2)]
    assert [a.json()["status"] for a in again] == ["kept", "kept"]
    kept = tracker(store, clock).get(answers[0].json()["id"])
    assert [e.kind for e in kept.history] == ["promised", "kept"]


def test_the_same_ticket_id_with_another_payload_is_a_conflict(client: TestClient) -> None:
    first = {"event": "ticket.created", "ticket_id": "7", "customer": "acct-1", "agent": "alice"}
    assert client.post("/webhooks/helpdesk", json=first, headers=SHOP).status_code == 200
    other = dict(first, agent="bob")
    answer = client.post("/webhooks/helpdesk", json=other, headers=SHOP)
    assert answer.status_code == 409
    assert answer.json()["error"] == "ConflictError"


def test_each_request_is_confined_to_its_tenant(
    client: TestClient, store: kw.SqlStore, clock: kw.FrozenClock
) -> None:
    order = {"order_id": "1", "customer": "acct-42", "items": ["fig"]}
    assert client.post("/orders", json=order, headers=SHOP).status_code == 201
    assert client.post("/orders", json=order, headers={"X-Tenant": "shop-8"}).status_code == 201
    mine = client.get("/customers/acct-42/promises", headers=SHOP).json()
    theirs = client.get("/customers/acct-42/promises", headers={"X-Tenant": "shop-8"}).json()
    assert len(mine) == len(theirs) == 1
    assert mine[0]["id"] != theirs[0]["id"]
    assert tracker(store, clock, "shop-9").count() == 0


def test_keepword_errors_become_http_answers_naming_the_argument(client: TestClient) -> None:
    missing = client.post("/orders/404/shipped", headers=SHOP)
    assert missing.status_code == 404
    assert missing.json()["argument"] == "external_ref"

    bad_tenant = client.get("/customers/acct-42/promises", headers={"X-Tenant": "bad\x00tenant"})
    assert bad_tenant.status_code == 422
    assert bad_tenant.json()["argument"] == "tenant"

    bad_customer = client.post(
        "/orders", json={"order_id": "2", "customer": "", "items": []}, headers=SHOP
    )
    assert bad_customer.status_code == 422
    assert bad_customer.json()["argument"] == "customer"
