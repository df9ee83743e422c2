"""Sign-in lockout (kefu.accounts.lockout): after too many failures an account or an address is locked for
the cool-off, a correct password included, with a message saying so and for how long; each failure is in
the audit log; API tokens keep working; sessions end after their configured lifetime."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import PASSWORD
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.tests.factories import PortalAccountFactory

pytestmark = pytest.mark.django_db

LOCKED_ACCOUNT = "账号“{username}”登录失败次数过多，已临时锁定 15 分钟；锁定期间再次尝试会重新计时。"
LOCKED_ADDRESS = "此网络地址登录失败次数过多，已临时锁定 15 分钟；锁定期间再次尝试会重新计时。"


def sign_in(username: str, password: str, *, address: str = "10.0.0.1", path: str = "/login/", **extra):
    client = Client(REMOTE_ADDR=address, **extra)
    return client, client.post(path, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def pass_the_cool_off() -> None:
    """Let the cool-off (15 minutes) pass: the attempts age as the clock would age them."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=15, seconds=1))


def test_five_failures_lock_the_account_even_for_the_right_password_until_the_cool_off_passes(make_user):
    agent = make_user(Role.AGENT, username="zhangsan")

    answers = [sign_in("zhangsan", f"wrong-{n}")[1] for n in range(5)]

    # four plain failures, the fifth locks
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert all("用户名或密码错误，请重试。" in r.text for r in answers[:4])
    assert LOCKED_ACCOUNT.format(username="zhangsan") in answers[4].text

    # when: the right password during the lockout
    client, response = sign_in("zhangsan", PASSWORD)

    # then: refused with the same message, not signed in
    assert response.status_code == 429
    assert LOCKED_ACCOUNT.format(username="zhangsan") in response.text
    assert not signed_in(client)

    # and after the cool-off the right password works again
    pass_the_cool_off()
    client, response = sign_in("zhangsan", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_the_account_is_locked_from_every_address(make_user):
    make_user(Role.AGENT, username="lisi")
    for n in range(5):
        sign_in("lisi", "wrong", address=f"10.0.1.{n}")

    client, response = sign_in("lisi", PASSWORD, address="10.9.9.9")

    assert response.status_code == 429
    assert not signed_in(client)
    # another account at the same addresses is not affected
    make_user(Role.AGENT, username="wangwu")
    assert sign_in("wangwu", PASSWORD, address="10.0.1.0")[1].status_code == 302


def test_an_address_trying_many_accounts_is_locked_at_its_own_higher_limit(make_user, settings):
    settings.KEFU_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    make_user(Role.AGENT, username="victim")

    answers = [sign_in(f"guess{n}", "wrong", address="10.0.2.1")[1].status_code for n in range(8)]
    client, response = sign_in("victim", PASSWORD, address="10.0.2.1")

    assert answers == [200] * 7 + [429]
    assert response.status_code == 429
    assert LOCKED_ADDRESS in response.text
    assert not signed_in(client)
    # the account itself is fine from elsewhere
    assert sign_in("victim", PASSWORD, address="10.0.2.2")[1].status_code == 302


def test_each_failure_is_in_the_audit_log(make_user):
    agent = make_user(Role.AGENT, username="zhaoliu")
    for _ in range(5):
        sign_in("zhaoliu", "wrong", address="10.0.3.1")
    sign_in("nobody-by-this-name", "wrong", address="10.0.3.2")

    events = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id")

    assert [(e.object_id, e.changes["locked"][1]) for e in events] == [
        *[(str(agent.pk), [])] * 4,
        (str(agent.pk), ["username"]),
        (str(AccessAttempt.objects.get(username="nobody-by-this-name").pk), []),
    ]
    assert events[0].changes == {
        "username": [None, "zhaoliu"],
        "ip_address": [None, "10.0.3.1"],
        "path": [None, "/login/"],
        "locked": [None, []],
    }
    assert "wrong" not in str(list(events.values_list("changes", flat=True)))


def test_the_admin_sign_in_says_the_account_is_locked(make_user):
    make_user(Role.MANAGER, username="boss")
    for _ in range(5):
        sign_in("boss", "wrong", path="/admin/login/")

    client, response = sign_in("boss", PASSWORD, path="/admin/login/")

    assert response.status_code == 429
    assert LOCKED_ACCOUNT.format(username="boss") in response.text
    assert 'id="login-form"' in response.text  # the admin's own page, with its form
    assert not signed_in(client)


def test_the_lockout_message_is_in_english_for_english_users(make_user):
    make_user(Role.AGENT, username="sunqi")
    for _ in range(5):
        sign_in("sunqi", "wrong")

    _, response = sign_in("sunqi", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert (
        "The account “sunqi” is locked for 15 minutes after too many failed sign-ins; "
        "each attempt during the lockout starts the time again." in response.text
    )


def test_limits_and_cool_off_come_from_the_settings(make_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
    make_user(Role.AGENT, username="zhouba")

    answers = [sign_in("zhouba", "wrong")[1] for _ in range(2)]

    assert [r.status_code for r in answers] == [200, 429]
    assert "已临时锁定 30 分钟" in answers[1].text


def test_a_locked_out_user_keeps_using_api_tokens(make_user, api_as):
    agent = make_user(Role.AGENT, username="wujiu")
    api = api_as(agent)
    for _ in range(5):
        sign_in("wujiu", "wrong")

    response = api.get("/me")

    assert response.status_code == 200
    assert response.json()["username"] == "wujiu"


def test_the_address_behind_a_trusted_proxy_is_the_one_it_forwarded(make_user, settings):
    settings.KEFU_PROXY_COUNT = 1
    settings.KEFU_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    make_user(Role.AGENT, username="zhengshi")
    # one proxy (127.0.0.1) in front: the client may prepend whatever it likes, the proxy appends the truth
    for n in range(3):
        sign_in(f"guess{n}", "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7")

    locked = sign_in("zhengshi", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")[1]
    other = sign_in("zhengshi", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")[1]

    assert (locked.status_code, other.status_code) == (429, 302)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


# --- session lifetime -----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "hours"), [(Role.AGENT, 10), (Role.ADMIN, 10), (Role.CUSTOMER, 14 * 24)])
def test_a_session_ends_its_configured_time_after_sign_in(make_user, role, hours):
    user = make_user(role, username="someone")
    if role == Role.CUSTOMER:
        PortalAccountFactory(user=user)
    start = timezone.now()

    client, response = sign_in("someone", PASSWORD)
    client.get("/")  # later requests do not move the end

    assert response.status_code == 302
    ends = client.session.get_expiry_date()
    assert start + dt.timedelta(hours=hours) <= ends <= timezone.now() + dt.timedelta(hours=hours)
    cookie = client.cookies["sessionid"]
    assert hours * 3600 - 60 <= int(cookie["max-age"]) <= hours * 3600


def test_staff_session_lifetime_is_configurable(make_user, settings):
    settings.KEFU_STAFF_SESSION_HOURS = 9
    make_user(Role.LEAD, username="lead9")

    client, _ = sign_in("lead9", PASSWORD, path="/admin/login/")  # not staff: the admin refuses...
    client, _ = sign_in("lead9", PASSWORD)  # ...the console signs in

    assert client.session.get_expiry_age() == pytest.approx(9 * 3600, abs=60)


def test_an_expired_staff_session_is_signed_out(make_user, settings):
    make_user(Role.AGENT, username="night")
    client, _ = sign_in("night", PASSWORD)
    session = client.session
    session.set_expiry(timezone.now() - dt.timedelta(seconds=1))
    session.save()

    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith("/login/")
