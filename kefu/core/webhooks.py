"""Webhooks: every domain event, POSTed as JSON to the endpoints in ``KEFU_WEBHOOK_URLS``.

The subscriber (registered for :class:`kefu.core.events.Event`, i.e. every kind, in ``CoreConfig.ready``)
writes one outbox delivery per endpoint in the transaction of the change; the worker POSTs it after
commit (``kefu.core.outbox``). With no endpoint configured it does nothing and costs nothing.

A request carries the event (``{"kind", "event_id", "occurred_at", "actor", "data"}``) and the headers
``Idempotency-Key`` (the same on every attempt of one delivery: a receiver must drop a key it has seen —
a delivery interrupted between sending and recording is sent again), ``X-Kefu-Event`` (the kind) and,
when ``KEFU_WEBHOOK_SECRET`` is set, ``X-Kefu-Signature: sha256=<HMAC-SHA256 of the body>``. Any answer
but 2xx, or none within ``KEFU_WEBHOOK_TIMEOUT`` seconds, is a failed attempt, retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from typing import Any

from django.conf import settings

from kefu.core import outbox
from kefu.core.events import Event

HANDLER = "webhook"


def on_event(event: Event) -> None:
    urls = settings.KEFU_WEBHOOK_URLS
    if not urls:
        return
    body = event.as_json()
    outbox.enqueue(
        *(
            outbox.Delivery(
                handler=HANDLER,
                key=f"webhook:{event.event_id}:{hashlib.sha256(url.encode()).hexdigest()[:12]}",
                payload={"url": url, "event": body},
            )
            for url in urls
        )
    )


@outbox.handler(HANDLER)
def post(key: str, payload: dict[str, Any]) -> None:
    body = json.dumps(payload["event"], ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": key,
        "X-Kefu-Event": payload["event"]["kind"],
    }
    secret = settings.KEFU_WEBHOOK_SECRET
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Kefu-Signature"] = f"sha256={digest}"
    request = urllib.request.Request(payload["url"], data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=settings.KEFU_WEBHOOK_TIMEOUT) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise OSError(f"{payload['url']} answered {response.status}")
