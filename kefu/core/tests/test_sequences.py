import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from kefu.core.models import Sequence
from kefu.core.sequences import next_value, next_values

pytestmark = pytest.mark.django_db


def test_a_new_counter_starts_at_one_and_advances_by_one():
    assert [next_value("test:a") for _ in range(3)] == [1, 2, 3]
    assert Sequence.objects.get(name="test:a").value == 3


def test_a_block_reserves_consecutive_values_and_the_next_call_continues_after_it():
    next_value("test:b")
    assert list(next_values("test:b", 5)) == [2, 3, 4, 5, 6]
    assert next_value("test:b") == 7


def test_counters_are_independent():
    next_values("test:c", 10)
    assert next_value("test:d") == 1


def test_a_rolled_back_reservation_is_returned_to_the_counter():
    def reserve_then_fail() -> None:
        with transaction.atomic():
            next_value("test:e")
            raise RuntimeError

    next_value("test:e")
    with pytest.raises(RuntimeError):
        reserve_then_fail()
    assert next_value("test:e") == 2


@pytest.mark.parametrize("count", [0, -1])
def test_a_count_below_one_is_refused_and_changes_nothing(count):
    next_value("test:f")
    with pytest.raises(ValueError, match="count must be positive"):
        next_values("test:f", count)
    assert Sequence.objects.get(name="test:f").value == 1


# SQLite's in-memory test database is private to one connection: the race needs a real server.
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL: concurrent connections to one test database",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_callers_never_get_the_same_value():
    barrier = threading.Barrier(4)
    got: list[int] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            barrier.wait()
            for _ in range(25):
                with transaction.atomic():
                    got.append(next_value("test:race"))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(got) == list(range(1, 101))
