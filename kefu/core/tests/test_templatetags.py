"""Template helpers: ``localized`` (configuration rows' own English name) and ``display`` (choice
labels in the page's language)."""

from __future__ import annotations

from types import SimpleNamespace

from django.utils import translation

from kefu.core.templatetags.kefu import display, localized
from kefu.tickets.models import Ticket


def test_display_gives_the_choice_label_in_the_pages_language():
    ticket = Ticket(type="complaint", priority="urgent", channel="phone")

    with translation.override("zh-hans"):
        assert (display(ticket, "type"), display(ticket, "priority")) == ("投诉", "紧急")
    with translation.override("en"):
        assert (display(ticket, "type"), display(ticket, "channel")) == ("Complaint", "Phone")
        assert display(ticket, "type") == ticket.get_type_display()


def test_display_shows_a_value_with_no_label_as_it_is():
    assert display(Ticket(type="retired-type"), "type") == "retired-type"


def test_localized_uses_the_english_name_on_english_pages_when_there_is_one():
    row = SimpleNamespace(name="时效延误", name_en="Delivery delay")
    untranslated = SimpleNamespace(name="其他", name_en="")

    with translation.override("en"):
        assert (localized(row), localized(untranslated)) == ("Delivery delay", "其他")
    with translation.override("zh-hans"):
        assert localized(row) == "时效延误"
