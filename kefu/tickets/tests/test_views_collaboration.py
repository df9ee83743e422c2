"""Merge, split and links in the agent console (the services are tested in services/; these test the
pages: what is offered to whom, the confirmation step, and how each refusal is shown)."""

from __future__ import annotations

from typing import cast

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import TeamFactory
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditEvent
from kefu.customers.models import PortalAccount
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.enums import CloseReason, LinkKind, StatusCategory, Visibility
from kefu.tickets.models import Message, Ticket, TicketLink
from kefu.tickets.services.merge_split_link import ticket_link, ticket_merge
from kefu.tickets.tests.factories import UserClient, new_message, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return new_customer(name="顺达冷链物流有限公司")


@pytest.fixture
def duplicate(agent, team, customer):
    ticket = new_ticket(actor=agent, subject="货还没到（重复来电）", team=team, customer=customer)
    new_message(ticket=ticket, actor=agent, body="客户再次来电催问")
    new_message(ticket=ticket, actor=agent, body="已告知客户正在核实", visibility=Visibility.INTERNAL)
    return ticket


@pytest.fixture
def survivor(agent, team, customer):
    ticket = new_ticket(actor=agent, subject="冷链货物延误", team=team, customer=customer)
    new_message(ticket=ticket, actor=agent, body="已联系承运商")
    return ticket


def snapshot(*tickets: Ticket) -> list[object]:
    """What a refused action must leave exactly as it was."""
    rows: list[object] = []
    for t in tickets:
        t.refresh_from_db()
        rows.append((t.version, t.status_category, t.merged_into_id, t.messages.count()))
    return [*rows, TicketLink.objects.count(), Ticket.objects.count()]


# --- merge ----------------------------------------------------------------------------------------


def test_merge_asks_for_confirmation_naming_both_tickets_then_merges(as_agent, duplicate, survivor):
    before = snapshot(duplicate, survivor)
    page = as_agent.post(f"/tickets/{duplicate.number}/merge/", {"into": survivor.number.lower()})
    assert page.status_code == 200
    confirm = page.text[page.text.index('data-testid="merge-confirm"') :]
    for text in (
        duplicate.number,
        survivor.number,
        "货还没到（重复来电）",
        "冷链货物延误",
        "顺达冷链物流有限公司",
    ):
        assert text in confirm
    assert f'name="into" value="{survivor.number}"' in confirm
    assert snapshot(duplicate, survivor) == before  # the preview changed nothing

    response = as_agent.post(
        f"/tickets/{duplicate.number}/merge/", {"into": survivor.number, "confirm": "1"}, follow=True
    )
    assert response.redirect_chain == [(f"/tickets/{survivor.number}/", 302)]
    assert f"工单 {duplicate.number} 已合并到本工单" in response.text
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert duplicate.close_reason == CloseReason.DUPLICATE
    assert "客户再次来电催问" in response.text  # the duplicate's messages now show on the survivor
    page = as_agent.get(f"/tickets/{duplicate.number}/").text
    assert "此工单已合并到" in page
    assert 'data-testid="merge"' not in page  # a merged (closed) ticket offers no second merge


@pytest.mark.parametrize(
    ("into", "message"),
    [
        ("", "请填写工单号"),
        ("T9999999999", "工单 T9999999999 不存在"),
        ("not-a-number", "工单 not-a-number 不存在"),
        ("self", "不能把工单合并到它自己"),
    ],
)
def test_merge_refusals_are_form_errors_and_change_nothing(as_agent, duplicate, survivor, into, message):
    into = duplicate.number if into == "self" else into
    before = snapshot(duplicate, survivor)
    for confirm in ("", "1"):  # refused at the preview, and refused if the confirmation is forged
        response = as_agent.post(f"/tickets/{duplicate.number}/merge/", {"into": into, "confirm": confirm})
        assert response.status_code == 422
        assert response.context["error_summary"] == message
        assert 'data-testid="merge-confirm"' not in response.text
        assert f'value="{into}"' in response.text  # what the agent typed is kept in the form
    assert snapshot(duplicate, survivor) == before


def test_merge_across_organizations_is_refused(as_agent, agent, team, duplicate):
    other_company = new_ticket(actor=agent, subject="另一家公司的工单", team=team, customer=new_customer())
    before = snapshot(duplicate, other_company)
    response = as_agent.post(f"/tickets/{duplicate.number}/merge/", {"into": other_company.number})
    assert response.status_code == 422
    assert response.context["error_summary"] == "不能合并不同客户的工单"
    assert snapshot(duplicate, other_company) == before


