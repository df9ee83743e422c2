"""Nobody gains more than they hold through /admin/: only administrators grant the admin role,
superuser, groups or single permissions, edit users who hold more than they do, or set someone else's
password. Every denied attempt leaves the user as it was; every privilege change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from kefu.accounts import services
from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.tests.factories import PASSWORD
from kefu.core.errors import PermissionDenied
from kefu.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-new-pass-2026"
NO_ADMIN_SITE = [Role.AGENT, Role.LEAD, Role.QA, Role.ANALYST]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def password_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/password/"


def state(user: User) -> dict:
    """Everything that decides what a user may do, read fresh from the database."""
    user = User.objects.get(pk=user.pk)
    return {
        "role": user.role,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
        "password": user.password,
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "permissions": sorted(user.user_permissions.values_list("codename", flat=True)),
    }


def form_data(response) -> dict:
    """The change form as the browser would post it back unchanged."""
    form = response.context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(value, dt.datetime):  # the admin splits date and time
            value = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is not None:
            data[name] = value
    return data


def escalation(target: User) -> dict:
    """What the reported managers posted: role admin, superuser, every group and a permission."""
    return {
        "role": Role.ADMIN,
        "is_superuser": "on",
        "is_staff": "on",
        "groups": list(Group.objects.values_list("pk", flat=True)),
        "user_permissions": [Permission.objects.get(codename="view_all_tickets").pk],
    }


# --- roles without admin-site access --------------------------------------------------------------


@pytest.mark.parametrize("role", NO_ADMIN_SITE)
def test_roles_without_admin_access_reach_no_user_page(make_user, role):
    actor = make_user(role)
    target = make_user(Role.AGENT)
    client = signed_in(actor)
    before = (state(actor), state(target))

    pages = [change_url(target), change_url(actor), password_url(target), "/admin/accounts/user/add/"]
    answers = [client.get(url).status_code for url in pages]
    posts = [
        client.post(change_url(actor), {"username": actor.username, **escalation(actor)}).status_code,
        client.post(password_url(target), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code,
        client.post("/admin/accounts/user/add/", {"username": "intruder"}).status_code,
    ]

    # every page sends them to the admin's sign-in, and nothing changed
    assert answers == [302, 302, 302, 302]
    assert posts == [302, 302, 302]
    assert (state(actor), state(target)) == before
    assert not User.objects.filter(username="intruder").exists()


# --- managers -------------------------------------------------------------------------------------


def test_manager_cannot_make_themselves_administrator(make_user):
    manager = make_user(Role.MANAGER)
    client = signed_in(manager)
    page = client.get(change_url(manager))
    before = state(manager)

    response = client.post(change_url(manager), {**form_data(page), **escalation(manager)})

    # the role is refused with a clear error; superuser, groups and permissions are not even fields
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert state(manager) == before
    assert not AuditEvent.objects.filter(object_id=str(manager.pk)).exists()


def test_manager_page_offers_only_roles_not_above_their_own(make_user):
    manager = make_user(Role.MANAGER)
    agent = make_user(Role.AGENT)

    page = signed_in(manager).get(change_url(agent))

    form = page.context["adminform"].form
    assert page.status_code == 200
    assert [value for value, _ in form.fields["role"].choices] == [
        "agent",
        "lead",
        "manager",
        "qa",
        "analyst",
        "customer",
    ]
    assert {"is_superuser", "is_staff", "groups", "user_permissions"}.isdisjoint(form.fields)
    assert "password/" not in page.text  # no link to set the agent's password


def test_manager_may_promote_an_agent_to_lead_and_it_is_audited(make_user):
    manager = make_user(Role.MANAGER)
    agent = make_user(Role.AGENT)
    client = signed_in(manager)
    page = client.get(change_url(agent))

    response = client.post(change_url(agent), {**form_data(page), "role": Role.LEAD})

    assert response.status_code == 302
    assert state(agent) | {"password": None} == {
        "role": "lead",
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
        "password": None,
        "groups": ["lead"],
        "permissions": [],
    }
    event = AuditEvent.objects.get(object_id=str(agent.pk), action=AuditAction.UPDATE)
    assert event.actor == manager
    assert event.changes == {"role": ["agent", "lead"], "groups": [["agent"], ["lead"]]}


def test_manager_posting_superuser_groups_and_permissions_for_an_agent_changes_none_of_them(make_user):
    manager = make_user(Role.MANAGER)
    agent = make_user(Role.AGENT)
    client = signed_in(manager)
    page = client.get(change_url(agent))
    before = state(agent)

    data = {**form_data(page), **escalation(agent)}
    data["role"] = Role.AGENT  # only the read-only fields are forged
    response = client.post(change_url(agent), data)

    assert response.status_code == 302
    assert state(agent) == before
    assert not AuditEvent.objects.filter(object_id=str(agent.pk)).exists()


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_manager_cannot_change_an_administrator(make_user, role):
    manager = make_user(Role.MANAGER)
    admin = make_user(role)
    client = signed_in(manager)
    before = state(admin)

    page = client.get(change_url(admin))
    response = client.post(change_url(admin), {"username": admin.username, "role": Role.AGENT})

    # shown read-only, and a post is refused
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert response.status_code == 403
    assert state(admin) == before


def test_manager_cannot_change_a_user_holding_a_permission_they_lack(make_user):
    manager = make_user(Role.MANAGER)
    agent = make_user(Role.AGENT)
    agent.user_permissions.add(Permission.objects.get(codename="change_group"))
    before = state(agent)

    response = signed_in(manager).post(change_url(agent), {"username": agent.username, "role": Role.AGENT})

    assert response.status_code == 403
    assert state(agent) == before


def test_manager_cannot_set_another_users_password(make_user):
    manager = make_user(Role.MANAGER)
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT)
    client = signed_in(manager)
    before = (state(admin), state(agent))

    answers = [
        client.get(password_url(admin)).status_code,
        client.post(password_url(admin), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code,
        client.get(password_url(agent)).status_code,
        client.post(password_url(agent), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code,
    ]

    assert answers == [403, 403, 403, 403]
    assert (state(admin), state(agent)) == before
    assert not Client().login(username=admin.username, password=NEW_PASSWORD)


def test_manager_may_set_their_own_password(make_user):
    manager = make_user(Role.MANAGER)
    client = signed_in(manager)

    response = client.post(
        password_url(manager),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=manager.pk).check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(object_id=str(manager.pk))
    assert event.changes == {"password": [None, "******"]}


def test_manager_cannot_add_users(make_user):
    manager = make_user(Role.MANAGER)
    client = signed_in(manager)

    page = client.get("/admin/accounts/user/add/")
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "newbie", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "role": Role.ADMIN},
    )

    assert (page.status_code, response.status_code) == (403, 403)
    assert not User.objects.filter(username="newbie").exists()


def test_administrator_adds_a_user_who_starts_as_an_agent_and_it_is_audited(make_user):
    admin = make_user(Role.ADMIN)

    response = signed_in(admin).post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "is_superuser": "on",  # not on the add form: ignored
        },
    )

    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert state(newbie) | {"password": None} == {
        "role": "agent",
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
        "password": None,
        "groups": ["agent"],
        "permissions": [],
    }
    event = AuditEvent.objects.get(object_id=str(newbie.pk), action=AuditAction.CREATE)
    assert event.actor == admin
    assert event.changes["groups"] == [None, ["agent"]]
    assert NEW_PASSWORD not in str(event.changes)


def test_manager_cannot_edit_groups(make_user):
    manager = make_user(Role.MANAGER)
    group = Group.objects.get(name=Role.MANAGER)
    before = set(group.permissions.all())
    client = signed_in(manager)

    response = client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": group.name, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )

    assert response.status_code == 403
    assert set(group.permissions.all()) == before


# --- administrators -------------------------------------------------------------------------------


def test_administrator_may_grant_everything_and_each_change_is_audited(make_user):
    admin = make_user(Role.ADMIN)
    manager = make_user(Role.MANAGER)
    client = signed_in(admin)
    page = client.get(change_url(manager))
    perm = Permission.objects.get(codename="change_group")

    response = client.post(
        change_url(manager),
        {**form_data(page), "is_superuser": "on", "user_permissions": [perm.pk]},
    )

    assert response.status_code == 302
    after = state(manager)
    assert (after["is_superuser"], after["permissions"], after["groups"]) == (
        True,
        ["change_group"],
        ["manager"],
    )
    event = AuditEvent.objects.get(object_id=str(manager.pk), action=AuditAction.UPDATE)
    assert event.actor == admin
    assert event.changes == {
        "is_superuser": [False, True],
        "user_permissions": [[], [str(perm)]],
    }


def test_administrator_may_make_someone_an_administrator(make_user):
    admin = make_user(Role.ADMIN)
    lead = make_user(Role.LEAD)
    client = signed_in(admin)
    page = client.get(change_url(lead))

    response = client.post(change_url(lead), {**form_data(page), "role": Role.ADMIN})

    assert response.status_code == 302
    after = state(lead)
    assert (after["role"], after["is_staff"], after["is_superuser"], after["groups"]) == (
        "admin",
        True,
        True,
        ["admin"],
    )
    event = AuditEvent.objects.get(object_id=str(lead.pk), action=AuditAction.UPDATE)
    assert event.changes == {
        "role": ["lead", "admin"],
        "is_staff": [False, True],
        "is_superuser": [False, True],
        "groups": [["lead"], ["admin"]],
    }


def test_administrator_may_set_another_users_password_and_it_is_audited(make_user):
    admin = make_user(Role.ADMIN)
    manager = make_user(Role.MANAGER)

    response = signed_in(admin).post(
        password_url(manager),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=manager.pk).check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(object_id=str(manager.pk))
    assert (event.actor, event.changes) == (admin, {"password": [None, "******"]})
    assert NEW_PASSWORD not in str(AuditEvent.objects.values_list("changes", flat=True))


# --- the same rule in the services ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_role", "role", "allowed"),
    [
        (Role.MANAGER, Role.LEAD, True),
        (Role.MANAGER, Role.MANAGER, True),
        (Role.MANAGER, Role.ADMIN, False),
        (Role.LEAD, Role.AGENT, True),
        (Role.LEAD, Role.MANAGER, False),
        (Role.AGENT, Role.LEAD, False),
        (Role.QA, Role.ANALYST, False),
        (Role.ANALYST, Role.QA, False),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_user_set_role_grants_no_role_above_the_actors_own(make_user, actor_role, role, allowed):
    actor = make_user(actor_role)
    user = make_user(Role.AGENT)
    before = state(user)

    if allowed:
        services.user_set_role(actor=actor, user=user, role=role)
        assert state(user)["role"] == role
        assert AuditEvent.objects.filter(object_id=str(user.pk), actor=actor).exists()
    else:
        with pytest.raises(PermissionDenied):
            services.user_set_role(actor=actor, user=user, role=role)
        assert state(user) == before
        assert not AuditEvent.objects.filter(object_id=str(user.pk)).exists()


def test_user_set_role_refuses_to_demote_an_administrator_for_a_manager(make_user):
    manager = make_user(Role.MANAGER)
    admin = make_user(Role.ADMIN)
    before = state(admin)

    with pytest.raises(PermissionDenied):
        services.user_set_role(actor=manager, user=admin, role=Role.AGENT)

    assert state(admin) == before


def test_user_create_refuses_an_administrator_created_by_a_manager(make_user):
    manager = make_user(Role.MANAGER)

    with pytest.raises(PermissionDenied):
        services.user_create(actor=manager, username="root2", password=PASSWORD, role=Role.ADMIN)

    assert not User.objects.filter(username="root2").exists()
