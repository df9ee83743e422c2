"""Reference data cached per process until its stamp changes (kefu.core.reference)."""

from __future__ import annotations

from typing import cast

import pytest
from django.core.signals import request_finished, request_started
from django.db import transaction

from kefu.accounts.models import Team
from kefu.accounts.tests.factories import TeamFactory
from kefu.core import reference
from kefu.core.models import Sequence
from kefu.tickets.models import Category, Status
from kefu.tickets.services.common import category_named, default_status

pytestmark = pytest.mark.django_db


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_value_is_loaded_once_while_nothing_changes_and_again_after_a_change():
    load = Loader()

    assert [reference.cached("k", load) for _ in range(3)] == [1, 1, 1]
    reference.changed()
    assert reference.cached("k", load) == 2


def test_a_rolled_back_change_leaves_no_stamp_that_names_its_data():
    load = Loader()
    reference.cached("k", load)

    seen_inside: list[int] = []

    def change_then_fail() -> None:
        with transaction.atomic():
            reference.changed()
            seen_inside.append(reference.cached("k", load))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()

    assert seen_inside == [2]  # inside the change: the new data

    assert reference.cached("k", load) == 3  # the old stamp is back, the entry was replaced: reload
    assert reference.cached("k", load) == 3


def test_the_receivers_are_connected_to_the_request_signals():
    assert reference.request_started in [entry[1]() for entry in request_started.receivers]
    assert reference.request_finished in [entry[1]() for entry in request_finished.receivers]


def test_a_request_reads_the_stamp_once_until_it_changes_reference_data(django_assert_num_queries):
    load = Loader()
    reference.cached("k", load)
    reference.request_started()  # the receivers of Django's request_started / request_finished
    try:
        with django_assert_num_queries(1):  # one stamp read for the whole request
            assert [reference.cached("k", load) for _ in range(3)] == [1, 1, 1]
        reference.changed()  # the request changes reference data: it sees the change at once
        assert reference.cached("k", load) == 2
        with django_assert_num_queries(2):  # and reads the stamp every time again
            assert [reference.cached("k", load) for _ in range(2)] == [2, 2]
    finally:
        reference.request_finished()
    with django_assert_num_queries(2):  # outside a request: every time
        assert [reference.cached("k", load) for _ in range(2)] == [2, 2]


def test_without_the_stamp_row_nothing_is_cached():
    Sequence.objects.filter(name=reference.STAMP).delete()
    load = Loader()

    assert [reference.cached("k", load) for _ in range(2)] == [1, 2]
    reference.changed()  # nothing to update: still nothing cached
    assert reference.cached("k", load) == 3


def test_fixture_loading_does_not_touch_the_stamp():
    before = reference.stamp()
    reference.changed(raw=True)
    assert reference.stamp() == before


def test_admin_edits_reach_the_services_at_once():
    # given the delay category and the default "new" status, read (and cached) by the services
    delay = category_named("delay")
    assert delay is not None
    new_status = default_status("new")

    # when an administrator renames the category, gives it another team and adds a default status
    team = cast(Team, TeamFactory(name="新的默认团队"))
    delay.name = "时效延误（改）"
    delay.default_team = team
    delay.save()
    replacement = Status.objects.create(
        code="new-triage", name="待分诊", name_en="Triage", category="new", is_default=True, position=0
    )
    new_status.is_default = False
    new_status.save()

    # then the next reads see the change
    fresh = category_named("delay")
    assert fresh is not None
    assert (fresh.name, fresh.default_team_id) == ("时效延误（改）", team.pk)
    assert default_status("new") == replacement != new_status
    Category.objects.filter(code="delay").update(is_active=False)
    reference.changed()  # update() sends no signal
    assert category_named("delay") is None
