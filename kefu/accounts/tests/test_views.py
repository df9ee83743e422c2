"""Staff pages of accounts: sign-in, each role's home, availability, the team board, error pages."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.enums import Availability, Role
from kefu.accounts.tests.factories import PASSWORD, MembershipFactory, TeamFactory
from kefu.core.actors import SYSTEM
from kefu.customers import services
from kefu.customers.tests.factories import PortalAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


def _customer(name, **kwargs):
    contacts = [services.ContactData(name="王小明", phone="13812345678")]
    return services.customer_create(actor=SYSTEM, name=name, contacts=contacts, **kwargs)


def test_login_form_signs_in_and_anonymous_home_redirects(make_user, client):
    user = make_user(Role.AGENT, username="zhangsan")
    assert client.get("/").url.startswith("/login/")
    page = client.get("/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.text
    bad = client.post("/login/", {"username": "zhangsan", "password": "wrong"})
    assert "用户名或密码错误" in bad.text
    response = client.post("/login/", {"username": "zhangsan", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.get("/").context["user"] == user


def test_agent_home_lists_own_customers_awaiting_first_contact(make_user, as_user):
    agent = make_user(Role.AGENT, full_name="张三")
    mine = _customer("顺达冷链物流有限公司")
    other_agent = make_user(Role.AGENT)
    theirs = services.customer_create(actor=SYSTEM, name="别人的客户有限公司", assign_account_agent=False)
    services.customer_assign_account_agent(actor=SYSTEM, customer=theirs, agent=other_agent)
    contacted = _customer("已联系客户有限公司")
    services.customer_assign_account_agent(actor=SYSTEM, customer=contacted, agent=agent)
    services.customer_mark_contacted(actor=agent, customer=contacted)
    assert mine.account_agent == agent

    response = as_user(agent).get("/")

    assert response.status_code == 200
    assert "新分配客户：一周内完成首次联系" in response.text
    assert "顺达冷链物流有限公司" in response.text
    assert "别人的客户有限公司" not in response.text
    assert "已联系客户有限公司" not in response.text
    assert list(response.context["due"]) == [mine]
    assert response.context["due_counts"] == {"pending": 1, "overdue": 0}
    assert response.context["my_customer_count"] == 2


def test_agent_home_without_due_customers_shows_an_empty_state(make_user, as_user):
    response = as_user(make_user(Role.AGENT)).get("/")
    assert "没有等待首次联系的客户" in response.text


def test_lead_home_shows_the_team_and_its_first_contacts(make_user, as_user):
    lead = make_user(Role.LEAD, full_name="组长王")
    member = make_user(Role.AGENT, full_name="队员李", availability=Availability.ONLINE)
    team = TeamFactory(name="售后服务组")
    MembershipFactory(team=team, user=lead, is_lead=True)
    MembershipFactory(team=team, user=member)
    outsider = make_user(Role.AGENT, full_name="外组赵")
    MembershipFactory(team=TeamFactory(name="理赔组"), user=outsider)
    customer = services.customer_create(actor=SYSTEM, name="队员的客户有限公司", assign_account_agent=False)
    services.customer_assign_account_agent(actor=SYSTEM, customer=customer, agent=member)

    response = as_user(lead).get("/")

    assert response.status_code == 200
    assert "售后服务组" in response.text
    assert "队员李" in response.text
    assert "理赔组" not in response.text
    assert "外组赵" not in response.text
    assert "队员的客户有限公司" in response.text


def test_manager_home_shows_counts_and_agent_load(make_user, as_user):
    manager = make_user(Role.MANAGER)
    agent = make_user(Role.AGENT, full_name="客服甲")
    _customer("客户一有限公司", tier="vip")
    _customer("客户二有限公司")

    response = as_user(manager).get("/")

    counts = response.context["customer_counts"]
    assert counts["total"] == 2
    assert counts["vip"] == 1
    assert counts["unassigned"] == 0
    assert "有效客户" in response.text
    assert "客服专员负责客户数" in response.text
    assert [(a, a.customers) for a in response.context["agents"]] == [(agent, 2)]
    assert "新分配客户：一周内完成首次联系" not in response.text


def test_qa_home_shows_recent_events_with_personal_data_masked(make_user, as_user):
    qa = make_user(Role.QA)
    _customer("质检样本有限公司", address="上海市浦东新区张江路88号3号楼1202室")
    response = as_user(qa).get("/")
    assert "最近操作记录" in response.text
    assert "质检样本有限公司" in response.text
    assert "王*明" in response.text
    assert "王小明" not in response.text


def test_analyst_home_shows_counts(make_user, as_user):
    response = as_user(make_user(Role.ANALYST)).get("/")
    assert response.status_code == 200
    assert response.context["customer_counts"]["total"] == 0


def test_portal_user_home_redirects_to_the_portal(as_user):
    account = PortalAccountFactory()
    response = as_user(account.user).get("/")
    assert response.status_code == 302
    assert response.url == "/portal/"


def test_set_availability_changes_it(make_user, as_user):
    agent = make_user(Role.AGENT)
    response = as_user(agent).post("/me/availability/", {"availability": "online"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.availability == Availability.ONLINE
    assert agent.availability_changed_at is not None


def test_set_availability_rejects_an_unknown_value_and_changes_nothing(make_user, as_user):
    agent = make_user(Role.AGENT, availability=Availability.AWAY)
    client = as_user(agent)
    response = client.post("/me/availability/", {"availability": "sleeping"})
    assert response.status_code == 400
    assert "sleeping" in response.text
    assert client.post("/me/availability/", {}).status_code == 400
    assert client.get("/me/availability/").status_code == 405
    agent.refresh_from_db()
    assert agent.availability == Availability.AWAY
    assert agent.availability_changed_at is None


def test_set_availability_is_for_staff_only(client):
    account = PortalAccountFactory()
    assert client.post("/me/availability/", {"availability": "online"}).status_code == 302
    client.force_login(account.user)
    assert client.post("/me/availability/", {"availability": "online"}).status_code == 403


def test_team_board_lists_teams_members_and_load(make_user, as_user):
    agent = make_user(Role.AGENT, full_name="客服乙", capacity=7)
    team = TeamFactory(name="咨询受理组", description="受理电话咨询")
    MembershipFactory(team=team, user=agent, is_lead=True)

    response = as_user(agent).get("/teams/")

    assert response.status_code == 200
    assert "咨询受理组" in response.text
    assert "受理电话咨询" in response.text
    assert "客服乙" in response.text
    assert "组长" in response.text
    assert "客服专员负责客户数" in response.text


def test_team_board_empty_state(make_user, as_user):
    response = as_user(make_user(Role.AGENT)).get("/teams/")
    assert "还没有团队" in response.text


def test_team_board_is_closed_to_portal_users_with_the_403_page(as_user):
    response = as_user(PortalAccountFactory().user).get("/teams/")
    assert response.status_code == 403
    assert "你没有权限访问此页面" in response.text


def test_unknown_page_shows_the_404_page(make_user, as_user, settings):
    settings.DEBUG = False
    response = as_user(make_user(Role.AGENT)).get("/customers/no-such-customer/")
    assert response.status_code == 404
    assert "页面或记录不存在" in response.text


def test_team_board_query_count_does_not_grow_with_members(make_user, as_user, django_assert_max_num_queries):
    viewer = make_user(Role.MANAGER)
    client = as_user(viewer)
    for n in range(3):
        team = TeamFactory()
        for _ in range(4):
            MembershipFactory(team=team, user=make_user(Role.AGENT, full_name=f"成员{n}"))
    with django_assert_max_num_queries(10):
        client.get("/teams/")
    with django_assert_max_num_queries(14):  # 10, the bell's unread count, the ticket figures (3)
        client.get("/")