def test_merge_into_a_ticket_the_agent_cannot_see_looks_like_an_unknown_number(as_agent, duplicate):
    hidden = new_ticket(subject="别组的工单", team=TeamFactory())
    before = snapshot(duplicate, hidden)
    response = as_agent.post(f"/tickets/{duplicate.number}/merge/", {"into": hidden.number})
    assert response.status_code == 422
    assert response.context["error_summary"] == f"工单 {hidden.number} 不存在"
    assert "别组的工单" not in response.text
    assert snapshot(duplicate, hidden) == before


def test_merge_into_an_already_merged_ticket_is_refused(as_agent, agent, duplicate, survivor):
    third = new_ticket(actor=agent, subject="第三张", team=survivor.team, customer=survivor.customer)
    ticket_merge(actor=agent, source=survivor, target=third)
    before = snapshot(duplicate, survivor, third)
    response = as_agent.post(f"/tickets/{duplicate.number}/merge/", {"into": survivor.number})
    assert response.status_code == 422
    assert response.context["error_summary"] == f"目标工单 {survivor.number} 已合并到其他工单"
    assert snapshot(duplicate, survivor, third) == before


def test_merge_of_a_ticket_the_agent_cannot_see_is_404(make_user, duplicate, survivor):
    outsider = UserClient(make_user(Role.AGENT))
    before = snapshot(duplicate, survivor)
    response = outsider.post(f"/tickets/{duplicate.number}/merge/", {"into": survivor.number, "confirm": "1"})
    assert response.status_code == 404
    assert snapshot(duplicate, survivor) == before


@pytest.mark.parametrize("role", [Role.QA, Role.ANALYST])
def test_read_only_roles_see_no_controls_and_every_post_is_refused(
    make_user, agent, duplicate, survivor, role
):
    ticket_link(actor=agent, ticket=duplicate, other=survivor)
    reader = UserClient(make_user(role))
    page = reader.get(f"/tickets/{duplicate.number}/").text
    assert survivor.number in page  # the link is listed …
    for control in ('data-testid="merge"', "/merge/", "/split/", "/link/", "/unlink/", "拆分为新工单"):
        assert control not in page  # … but nothing can be changed
    before = snapshot(duplicate, survivor)
    message = duplicate.messages.first()
    for action, data in (
        ("merge", {"into": survivor.number, "confirm": "1"}),
        ("merge", {"into": survivor.number}),
        ("split", {"message": message.pk, "subject": "拆出来"}),
        ("link", {"other": survivor.number, "kind": "follow_up"}),
        ("unlink", {"other": survivor.number, "kind": "related"}),
    ):
        assert reader.post(f"/tickets/{duplicate.number}/{action}/", data).status_code == 403, action
    assert snapshot(duplicate, survivor) == before


def test_portal_users_cannot_reach_the_console_actions(duplicate, survivor):
    account = cast(PortalAccount, PortalAccountFactory(customer=duplicate.customer))
    client = UserClient(account.user)
    before = snapshot(duplicate, survivor)
    response = client.post(f"/tickets/{duplicate.number}/merge/", {"into": survivor.number, "confirm": "1"})
    assert response.status_code == 403
    assert snapshot(duplicate, survivor) == before


# --- bulk merge -----------------------------------------------------------------------------------


