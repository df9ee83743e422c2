"""Who may hold API tokens: portal users only once an administrator allowed it on their portal account;
a deactivated user's tokens are revoked, so reactivating the user does not bring them back."""

from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.models import ApiToken, User
from kefu.accounts.services import token_authenticate, token_create
from kefu.accounts.tests.test_admin_privileges import form_data
from kefu.cli import main
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import PortalAccount
from kefu.customers.tests.factories import PortalAccountFactory

pytestmark = pytest.mark.django_db


def portal_account(**fields: object) -> PortalAccount:
    return cast(PortalAccount, PortalAccountFactory(**fields))


CREATED = {"created_at_0": "2026-12-01", "created_at_1": "08:00:00"}
NOT_ALLOWED = "门户用户 {username} 未获准使用 API：请管理员在其门户账号上开启“允许 API 令牌”"


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def me(plain: str) -> int:
    return Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code


def test_a_portal_account_does_not_allow_api_tokens_by_default():
    account = portal_account(user__username="kehu")

    with pytest.raises(ValidationFailed) as exc:
        token_create(actor=SYSTEM, user=account.user, name="erp")

    assert account.api_access is False
    assert exc.value.fields == {"user": [NOT_ALLOWED.format(username="kehu")]}
    assert ApiToken.objects.count() == 0


def test_the_cli_refuses_a_token_for_a_portal_user_without_api_access(capsys):
    portal_account(user__username="kehu")

    code = main(["token", "create", "--user", "kehu"])

    out, err = capsys.readouterr()
    assert (code, out, err) == (1, "", f"kefu: {NOT_ALLOWED.format(username='kehu')}\n")
    assert ApiToken.objects.count() == 0


def test_an_administrator_allows_api_access_in_the_admin_and_it_is_audited(make_user):
    admin = make_user(Role.ADMIN)
    account = portal_account()

    response = admin_client(admin).post(
        f"/admin/customers/portalaccount/{account.pk}/change/",
        {**CREATED, "user": account.user.pk, "customer": account.customer.pk, "api_access": "on"},
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.api_access is True
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(account.pk))
    assert (event.actor, event.changes["api_access"]) == (admin, [False, True])
    _, plain = token_create(actor=SYSTEM, user=account.user, name="erp")
    assert me(plain) == 200


def test_only_administrators_may_change_api_access(make_user):
    # given a manager an administrator allowed to edit portal accounts
    manager = make_user(Role.MANAGER)
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_portalaccount", "change_portalaccount"])
    )
    account = portal_account()
    client = admin_client(User.objects.get(pk=manager.pk))
    url = f"/admin/customers/portalaccount/{account.pk}/change/"

    page = client.get(url)
    response = client.post(
        url, {**CREATED, "user": account.user.pk, "customer": account.customer.pk, "api_access": "on"}
    )

    # then the flag is shown, not editable, and a forged post changes nothing
    assert page.status_code == 200
    assert "api_access" not in page.context["adminform"].form.fields
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.api_access is False


def test_withdrawing_api_access_stops_the_portal_users_tokens_at_once():
    account = portal_account(api_access=True)
    _, plain = token_create(actor=SYSTEM, user=account.user, name="erp")
    assert me(plain) == 200

    account.api_access = False
    account.save(update_fields=["api_access"])

    assert me(plain) == 401
    assert token_authenticate(plain) is None


def test_staff_tokens_need_no_permission(make_user):
    _, plain = token_create(actor=SYSTEM, user=make_user(Role.AGENT), name="erp")
    assert me(plain) == 200


def test_deactivating_a_user_in_the_admin_revokes_their_tokens_and_reactivating_does_not_revive_them(
    make_user,
):
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT)
    token, plain = token_create(actor=SYSTEM, user=agent, name="erp")
    client = admin_client(admin)
    page = client.get(f"/admin/accounts/user/{agent.pk}/change/")
    data = form_data(page)
    data.pop("is_active")
    assert client.post(f"/admin/accounts/user/{agent.pk}/change/", data).status_code == 302
    assert me(plain) == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(object_id=str(token.pk), action=AuditAction.UPDATE, actor=admin).exists()

    # when the user is reactivated
    data["is_active"] = "on"
    assert client.post(f"/admin/accounts/user/{agent.pk}/change/", data).status_code == 302

    # then the old token stays dead; a new one works
    assert User.objects.get(pk=agent.pk).is_active
    assert me(plain) == 401
    _, fresh = token_create(actor=admin, user=agent, name="erp")
    assert me(fresh) == 200
