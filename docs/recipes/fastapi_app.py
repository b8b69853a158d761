"""keepword inside FastAPI: a tracker per request, promises on endpoints, webhooks.

The docs page docs/recipes/fastapi.md shows this file; tests/test_recipes_fastapi.py
runs it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import keepword as kw

# --8<-- [start:tracker]
CALENDAR = kw.BusinessCalendar(tz="Europe/Stockholm", hours="Mon-Fri 09:00-17:00", country="SE")
POLICIES = kw.PolicySet(
    [
        kw.EscalationPolicy(
            "standard",
            steps=[
                kw.Step(kw.before_due(business_hours=2), notify="owner"),
                kw.Step(kw.at_due(), notify="manager"),
            ],
        )
    ]
)


def create_app(store: kw.Store, *, clock: kw.Clock | None = None) -> FastAPI:
    """The application, on one store shared by every request (and a clock, for tests)."""
    app = FastAPI(title="shop")
    app.state.store = store
    app.state.clock = clock
    app.include_router(router)
    install_error_handlers(app)
    return app


def get_tracker(request: Request, x_tenant: Annotated[str, Header()]) -> kw.Tracker:
    """A tracker per request: the app's store, confined to the caller's tenant."""
    return kw.Tracker(
        request.app.state.store,
        calendar=CALENDAR,
        tenant=x_tenant,
        clock=request.app.state.clock,
        policies=POLICIES,
    )


Tracker = Annotated[kw.Tracker, Depends(get_tracker)]
# --8<-- [end:tracker]


# --8<-- [start:endpoints]
class Order(BaseModel):
    order_id: str
    customer: str
    items: list[str]


class HelpdeskEvent(BaseModel):
    event: str  # "ticket.created" or "ticket.solved"
    ticket_id: str
    customer: str
    agent: str
    subject: str = ""


def promise_json(c: kw.Commitment) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer": c.customer,
        "owner": c.owner,
        "what": c.what,
        "status": c.status.value,
        "due_at": c.due_at.isoformat(),
    }


router = APIRouter()


@router.post("/orders", status_code=201)
def place_order(order: Order, tracker: Tracker) -> dict[str, Any]:
    # ... store the order in your own tables, then promise to ship it:
    shipping = tracker.promise(
        customer=order.customer,
        owner="warehouse",
        kind="ship",
        what=f"Ship order {order.order_id} ({len(order.items)} items)",
        due=kw.within(business_days=2),
        external_ref=f"order:{order.order_id}",
    )
    return {"order_id": order.order_id, "ships_by": promise_json(shipping)}


@router.post("/orders/{order_id}/shipped")
def order_shipped(order_id: str, tracker: Tracker) -> dict[str, Any]:
    return promise_json(keep_ref(tracker, f"order:{order_id}"))


@router.post("/webhooks/helpdesk")
def helpdesk_webhook(event: HelpdeskEvent, tracker: Tracker) -> dict[str, Any]:
    ref = f"ticket:{event.ticket_id}"
    if event.event == "ticket.created":
        # A retried delivery promises the same external_ref again: it gets
        # the commitment the first delivery made, and nothing new is stored.
        reply = tracker.promise(
            customer=event.customer,
            owner=event.agent,
            kind="reply",
            what=f"Answer: {event.subject}",
            due=kw.within(business_hours=4),
            external_ref=ref,
        )
        return promise_json(reply)
    if event.event == "ticket.solved":
        return promise_json(keep_ref(tracker, ref))
    return {"ignored": event.event}


@router.get("/customers/{customer}/promises")
def customer_promises(customer: str, tracker: Tracker) -> list[dict[str, Any]]:
    return [promise_json(c) for c in tracker.find(customer=customer, order="due_at")]


def keep_ref(tracker: kw.Tracker, ref: str) -> kw.Commitment:
    """Keep the promise made for ``ref``; keeping it again (a retried webhook) changes nothing."""
    found = tracker.find(external_ref=ref)
    if not found:
        raise kw.NotFoundError("commitment", ref, argument="external_ref")
    commitment = found[0]
    if commitment.status is not kw.Status.OPEN:
        return commitment
    # by id: the tracker loads the current version, and retries a lost race
    return tracker.keep(commitment.id)


# --8<-- [end:endpoints]


# --8<-- [start:errors]
def install_error_handlers(app: FastAPI) -> None:
    """keepword's errors as HTTP answers: each names the argument at fault."""

    def answer(status: int) -> Any:
        def handler(request: Request, exc: Exception) -> JSONResponse:
            assert isinstance(exc, kw.KeepwordError)
            body = {"error": type(exc).__name__, "detail": str(exc), "argument": exc.argument}
            return JSONResponse(body, status_code=status)

        return handler

    app.add_exception_handler(kw.InvalidArgumentError, answer(422))
    app.add_exception_handler(kw.NotFoundError, answer(404))
    app.add_exception_handler(kw.ConflictError, answer(409))
    app.add_exception_handler(kw.InvalidTransitionError, answer(409))


# --8<-- [end:errors]
