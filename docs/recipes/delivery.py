"""Delivering keepword's notices by mail (SMTP) and by webhook, once per idempotency key.

The docs page docs/recipes/delivering.md shows this file;
tests/test_recipes_delivering.py runs it against a local SMTP server and a
local webhook receiver.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

import httpx
import sqlalchemy as sa

import keepword as kw


# --8<-- [start:log]
class DeliveryLog:
    """Which notices went out on which channel, by idempotency key: a table of the host's.

    The outbox delivers at least once: a deliverer that dies after sending but
    before acknowledging gets the same notice again.  A deliverer that checks
    this log first, and records each notice once it is sent, sends it once.
    """

    def __init__(self, engine: sa.Engine, table_name: str = "notice_deliveries") -> None:
        self.engine = engine
        self.table = sa.Table(
            table_name,
            sa.MetaData(),
            sa.Column("tenant", sa.String(255), primary_key=True),
            sa.Column("idempotency_key", sa.String(255), primary_key=True),
            sa.Column("channel", sa.String(32), primary_key=True),
            sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        )
        self.table.create(engine, checkfirst=True)

    def delivered(self, notice: kw.Notice, channel: str) -> bool:
        query = sa.select(sa.func.count()).where(
            self.table.c.tenant == notice.tenant,
            self.table.c.idempotency_key == notice.idempotency_key,
            self.table.c.channel == channel,
        )
        with self.engine.connect() as conn:
            return bool(conn.execute(query).scalar_one())

    def record(self, notice: kw.Notice, channel: str) -> None:
        row = {
            "tenant": notice.tenant,
            "idempotency_key": notice.idempotency_key,
            "channel": channel,
            "delivered_at": dt.datetime.now(dt.UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(self.table.insert().values(row))
        except sa.exc.IntegrityError:
            pass  # recorded by another deliverer meanwhile: it was sent, that is all we need


# --8<-- [end:log]


# --8<-- [start:smtp]
class Mailer:
    """A ``tracker.dispatch`` handler that sends each notice as an email."""

    def __init__(
        self,
        log: DeliveryLog,
        *,
        host: str,
        port: int = 25,
        sender: str,
        addresses: Mapping[str, str] | Callable[[kw.Notice], str],
    ) -> None:
        self.log, self.host, self.port, self.sender = log, host, port, sender
        self.addresses = addresses

    def address(self, notice: kw.Notice) -> str:
        """The mailbox for a notice's recipient ("owner" is the promise's owner)."""
        if callable(self.addresses):
            return self.addresses(notice)
        who = notice.owner if notice.recipient == "owner" else notice.recipient
        return who if "@" in who else self.addresses[who]

    def message(self, notice: kw.Notice) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = self.address(notice)
        overdue = "OVERDUE: " if notice.breach else ""
        msg["Subject"] = f"{overdue}{notice.what} (for {notice.customer})"
        # the same notice always has the same Message-ID: mail systems drop a duplicate
        key = notice.idempotency_key.replace(":", ".")
        msg["Message-ID"] = f"<{key}.{notice.tenant}@keepword.invalid>"
        msg.set_content(
            f"{notice.what}\n\n"
            f"Customer: {notice.customer}\nOwner: {notice.owner}\n"
            f"Due: {notice.due_at:%Y-%m-%d %H:%M} UTC\nStep: {notice.step}\n"
        )
        return msg

    def __call__(self, notice: kw.Notice) -> None:
        if self.log.delivered(notice, "smtp"):
            return
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.send_message(self.message(notice))
        self.log.record(notice, "smtp")


# --8<-- [end:smtp]


# --8<-- [start:webhook]
class Webhook:
    """A ``tracker.dispatch`` handler that POSTs each notice as JSON."""

    def __init__(self, log: DeliveryLog, client: httpx.Client, url: str) -> None:
        self.log, self.client, self.url = log, client, url

    @staticmethod
    def payload(notice: kw.Notice) -> dict[str, Any]:
        return {
            "idempotency_key": notice.idempotency_key,
            "tenant": notice.tenant,
            "commitment_id": notice.commitment_id,
            "customer": notice.customer,
            "owner": notice.owner,
            "what": notice.what,
            "recipient": notice.recipient,
            "action": notice.action,
            "step": notice.step,
            "due_at": notice.due_at.isoformat(),
            "fired_at": notice.fired_at.isoformat(),
            "breach": notice.breach,
            "late": notice.late,
        }

    def __call__(self, notice: kw.Notice) -> None:
        if self.log.delivered(notice, "webhook"):
            return
        response = self.client.post(
            self.url,
            json=self.payload(notice),
            # the receiver can drop a repeat too, whatever happened on this side
            headers={"Idempotency-Key": f"{notice.tenant}:{notice.idempotency_key}"},
        )
        response.raise_for_status()  # not acknowledged: dispatched again later
        self.log.record(notice, "webhook")


# --8<-- [end:webhook]


# --8<-- [start:drain]
def drain(tracker: kw.Tracker, *handlers: Callable[[kw.Notice], None]) -> int:
    """Deliver every pending notice through each handler; returns how many were acknowledged.

    A notice is acknowledged once every handler took it.  One that failed is
    released and comes back in a later drain; the handlers that had taken it
    then skip it, by its idempotency key.
    """

    def deliver(notice: kw.Notice) -> None:
        for handler in handlers:
            handler(notice)

    acknowledged = 0
    while True:
        report = tracker.dispatch(deliver, limit=100)
        acknowledged += report.delivered
        if report.failed or not report.delivered:
            return acknowledged


# --8<-- [end:drain]


# --8<-- [start:wiring]
def deliver_pending(tracker: kw.Tracker, log: DeliveryLog, *, smtp: str, webhook_url: str) -> int:
    """Drain the outbox by mail (``smtp`` is ``"host:port"``) and by webhook."""
    host, _, port = smtp.partition(":")
    mailer = Mailer(
        log,
        host=host,
        port=int(port or 25),
        sender="keepword@shop.example",
        addresses={"manager": "floor-manager@shop.example", "alice": "alice@shop.example"},
    )
    with httpx.Client(timeout=10) as client:
        return drain(tracker, mailer, Webhook(log, client, webhook_url))


# --8<-- [end:wiring]