def test_bulk_merge_reports_each_ticket(as_agent, agent, duplicate, survivor):
    team, customer = survivor.team, survivor.customer
    second = new_ticket(actor=agent, subject="又一次来电", team=team, customer=customer)
    other_company = new_ticket(actor=agent, subject="别家", team=team, customer=new_customer())
    hidden = new_ticket(subject="别组", team=TeamFactory(), customer=customer)
    response = as_agent.post(
        "/tickets/bulk/",
        {
            # The survivor itself may be among the selected: it is the one the others go into.
            "tickets": [
                duplicate.number,
                second.number,
                survivor.number,
                other_company.number,
                hidden.number,
            ],
            "action": "merge",
            "into": survivor.number,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "已处理 2 张工单" in response.text
    assert f"{other_company.number}：不能合并不同客户的工单" in response.text
    assert f"{hidden.number}：工单不存在" in response.text
    merged = set(Ticket.objects.filter(merged_into=survivor).values_list("number", flat=True))
    assert merged == {duplicate.number, second.number}
    rows = {t.number for t in response.context["rows"]}
    assert survivor.number in rows
    assert duplicate.number not in rows  # merged tickets leave the queue


@pytest.mark.parametrize(
    ("into", "message"), [("", "请填写工单号"), ("T0000000000", "工单 T0000000000 不存在")]
)
def test_bulk_merge_needs_a_target_the_agent_can_see(as_agent, duplicate, survivor, into, message):
    before = snapshot(duplicate, survivor)
    response = as_agent.post(
        "/tickets/bulk/", {"tickets": [duplicate.number], "action": "merge", "into": into}, follow=True
    )
    assert message in response.text
    assert snapshot(duplicate, survivor) == before


def test_bulk_merge_of_only_the_target_asks_for_the_others(as_agent, survivor):
    response = as_agent.post(
        "/tickets/bulk/",
        {"tickets": [survivor.number], "action": "merge", "into": survivor.number},
        follow=True,
    )
    assert f"请勾选要合并到 {survivor.number} 的其他工单" in response.text


def test_bulk_merge_is_refused_to_read_only_roles(make_user, duplicate, survivor):
    qa = UserClient(make_user(Role.QA))
    before = snapshot(duplicate, survivor)
    response = qa.post(
        "/tickets/bulk/", {"tickets": [duplicate.number], "action": "merge", "into": survivor.number}
    )
    assert response.status_code == 403
    assert snapshot(duplicate, survivor) == before


# --- split ----------------------------------------------------------------------------------------


def test_split_a_message_into_a_new_ticket(as_agent, agent, duplicate):
    note = new_message(ticket=duplicate, actor=agent, body="另一个运单也丢了", visibility=Visibility.INTERNAL)
    page = as_agent.get(f"/tickets/{duplicate.number}/").text
    assert page.count("拆分为新工单") == duplicate.messages.count()
    response = as_agent.post(
        f"/tickets/{duplicate.number}/split/", {"message": note.pk, "subject": "另一个运单丢件"}, follow=True
    )
    new = Ticket.objects.get(subject="另一个运单丢件")
    assert response.redirect_chain == [(f"/tickets/{new.number}/", 302)]
    assert f"已从工单 {duplicate.number} 拆分出本工单" in response.text
    assert Message.objects.get(pk=note.pk).ticket == new
    assert (new.customer, new.team) == (duplicate.customer, duplicate.team)
    # Each side lists the other, labelled from its own point of view.
    assert response.context["links"][0].other == duplicate
    assert response.context["links"][0].label == "拆分自"
    original = as_agent.get(f"/tickets/{duplicate.number}/")
    assert [(link.other, link.label) for link in original.context["links"]] == [(new, "拆分为")]


def test_split_with_an_empty_subject_is_refused(as_agent, duplicate):
    message = duplicate.messages.first()
    before = snapshot(duplicate)
    response = as_agent.post(f"/tickets/{duplicate.number}/split/", {"message": message.pk, "subject": "  "})
    assert response.status_code == 422
    assert response.context["field_errors"] == {"subject": ["主题不能为空"]}
    assert "主题不能为空" in response.text
    assert f'id="m{message.pk}"' in response.text
    assert snapshot(duplicate) == before


def test_split_of_another_tickets_message_is_refused(as_agent, duplicate, survivor):
    foreign = survivor.messages.first()
    before = snapshot(duplicate, survivor)
    response = as_agent.post(f"/tickets/{duplicate.number}/split/", {"message": foreign.pk, "subject": "x"})
    assert response.status_code == 422
    assert response.context["error_summary"] == "该工单没有这条消息"
    assert snapshot(duplicate, survivor) == before


def test_split_is_not_offered_where_the_service_refuses_it(as_agent, agent, team):
    single = new_ticket(actor=agent, subject="只有一条消息", team=team)
    new_message(ticket=single, actor=agent, body="唯一的消息")
    page = as_agent.get(f"/tickets/{single.number}/").text
    assert "拆分为新工单" not in page  # the only message of a ticket is the ticket
    response = as_agent.post(
        f"/tickets/{single.number}/split/", {"message": single.messages.get().pk, "subject": "拆出来"}
    )
    assert response.status_code == 422
    assert response.context["error_summary"] == "工单只有这一条消息，不能拆分"


# --- links ----------------------------------------------------------------------------------------


def test_link_and_unlink(as_agent, duplicate, survivor):
    response = as_agent.post(
        f"/tickets/{duplicate.number}/link/", {"other": survivor.number, "kind": "related"}, follow=True
    )
    assert response.redirect_chain == [(f"/tickets/{duplicate.number}/", 302)]
    assert "已关联" in response.text
    card = response.text[response.text.index('data-testid="links"') :]
    for text in (
        survivor.number,
        "冷链货物延误",
        "相关",
        "处理中" if survivor.status_category == "open" else "",
    ):
        assert text in card
    other_side = as_agent.get(f"/tickets/{survivor.number}/")
    assert [(link.other, link.kind) for link in other_side.context["links"]] == [(duplicate, "related")]

    response = as_agent.post(
        f"/tickets/{survivor.number}/unlink/", {"other": duplicate.number, "kind": "related"}, follow=True
    )
    assert "已取消关联" in response.text
    assert not TicketLink.objects.exists()


def test_follow_up_link_reads_from_both_sides(as_agent, duplicate, survivor):
    as_agent.post(f"/tickets/{duplicate.number}/link/", {"other": survivor.number, "kind": "follow_up"})
    link = TicketLink.objects.get()
    assert (link.source, link.target, link.kind) == (duplicate, survivor, LinkKind.FOLLOW_UP)
    assert as_agent.get(f"/tickets/{duplicate.number}/").context["links"][0].label == "原工单"
    assert as_agent.get(f"/tickets/{survivor.number}/").context["links"][0].label == "后续工单"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"other": "T9999999999", "kind": "related"}, "工单 T9999999999 不存在"),
        ({"other": "", "kind": "related"}, "请填写工单号"),
        ({"other": "self", "kind": "related"}, "工单不能关联自己"),
        ({"other": "survivor", "kind": "merged"}, "请选择关联类型"),  # only merging makes a merged link
        ({"other": "survivor", "kind": "nonsense"}, "请选择关联类型"),
    ],
)
def test_link_refusals(as_agent, duplicate, survivor, data, message):
    data = {
        **data,
        "other": {"self": duplicate.number, "survivor": survivor.number}.get(data["other"], data["other"]),
    }
    before = snapshot(duplicate, survivor)
    response = as_agent.post(f"/tickets/{duplicate.number}/link/", data)
    assert response.status_code == 422
    assert response.context["error_summary"] == message
    assert snapshot(duplicate, survivor) == before


