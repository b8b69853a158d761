"""The delivering recipe (docs/recipes/delivery.py): a real local SMTP server, a mock webhook.

Each notice goes out once per channel, however often the outbox hands it over.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import importlib
import json
import socket
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

import keepword as kw

pytest.importorskip("aiosmtpd")
httpx = pytest.importorskip("httpx")

from aiosmtpd.controller import Controller  # noqa: E402

RECIPES = Path(__file__).resolve().parents[1] / "docs" / "recipes"
if str(RECIPES) not in sys.path:
    sys.path.insert(0, str(RECIPES))
recipe: Any = importlib.import_module("delivery")

CAL = kw.BusinessCalendar(tz="America/New_York", hours="Mon-Fri 09:00-17:00", country="US")
MONDAY_9 = dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC)  # Mon 09:00 New York
LADDER = kw.EscalationPolicy(
    "standard",
    steps=[
        kw.Step(kw.before_due(business_hours=2), notify="owner"),
        kw.Step(kw.at_due(), notify="manager"),
    ],
)
ADDRESSES = {"alice": "alice@shop.example", "manager": "floor-manager@shop.example"}
HOOK = "https://hooks.example/keepword"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class Receiver:
    """A webhook endpoint (an httpx mock transport) that fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            self.failures -= 1
            return httpx.Response(503)
        self.received.append(request)
        return httpx.Response(204)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.received]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def clock() -> kw.FrozenClock:
    return kw.FrozenClock(MONDAY_9)


@pytest.fixture
def tracker(clock: kw.FrozenClock, tmp_path: Path) -> Iterator[kw.Tracker]:
    store = kw.SqlStore(f"sqlite:///{tmp_path / 'keepword.db'}")
    store.create_schema()
    yield kw.Tracker(store, calendar=CAL, tenant="shop-7", clock=clock, policies=LADDER)
    store.close()


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Any]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'host.db'}")
    yield recipe.DeliveryLog(engine)
    engine.dispose()


def two_notices(tracker: kw.Tracker, clock: kw.FrozenClock) -> list[kw.Notice]:
    """A promise due Mon 13:00: the owner's reminder at 11:00, the manager's at 13:00."""
    tracker.promise(
        customer="acct-42", owner="alice", kind="reply", what="Send the quote",
        due=kw.within(business_hours=4),
    )  # fmt: skip
    tracker.tick(clock.set(dt.datetime(2026, 11, 23, 16, tzinfo=dt.UTC)))
    tracker.tick(clock.set(dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC)))
    notices = tracker.pending_notices()
    assert [n.recipient for n in notices] == ["owner", "manager"]
    return notices


def mailer(log: Any, port: int) -> Any:
    return recipe.Mailer(
        log, host="127.0.0.1", port=port, sender="keepword@shop.example", addresses=ADDRESSES
    )


def webhook(log: Any, receiver: Receiver) -> Any:
    client = httpx.Client(transport=httpx.MockTransport(receiver))
    return recipe.Webhook(log, client, HOOK)


def test_drain_delivers_every_notice_by_mail_and_by_webhook(
    tracker: kw.Tracker, clock: kw.FrozenClock, inbox: tuple[Inbox, int], log: Any
) -> None:
    notices = two_notices(tracker, clock)
    received, port = inbox
    receiver = Receiver()
    assert recipe.drain(tracker, mailer(log, port), webhook(log, receiver)) == 2
    assert tracker.pending_notices() == []

    assert [(m["To"], m["Subject"]) for m in received.messages] == [
        ("alice@shop.example", "Send the quote (for acct-42)"),
        ("floor-manager@shop.example", "OVERDUE: Send the quote (for acct-42)"),
    ]
    assert len({m["Message-ID"] for m in received.messages}) == 2
    assert "Due: 2026-11-23 18:00 UTC" in received.messages[0].get_content()

    assert [r.url for r in receiver.received] == [httpx.URL(HOOK)] * 2
    assert [r.headers["Idempotency-Key"] for r in receiver.received] == [
        f"shop-7:{n.idempotency_key}" for n in notices
    ]
    assert [(p["recipient"], p["breach"]) for p in receiver.payloads()] == [
        ("owner", False),
        ("manager", True),
    ]


def test_delivering_the_same_notice_twice_sends_it_once(
    tracker: kw.Tracker, clock: kw.FrozenClock, inbox: tuple[Inbox, int], log: Any
) -> None:
    notice = two_notices(tracker, clock)[0]
    received, port = inbox
    receiver = Receiver()
    send_mail, call_hook = mailer(log, port), webhook(log, receiver)
    for _ in range(2):
        send_mail(notice)
        call_hook(notice)
    assert len(received.messages) == 1
    assert len(receiver.received) == 1
    # the Message-ID is the notice's: the same notice built again gets the same one
    assert send_mail.message(notice)["Message-ID"] == received.messages[0]["Message-ID"].strip()


def test_a_deliverer_that_dies_before_acknowledging_sends_nothing_twice(
    tracker: kw.Tracker, clock: kw.FrozenClock, inbox: tuple[Inbox, int], log: Any
) -> None:
    two_notices(tracker, clock)
    received, port = inbox
    send_mail = mailer(log, port)
    token, claimed = tracker.claim_notices()
    for notice in claimed:
        send_mail(notice)
    # it dies here, unacknowledged: its claim lapses and the notices are pending again
    tracker.release_notices([n.id for n in claimed], token)
    assert len(tracker.pending_notices()) == 2

    assert recipe.drain(tracker, send_mail) == 2
    assert len(received.messages) == 2
    assert tracker.pending_notices() == []


def test_a_failing_webhook_leaves_the_notice_for_a_later_drain(
    tracker: kw.Tracker, clock: kw.FrozenClock, inbox: tuple[Inbox, int], log: Any
) -> None:
    two_notices(tracker, clock)
    received, port = inbox
    receiver = Receiver(failures=1)
    send_mail, call_hook = mailer(log, port), webhook(log, receiver)

    assert recipe.drain(tracker, send_mail, call_hook) == 1  # the first notice's hook failed
    assert len(tracker.pending_notices()) == 1
    assert recipe.drain(tracker, send_mail, call_hook) == 1
    assert tracker.pending_notices() == []
    # every notice once on each channel; the mail was not sent again with the retried hook
    assert len(received.messages) == 2
    assert sorted(p["recipient"] for p in receiver.payloads()) == ["manager", "owner"]


def test_an_unreachable_mail_server_leaves_every_notice_pending(
    tracker: kw.Tracker, clock: kw.FrozenClock, log: Any
) -> None:
    two_notices(tracker, clock)
    assert recipe.drain(tracker, mailer(log, free_port())) == 0
    assert len(tracker.pending_notices()) == 2


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_deliver_pending_by_a_real_mail_server_and_a_real_http_endpoint(
    tracker: kw.Tracker, clock: kw.FrozenClock, inbox: tuple[Inbox, int], log: Any
) -> None:
    notices = two_notices(tracker, clock)
    received, port = inbox
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/keepword"
        delivered = recipe.deliver_pending(tracker, log, smtp=f"127.0.0.1:{port}", webhook_url=url)
        again = recipe.deliver_pending(tracker, log, smtp=f"127.0.0.1:{port}", webhook_url=url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert (delivered, again) == (2, 0)
    assert [m["To"] for m in received.messages] == [
        "alice@shop.example",
        "floor-manager@shop.example",
    ]
    assert [key for key, _ in _Hook.received] == [f"shop-7:{n.idempotency_key}" for n in notices]
    assert [body["what"] for _, body in _Hook.received] == ["Send the quote"] * 2
