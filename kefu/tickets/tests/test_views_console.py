"""Daily use of the console: reply drafts kept on the server, files kept through a conflict, every
form's address loads after an error, sortable queue columns with keyset pages, the age column."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, UserFactory
from kefu.tickets.models import Attachment, DraftAttachment, Message, ReplyDraft, Ticket
from kefu.tickets.services.edit import ticket_update
from kefu.tickets.tests.factories import UserClient, new_message, new_ticket

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def ticket(agent, team):
    return new_ticket(actor=agent, subject="冷链货物延误", team=team)


@pytest.fixture
def colleague(team):
    user = UserFactory(role=Role.AGENT, full_name="王芳")
    MembershipFactory(team=team, user=user)
    return user


# --- drafts ---------------------------------------------------------------------------------------


def test_a_draft_is_saved_as_typed_and_restored_on_return(as_agent, agent, ticket):
    response = as_agent.post(
        f"/tickets/{ticket.number}/draft/", {"body": "您好，包裹已到转运中心", "visibility": "internal"}
    )

    assert response.status_code == 204
    page = as_agent.get(f"/tickets/{ticket.number}/")
    assert "您好，包裹已到转运中心</textarea>" in page.text
    assert 'value="internal" checked' in page.text
    assert "已恢复未发送的草稿" in page.text
    ticket.refresh_from_db()
    assert ticket.version == 1  # a draft is not a change to the ticket


def test_drafts_are_per_user(as_agent, ticket, colleague):
    as_agent.post(f"/tickets/{ticket.number}/draft/", {"body": "只属于我", "visibility": "public"})

    assert "只属于我" not in UserClient(colleague).get(f"/tickets/{ticket.number}/").text


def test_emptying_the_box_removes_the_draft(as_agent, ticket):
    as_agent.post(f"/tickets/{ticket.number}/draft/", {"body": "草稿", "visibility": "public"})
    as_agent.post(f"/tickets/{ticket.number}/draft/", {"body": "  ", "visibility": "public"})

    assert not ReplyDraft.objects.exists()


def test_sending_clears_the_draft(as_agent, ticket):
    as_agent.post(f"/tickets/{ticket.number}/draft/", {"body": "马上发送", "visibility": "public"})

    response = as_agent.post(
        f"/tickets/{ticket.number}/reply/", {"body": "马上发送", "visibility": "public", "seen_version": 1}
    )

    assert response.status_code == 302
    assert not ReplyDraft.objects.exists()
    assert "马上发送</textarea>" not in as_agent.get(f"/tickets/{ticket.number}/").text


def test_a_draft_of_a_ticket_one_may_not_see_is_404(ticket, make_user):
    outsider = UserClient(make_user(Role.AGENT))

    assert outsider.post(f"/tickets/{ticket.number}/draft/", {"body": "x"}).status_code == 404
    assert not ReplyDraft.objects.exists()


def test_read_only_roles_keep_no_drafts(ticket, make_user):
    qa = UserClient(make_user(Role.QA))

    assert qa.post(f"/tickets/{ticket.number}/draft/", {"body": "x"}).status_code == 403
    assert not ReplyDraft.objects.exists()


def test_files_of_a_reply_held_by_a_conflict_are_kept_and_sent_next_time(as_agent, ticket, colleague):
    # given: the agent opened version 1; a colleague answers the customer meanwhile
    new_message(ticket=ticket, actor=colleague, body="已安排派送")

    # when: the agent sends a reply with a file against version 1
    held = as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {
            "body": "请查收签收单",
            "visibility": "public",
            "seen_version": 1,
            "attachments": [SimpleUploadedFile("签收单.pdf", PDF)],
        },
    )

    # then: held, with the text and the file kept and shown
    assert held.status_code == 409
    kept = DraftAttachment.objects.get()
    assert kept.name == "签收单.pdf"
    assert f'name="keep_attachment" value="{kept.pk}" checked' in held.text
    assert "请查收签收单" in held.text
    assert Message.objects.count() == 1
    # the address the browser shows loads, with the draft and the kept file
    again = as_agent.get(f"/tickets/{ticket.number}/reply/")
    assert again.status_code == 200
    assert "请查收签收单</textarea>" in again.text
    assert "签收单.pdf" in again.text

    # when: the agent sends again with the current version, keeping the file
    ticket.refresh_from_db()
    sent = as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {
            "body": "请查收签收单",
            "visibility": "public",
            "seen_version": ticket.version,
            "keep_attachment": kept.pk,
        },
    )

    # then: the reply carries the file; the draft and its copy are gone
    assert sent.status_code == 302
    message = Message.objects.latest("id")
    attachment = Attachment.objects.get(message=message)
    assert (attachment.name, attachment.file.read()) == ("签收单.pdf", PDF)
    assert not ReplyDraft.objects.exists()
    assert not DraftAttachment.objects.exists()


def test_files_of_a_refused_reply_are_not_kept_and_the_page_says_so(as_agent, ticket):
    response = as_agent.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "附件", "visibility": "public", "attachments": [SimpleUploadedFile("x.exe", b"MZ")]},
    )

    assert response.status_code == 422
    assert "附件没有发送也没有保存：请重新选择附件后再发送。" in response.text
    assert not DraftAttachment.objects.exists()


# --- every form's address loads after an error ------------------------------------------------------

ACTION_POSTS = {
    "reply": {"body": "", "visibility": "public"},
    "assign": {"assignee": "999999"},
    "status": {"status": "nope"},
    "resolve": {"solution_summary": ""},
    "edit": {"subject": "", "type": "inquiry", "priority": "normal", "category": "other"},
    "subtask": {"title": ""},
    "merge": {"into": "T0000000000"},
    "link": {"kind": "nope", "other": ""},
    "split": {"message": "0"},
}


@pytest.mark.parametrize("action", sorted(ACTION_POSTS))
def test_after_a_refused_form_the_address_loads(as_agent, ticket, action):
    refused = as_agent.post(f"/tickets/{ticket.number}/{action}/", ACTION_POSTS[action])
    assert refused.status_code in (404, 409, 422), refused.status_code

    # the browser now shows /tickets/<number>/<action>/: reloading it or pasting it is a GET
    response = as_agent.get(f"/tickets/{ticket.number}/{action}/")

    assert response.status_code == 200
    assert "冷链货物延误" in response.text


def test_a_get_changes_nothing(as_agent, ticket):
    as_agent.get(f"/tickets/{ticket.number}/assign/?assignee=me")

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.version) == (None, 1)


@pytest.mark.parametrize("op", ["mark", "link", "rule", "update", "resolve"])
def test_problem_form_addresses_load(as_agent, ticket, op):
    assert as_agent.get(f"/tickets/{ticket.number}/problem/{op}/").status_code == 200


# --- queue: sortable columns, keyset pages, age ------------------------------------------------------


def _numbers(response) -> list[str]:
    import re

    return re.findall(r'name="tickets" value="(T\d+)"', response.text)


def test_queue_sorts_by_age_with_keyset_pages(as_agent, agent, team, settings, monkeypatch):
    monkeypatch.setattr("kefu.tickets.forms.PAGE_SIZE", 2)
    made = [new_ticket(actor=agent, team=team, subject=f"工单{i}") for i in range(5)]
    # the newest ticket was updated last … and the oldest was touched after it
    ticket_update(actor=agent, ticket=made[0], version=None, changes={"subject": "最早的，刚更新"})

    default = as_agent.get("/tickets/")
    oldest_first = as_agent.get("/tickets/?sort=created")

    assert _numbers(default) == [made[0].number, made[4].number]  # by last update
    assert _numbers(oldest_first) == [made[0].number, made[1].number]
    # the next page continues the same order
    import re

    found = re.search(r"cursor=([\w-]+)", oldest_first.text)
    assert found is not None
    cursor = found.group(1)
    assert "sort=created" in oldest_first.text.split("cursor=")[0].rsplit('href="', 1)[1]
    second = as_agent.get(f"/tickets/?sort=created&cursor={cursor}")
    assert _numbers(second) == [made[2].number, made[3].number]
    newest_first = as_agent.get("/tickets/?sort=-created")
    assert _numbers(newest_first) == [made[4].number, made[3].number]


def test_queue_headers_link_to_their_sort_and_show_the_order(as_agent, ticket):
    page = as_agent.get("/tickets/?sort=created")

    assert 'href="?queue=all&amp;sort=-created"' in page.text  # a second click on 工单号 or 时长 …
    assert 'href="?queue=all&amp;sort=-updated"' in page.text
    assert "▼" in page.text


def test_an_unknown_sort_is_the_default_order(as_agent, ticket):
    assert as_agent.get("/tickets/?sort=priority;drop").status_code == 200


def test_the_age_column_in_both_languages(as_agent, agent, team):
    ticket = new_ticket(actor=agent, team=team)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - dt.timedelta(days=3, hours=5))

    chinese = as_agent.get("/tickets/")
    as_agent.cookies["django_language"] = "en"
    english = as_agent.get("/tickets/")

    assert "时长" in chinese.text
    assert ">3\xa0日</td>" in chinese.text
    assert ">Age" in english.text
    assert ">3\xa0days</td>" in english.text


def test_after_a_refused_portal_reply_the_address_loads(agent, team):
    from kefu.customers.tests.factories import PortalAccountFactory, new_customer

    account = PortalAccountFactory(customer=new_customer(name="顺达冷链"))
    ticket = new_ticket(actor=agent, team=team, subject="冷链货物延误", customer=account.customer)
    portal = UserClient(account.user)

    assert portal.post(f"/portal/tickets/{ticket.number}/reply/", {"body": ""}).status_code == 422
    response = portal.get(f"/portal/tickets/{ticket.number}/reply/")

    assert response.status_code == 200
    assert "冷链货物延误" in response.text
    assert portal.get(f"/portal/tickets/{ticket.number}/explode/").status_code == 404
