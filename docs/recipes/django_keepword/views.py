"""A help desk's webhook, answered with a promise to reply."""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

import keepword as kw
from django_keepword.tracking import tracker


@csrf_exempt
@require_POST
def helpdesk_webhook(request: HttpRequest) -> JsonResponse:
    event = json.loads(request.body)
    try:
        # the ticket id as external_ref: a retried delivery gets the same promise back
        reply = tracker().promise(
            customer=event["customer"],
            owner=event["agent"],
            kind="reply",
            what=f"Answer: {event.get('subject', '')}",
            due=kw.within(business_hours=4),
            external_ref=f"ticket:{event['ticket_id']}",
        )
    except kw.InvalidArgumentError as error:
        return JsonResponse({"error": str(error), "argument": error.argument}, status=422)
    except kw.ConflictError as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse({"id": reply.id, "due_at": reply.due_at.isoformat()})
