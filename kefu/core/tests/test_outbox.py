"""The outbox, end to end through webhooks to a real HTTP receiver: a rolled-back change sends nothing, a
committed one is delivered by the worker after commit, a failed delivery is retried with backoff and
given up after the last attempt (visible in the admin, which can queue it again), a repeated delivery
carries the same key; bad deliveries are refused before anything is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kefu.accounts.enums import Role
from kefu.core import outbox
from kefu.core.models import OutboxMessage, OutboxStatus
from kefu.core.outbox import Delivery, OutboxError
from kefu.core.tests.sink import Sink, running_sink
from kefu.customers.enums import Tier
from kefu.customers.services import customer_update
from kefu.customers.tests.factories import new_customer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sink(settings) -> Iterator[Sink]:
    with running_sink() as running:
        settings.KEFU_WEBHOOK_URLS = [running.url]
        settings.KEFU_WEBHOOK_SECRET = "s3cret"
        yield running


def run_worker() -> None:
    call_command("db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0)


def test_a_committed_change_is_delivered_after_commit_with_its_key_and_signature(sink, make_user):
    lead = make_user(Role.LEAD)
    customer = new_customer()

    customer_update(actor=lead, customer=customer, tier=Tier.VIP)

    message = OutboxMessage.objects.get()
    assert (message.handler, message.status, message.attempts) == ("webhook", OutboxStatus.PENDING, 0)
    assert sink.received == []  # nothing leaves before the worker runs

    run_worker()

    assert sink.keys() == [message.key]
    body = sink.applied[message.key]
    assert body["kind"] == "customer.tier_changed"
    assert body["data"] == {"customer_id": customer.pk, "old_tier": "standard", "new_tier": "vip"}
    assert body["actor"]["id"] == lead.pk
    headers = sink.headers[0]
    assert headers["X-Kefu-Event"] == "customer.tier_changed"
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert headers["X-Kefu-Signature"] == "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.DELIVERED, 1, "")
    assert message.delivered_at is not None


def test_a_rolled_back_change_sends_nothing(sink, make_user):
    customer = new_customer()

    lead = make_user(Role.LEAD)

    def change_then_fail() -> None:
        with transaction.atomic():
            customer_update(actor=lead, customer=customer, tier=Tier.VIP)
            raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()

    run_worker()
    assert OutboxMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert sink.received == []


def test_no_endpoint_no_outbox_row(settings, make_user):
    settings.KEFU_WEBHOOK_URLS = []

    customer_update(actor=make_user(Role.LEAD), customer=new_customer(), tier=Tier.VIP)

    assert OutboxMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_a_failed_delivery_is_retried_with_backoff_and_delivered_once(sink, settings, make_user):
    settings.KEFU_OUTBOX_RETRY_SECONDS = 0
    sink.fail_next = 2

    customer_update(actor=make_user(Role.LEAD), customer=new_customer(), tier=Tier.VIP)
    run_worker()

    message = OutboxMessage.objects.get()
    assert sink.received == [message.key] * 3
    assert sink.keys() == [message.key]
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 3)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 3


def test_the_wait_doubles_after_each_failure(sink, settings, make_user):
    settings.KEFU_OUTBOX_RETRY_SECONDS = 30
    sink.fail_next = 1
    customer_update(actor=make_user(Role.LEAD), customer=new_customer(), tier=Tier.VIP)
    before = timezone.now()

    run_worker()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.last_error == "HTTPError: HTTP Error 503: Service Unavailable"
    assert before + dt.timedelta(seconds=29) < message.next_attempt_at < before + dt.timedelta(seconds=40)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"] == {"keys": [message.key]}
    assert retry.run_after == message.next_attempt_at
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_after_the_last_attempt_the_message_is_failed_and_the_admin_queues_it_again(
    sink, settings, make_user, client
):
    settings.KEFU_OUTBOX_RETRY_SECONDS = 0
    settings.KEFU_OUTBOX_MAX_ATTEMPTS = 3
    sink.fail_next = 3
    customer_update(actor=make_user(Role.LEAD), customer=new_customer(), tier=Tier.VIP)

    run_worker()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert "503" in message.last_error
    assert sink.applied == {}

    client.force_login(make_user(Role.ADMIN, is_superuser=True, is_staff=True))
    listing = client.get("/admin/core/outboxmessage/?status__exact=failed")
    assert message.key in listing.text
    client.post("/admin/core/outboxmessage/", {"action": "retry", "_selected_action": [message.pk]})
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 4)
    assert sink.keys() == [message.key]


def test_a_repeated_delivery_is_sent_once_and_carries_the_same_key(sink, make_user):
    customer_update(actor=make_user(Role.LEAD), customer=new_customer(), tier=Tier.VIP)
    key = OutboxMessage.objects.get().key

    run_worker()
    outbox.deliver.call(keys=[key])  # the task run again (a lease expired meanwhile): already delivered
    OutboxMessage.objects.update(status=OutboxStatus.PENDING)  # a worker killed before it recorded success
    outbox.deliver.call(keys=[key])

    assert sink.received == [key, key]
    assert sink.keys() == [key]


def test_bad_deliveries_are_refused_and_nothing_is_written():
    good = Delivery(handler="webhook", key="k1", payload={"url": "http://127.0.0.1:9/", "event": {}})
    with transaction.atomic():
        with pytest.raises(OutboxError, match="unknown delivery handler 'sms'"):
            outbox.enqueue(good, Delivery(handler="sms", key="k2", payload={}))
        with pytest.raises(OutboxError, match="payload cannot be stored as JSON"):
            outbox.enqueue(good, Delivery(handler="webhook", key="k3", payload={"at": timezone.now()}))
        with pytest.raises(OutboxError, match="the key must have 1 to 200 characters"):
            outbox.enqueue(good, Delivery(handler="webhook", key="x" * 201, payload={}))
    with pytest.raises(OutboxError, match="inside the transaction"):
        outbox.enqueue(good)

    assert OutboxMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_a_message_whose_handler_is_gone_fails_at_once():
    OutboxMessage.objects.create(handler="fax", key="fax:1", payload={})

    assert outbox.deliver.call(keys=["fax:1"]) == {"delivered": 0, "failed": 1, "skipped": 0}

    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == (
        OutboxStatus.FAILED,
        "no delivery handler 'fax' is registered",
    )
