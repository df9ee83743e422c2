"""The notification bell and list: unread count on every staff page, refreshed by htmx, mark one / all
read, open one (marks it read and goes to the ticket), in the reader's language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core.models import Notification
from kefu.core.notifications import UNREAD_CAP, notify, unread_count
from kefu.customers.tests.factories import PortalAccountFactory
from kefu.tickets.tests.factories import UserClient

pytestmark = pytest.mark.django_db


def _notice(user: User, n: int = 1, **params: str) -> list[Notification]:
    for i in range(n):
        notify(
            users=[user],
            kind="assigned",
            title=f"工单 T26120100{i:02d} 已分配给你",
            url=f"/tickets/T26120100{i:02d}/",
            key=f"test:{i}",
            params={"actor": "王芳", "number": f"T26120100{i:02d}", "subject": "冷链货物延误", **params},
        )
    return list(Notification.objects.filter(user=user).order_by("id"))


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, full_name="李小丽")


def test_the_bell_shows_the_unread_count_on_staff_pages(agent: User) -> None:
    _notice(agent, 3)

    page = UserClient(agent).get("/customers/")

    assert page.status_code == 200
    assert 'data-testid="bell-count"' in page.text
    assert ">3</span>" in page.text


def test_the_bell_fragment_counts_in_one_query_and_caps_the_number(agent: User) -> None:
    _notice(agent, UNREAD_CAP + 5)
    client = UserClient(agent)
    client.get("/notifications/bell/")  # warm: session and permissions

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/notifications/bell/")

    assert response.status_code == 200
    assert f">{UNREAD_CAP}+</span>" in response.text
    # session, user, reference stamp (permissions cached), and the count (bounded by the cap: at most
    # 100 entries of notification_user_idx read)
    assert len(queries) == 4, [q["sql"] for q in queries]
    assert unread_count(agent) == UNREAD_CAP + 1


def test_the_bell_stops_polling_when_signed_out() -> None:
    assert Client().get("/notifications/bell/").status_code == 286


def test_portal_users_have_no_bell() -> None:
    account = PortalAccountFactory()
    client = UserClient(account.user)
    assert client.get("/notifications/bell/").status_code == 286
    assert client.get("/notifications/").status_code == 403


def test_the_list_is_in_the_readers_language(agent: User) -> None:
    _notice(agent)
    client = UserClient(agent)

    chinese = client.get("/notifications/")
    client.cookies["django_language"] = "en"
    english = client.get("/notifications/")

    assert "王芳 把工单 T2612010000 分配给了你：冷链货物延误" in chinese.text
    assert "王芳 assigned ticket T2612010000 to you: 冷链货物延误" in english.text
    assert "分配给了你" not in english.text


def test_opening_a_notification_marks_it_read_and_goes_to_the_ticket(agent: User) -> None:
    (notice,) = _notice(agent)

    response = UserClient(agent).post(f"/notifications/{notice.pk}/read/", {"open": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/tickets/T2612010000/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_one_read_leaves_the_others(agent: User) -> None:
    first, second = _notice(agent, 2)

    response = UserClient(agent).post(f"/notifications/{first.pk}/read/")

    assert response.status_code == 302
    assert unread_count(agent) == 1
    second.refresh_from_db()
    assert second.read_at is None


def test_someone_elses_notification_is_404_and_stays_unread(
    agent: User, make_user: Callable[..., User]
) -> None:
    (notice,) = _notice(agent)
    other = UserClient(make_user(Role.AGENT))

    assert other.post(f"/notifications/{notice.pk}/read/", {"open": "1"}).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_mark_all_read(agent: User, make_user: Callable[..., User]) -> None:
    _notice(agent, 4)
    other = make_user(Role.AGENT)
    _notice(other, 2)

    response = UserClient(agent).post("/notifications/read-all/", follow=True)

    assert response.status_code == 200
    assert "已将 4 条通知标为已读" in response.text
    assert unread_count(agent) == 0
    assert unread_count(other) == 2  # only one's own


def test_a_notification_of_an_unknown_kind_shows_its_stored_title(agent: User) -> None:
    notify(users=[agent], kind="work_order_x", title="协作单已分配给你", url="/tickets/T1/", key="wo:1")

    assert "协作单已分配给你" in UserClient(agent).get("/notifications/").text
