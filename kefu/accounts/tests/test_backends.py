"""Permissions come from the role's group and from the user's own grants, read in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from kefu.accounts.enums import Role
from kefu.accounts.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_a_user_has_the_roles_permissions_and_their_own_grants_in_one_query(
    make_user, django_assert_num_queries
):
    agent = make_user(Role.AGENT)
    agent.user_permissions.add(Permission.objects.get(codename="view_all_tickets"))
    agent = type(agent).objects.get(pk=agent.pk)  # no permissions on the object yet

    with django_assert_num_queries(2):  # the reference stamp, then the permissions
        permissions = agent.get_all_permissions()
        assert agent.has_perm("tickets.view_all_tickets")
        assert agent.has_perm("tickets.change_ticket")

    assert permissions == set(ROLE_PERMISSIONS[Role.AGENT]) | {"tickets.view_all_tickets"}
    assert not agent.has_perm("customers.delete_customer")


def test_the_next_request_reads_only_the_stamp_until_something_changes(make_user, django_assert_num_queries):
    agent = make_user(Role.AGENT)
    type(agent).objects.get(pk=agent.pk).get_all_permissions()

    next_request = type(agent).objects.get(pk=agent.pk)
    with django_assert_num_queries(1):  # a new request's user object: the stamp only
        assert next_request.has_perm("tickets.change_ticket") is True
    agent.user_permissions.add(Permission.objects.get(codename="view_all_tickets"))
    after_the_change = type(agent).objects.get(pk=agent.pk)
    with django_assert_num_queries(2):  # changed: read again
        assert after_the_change.has_perm("tickets.view_all_tickets") is True


def test_a_group_change_applies_to_the_next_request(make_user):
    agent = make_user(Role.AGENT)
    assert agent.has_perm("tickets.change_ticket")
    Group.objects.get(name=Role.AGENT).permissions.remove(Permission.objects.get(codename="change_ticket"))

    fresh = type(agent).objects.get(pk=agent.pk)  # the next request loads the user again

    assert not fresh.has_perm("tickets.change_ticket")


def test_inactive_users_have_no_permissions_and_superusers_have_all(make_user):
    inactive = make_user(Role.MANAGER, is_active=False)
    admin = make_user(Role.ADMIN, is_superuser=True)

    assert inactive.get_all_permissions() == set()
    assert not inactive.has_perm("tickets.view_ticket")
    assert admin.get_all_permissions() >= {"customers.delete_customer", "tickets.manage_problem"}