def test_duplicate_link_is_refused_in_either_direction(as_agent, agent, duplicate, survivor):
    ticket_link(actor=agent, ticket=survivor, other=duplicate)
    before = snapshot(duplicate, survivor)
    response = as_agent.post(
        f"/tickets/{duplicate.number}/link/", {"other": survivor.number, "kind": "related"}
    )
    assert response.status_code == 422
    assert response.context["error_summary"] == f"已与工单 {survivor.number} 关联"
    assert snapshot(duplicate, survivor) == before


def test_unlink_of_a_link_already_gone_is_a_form_error(as_agent, duplicate, survivor):
    response = as_agent.post(
        f"/tickets/{duplicate.number}/unlink/", {"other": survivor.number, "kind": "related"}
    )
    assert response.status_code == 422
    assert response.context["error_summary"] == "两个工单之间没有这种关联"


def test_merge_and_split_links_cannot_be_removed_by_hand(as_agent, agent, duplicate, survivor):
    ticket_merge(actor=agent, source=duplicate, target=survivor)
    page = as_agent.get(f"/tickets/{survivor.number}/")
    assert [(link.other, link.label, link.removable) for link in page.context["links"]] == [
        (duplicate, "合并自", False)
    ]
    assert "/unlink/" not in page.text
    response = as_agent.post(
        f"/tickets/{survivor.number}/unlink/", {"other": duplicate.number, "kind": "merged"}
    )
    assert response.status_code == 422
    assert TicketLink.objects.filter(kind=LinkKind.MERGED).count() == 1


def test_links_to_tickets_the_agent_cannot_see_are_not_listed(as_agent, agent, duplicate):
    hidden = new_ticket(subject="别组的机密工单", team=TeamFactory())
    ticket_link(actor=SYSTEM, ticket=duplicate, other=hidden)
    page = as_agent.get(f"/tickets/{duplicate.number}/")
    assert page.context["links"] == []
    assert "别组的机密工单" not in page.text


def test_link_is_audited_on_the_ticket_timeline(as_agent, duplicate, survivor):
    as_agent.post(f"/tickets/{duplicate.number}/link/", {"other": survivor.number, "kind": "related"})
    event = AuditEvent.objects.filter(object_id=str(duplicate.pk)).order_by("-at", "-pk").first()
    assert event is not None
    assert event.changes == {"links": [None, f"related {survivor.number}"]}
    duplicate.refresh_from_db()
    assert duplicate.status_category != StatusCategory.CLOSED


def test_english_labels(as_agent, agent, duplicate, survivor):
    ticket_link(actor=agent, ticket=duplicate, other=survivor, kind=LinkKind.FOLLOW_UP)
    page = as_agent.get(f"/tickets/{duplicate.number}/", HTTP_ACCEPT_LANGUAGE="en").text
    for text in ("Merge into…", "Linked tickets", "Original ticket", "Split into a new ticket", "Link"):
        assert text in page
    for text in ("合并到…", "关联工单", "原工单", "拆分为新工单", "取消关联"):
        assert text not in page
    preview = as_agent.post(
        f"/tickets/{duplicate.number}/merge/", {"into": survivor.number}, HTTP_ACCEPT_LANGUAGE="en"
    ).text
    assert f"Merge into {survivor.number}" in preview
    assert "确认合并" not in preview
