"""Configuration edited in the Django admin is audited like any other change."""

import pytest
from django.contrib.auth.models import Group

from kefu.accounts.enums import Role
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import Segment

pytestmark = pytest.mark.django_db


def test_admin_edit_of_a_segment_is_audited_with_old_and_new_values(client, make_user):
    admin_user = make_user(Role.ADMIN)
    client.force_login(admin_user)
    segment = Segment.objects.get(code="ecommerce")

    response = client.post(
        f"/admin/customers/segment/{segment.pk}/change/",
        {"code": "ecommerce", "name": "电子商务", "name_en": "E-commerce", "skill": ""},
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(segment.pk))
    assert event.actor == admin_user
    assert event.changes == {"name": ["电商", "电子商务"]}


def test_changing_a_role_in_admin_moves_the_user_to_the_role_group(client, make_user):
    admin_user = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT)
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/user/{agent.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "username": agent.username,
            "role": Role.LEAD,
            "availability": agent.availability,
            "capacity": agent.capacity,
            "date_joined_0": agent.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": agent.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)

    response = client.post(f"/admin/accounts/user/{agent.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    agent.refresh_from_db()
    assert agent.role == Role.LEAD
    assert list(agent.groups.values_list("name", flat=True)) == ["lead"]
    assert agent.has_perm("customers.view_personal_data")
    assert Group.objects.get(name="agent").user_set.filter(pk=agent.pk).exists() is False


def test_admin_index_is_forbidden_to_agents(client, make_user):
    client.force_login(make_user(Role.AGENT))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
