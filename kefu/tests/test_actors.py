"""Typed actors: the audit log records which kind of actor acted, through every adapter, and nothing
but an actor (a User or a kefu.core.actors.SystemActor) is accepted where one is expected."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.services import token_create
from kefu.cli import main
from kefu.core import audit
from kefu.core.actors import BOT, SYSTEM, SystemActor
from kefu.core.errors import PermissionDenied
from kefu.core.models import ActorKind, AuditAction, AuditEvent
from kefu.customers.enums import ImportMode
from kefu.customers.import_jobs import import_job_create
from kefu.customers.models import Customer
from kefu.customers.reveal import contact_phone_reveal
from kefu.customers.tests.factories import PortalAccountFactory, new_contact, new_customer
from kefu.customers.tests.test_import import GOOD_ROWS, HEADERS, write_csv
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _created(obj: Any) -> AuditEvent:
    return AuditEvent.objects.get(
        action=AuditAction.CREATE, object_id=str(obj.pk), content_type=ContentType.objects.get_for_model(obj)
    )


def test_a_staff_page_records_the_staff_user(make_user):
    agent = make_user(Role.AGENT, full_name="陈专员")
    client = Client()
    client.force_login(agent)

    response = client.post("/customers/new/", {"name": "华东快运有限公司", "kind": "organization"})

    assert response.status_code == 302
    event = _created(Customer.objects.get())
    assert (event.actor, event.actor_kind, event.actor_label) == (agent, ActorKind.USER, "陈专员")


def test_the_portal_records_the_customer(make_user):
    account: Any = PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))
    client = Client()
    client.force_login(account.user)

    client.post("/portal/tickets/new/", {"subject": "包裹未到", "description": "请查一下"})

    event = _created(Ticket.objects.get())
    assert (event.actor, event.actor_kind) == (account.user, ActorKind.CUSTOMER)


def test_an_api_token_request_records_the_integration_token(make_user):
    agent = make_user(Role.AGENT, full_name="陈专员")
    _, plain = token_create(actor=SYSTEM, user=agent, name="运单系统")

    response = Client().post(
        "/api/v1/customers",
        {"name": "接口客户"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )

    assert response.status_code == 201
    event = _created(Customer.objects.get())
    assert (event.actor, event.actor_kind, event.actor_label) == (agent, ActorKind.TOKEN, "陈专员")


def test_the_same_user_in_a_browser_session_is_the_user_not_the_token(make_user):
    agent = make_user(Role.AGENT)
    token_create(actor=SYSTEM, user=agent, name="运单系统")
    client = Client()
    client.force_login(agent)

    client.post("/api/v1/customers", {"name": "接口客户"}, content_type="application/json")

    assert _created(Customer.objects.get()).actor_kind == ActorKind.USER


def test_the_command_line_is_recorded_as_the_system_naming_the_command(capsys, monkeypatch):
    monkeypatch.setenv("KEFU_ADMIN_PASSWORD", "Kefu-admin-2026!")

    assert main(["createadmin", "root"]) == 0

    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_repr="root")
    assert (event.actor, event.actor_kind, event.actor_label) == (
        None,
        ActorKind.SYSTEM,
        "cli: kefu createadmin",
    )


def test_a_raw_string_or_none_is_not_an_actor():
    customer = new_customer()

    for wrong in ("bot", None, 7):
        with pytest.raises(TypeError, match="not an actor"):
            audit.record(actor=wrong, action=AuditAction.UPDATE, obj=customer)  # type: ignore[arg-type]

    assert not AuditEvent.objects.filter(object_id=str(customer.pk), action=AuditAction.UPDATE).exists()


def test_a_system_actor_cannot_claim_to_be_a_person():
    for kind in (ActorKind.USER, ActorKind.CUSTOMER, ActorKind.TOKEN, "bot"):
        with pytest.raises(TypeError):
            SystemActor(kind, "someone")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SystemActor(ActorKind.BOT, "")


# The worker commits and closes its connection, as in production: a real transaction, not the test's.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_task_whose_uploader_is_gone_runs_as_the_system(tmp_path, settings, make_user):
    settings.MEDIA_ROOT = tmp_path / "media"
    lead = make_user(Role.LEAD)
    path = write_csv(tmp_path / "客户.csv", [HEADERS, GOOD_ROWS[0]])
    job = import_job_create(
        actor=lead, upload=SimpleUploadedFile(path.name, path.read_bytes()), mode=ImportMode.VALID_ROWS
    )
    lead.delete()  # the job stays, without its uploader

    call_command("db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0)

    job.refresh_from_db()
    assert job.status == "done", job.message
    event = _created(Customer.objects.get())
    assert (event.actor, event.actor_kind, event.actor_label) == (None, ActorKind.SYSTEM, "system")


def test_a_service_that_needs_a_person_refuses_a_system_actor():
    contact = new_contact(customer=new_customer(), phone="13812345678")

    with pytest.raises(PermissionDenied) as refused:
        contact_phone_reveal(actor=BOT, contact=contact, reason="客户要求回电")  # type: ignore[arg-type]

    assert refused.value.message == "此操作须由用户本人进行，不能由“bot”执行"
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PII).exists()
