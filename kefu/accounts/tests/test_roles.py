"""Roles are groups with default permissions (kefu.accounts.roles, migration 0002_role_groups)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.roles import ADMIN_SITE_ROLES, ROLE_PERMISSIONS
from kefu.accounts.services import user_create, user_set_role
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent

CUSTOMER_WRITES = {
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.add_customernote",
}


def group_perms(role):
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_a_group_with_the_default_permissions(role):
    assert group_perms(role) == set(ROLE_PERMISSIONS[role])


@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        (Role.AGENT, "customers.view_customer", True),
        (Role.AGENT, "customers.change_customer", True),
        (Role.AGENT, "customers.view_personal_data", False),
        (Role.AGENT, "customers.import_customers", False),
        (Role.AGENT, "customers.export_customers", False),
        (Role.AGENT, "customers.assign_account_agent", False),
        (Role.AGENT, "customers.delete_contact", False),
        (Role.LEAD, "customers.view_personal_data", True),
        (Role.LEAD, "customers.import_customers", True),
        (Role.LEAD, "customers.export_customers", True),
        (Role.LEAD, "customers.assign_account_agent", True),
        (Role.LEAD, "customers.delete_contact", False),
        (Role.MANAGER, "customers.view_personal_data", True),
        (Role.MANAGER, "customers.import_customers", True),
        (Role.MANAGER, "customers.delete_contact", True),
        (Role.QA, "customers.view_customer", True),
        (Role.QA, "core.view_auditevent", True),
        (Role.QA, "customers.view_personal_data", False),
        (Role.QA, "customers.export_customers", False),
        (Role.ANALYST, "customers.view_customer", True),
        (Role.ANALYST, "customers.export_customers", True),
        (Role.ANALYST, "customers.import_customers", False),
        (Role.ANALYST, "customers.view_personal_data", False),
        (Role.ADMIN, "customers.view_personal_data", True),
        (Role.ADMIN, "customers.delete_customer", True),
        (Role.CUSTOMER, "customers.view_customer", False),
        (Role.CUSTOMER, "customers.add_customernote", False),
    ],
)
def test_role_permissions(make_user, role, perm, allowed):
    assert make_user(role).has_perm(perm) is allowed


@pytest.mark.parametrize("role", [Role.QA, Role.ANALYST, Role.CUSTOMER])
def test_read_only_roles_cannot_write_customers(make_user, role):
    user = make_user(role)

    assert {p for p in CUSTOMER_WRITES if user.has_perm(p)} == set()


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_user_create_puts_the_user_in_the_roles_group(role):
    user = user_create(actor=SYSTEM, username=f"new-{role}", password="s3cret-pass", role=role)

    user = User.objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == [role.value]
    assert user.is_staff is (role in ADMIN_SITE_ROLES)
    assert user.is_superuser is (role == Role.ADMIN)
    assert user.is_portal_user is (role == Role.CUSTOMER)
    assert user.check_password("s3cret-pass")


def test_user_create_refuses_a_taken_username_whatever_its_case(make_user):
    make_user(Role.AGENT, username="zhangsan")

    with pytest.raises(ValidationFailed) as exc:
        user_create(actor=SYSTEM, username=" ZhangSan ", password=None, role=Role.AGENT)

    assert list(exc.value.fields) == ["username"]
    assert User.objects.count() == 1


def test_changing_role_changes_group_permissions_and_is_audited(make_user):
    # given an agent
    admin = make_user(Role.ADMIN)
    user = make_user(Role.AGENT)
    assert not user.has_perm("customers.view_personal_data")

    # when an admin promotes them to lead
    user_set_role(actor=admin, user=user, role=Role.LEAD)

    # then their permissions are the lead's and the change is on record
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("customers.view_personal_data")
    assert list(user.groups.values_list("name", flat=True)) == ["lead"]
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(user.pk))
    assert event.actor == admin
    assert event.changes == {"role": ["agent", "lead"], "groups": [["agent"], ["lead"]]}


def test_promotion_to_manager_opens_the_admin_and_demotion_closes_it(make_user):
    user = make_user(Role.AGENT)

    user_set_role(actor=SYSTEM, user=user, role=Role.MANAGER)
    assert User.objects.get(pk=user.pk).is_staff is True

    user_set_role(actor=SYSTEM, user=user, role=Role.QA)
    user = User.objects.get(pk=user.pk)
    assert (user.is_staff, user.is_superuser) == (False, False)
