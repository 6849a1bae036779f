"""Arrival tickets on real stores: order across workers, client numbers, and a worker that dies holding tickets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.storage.arrival import ArrivalRow, ArrivalTickets
from agent.storage.store import Store


@pytest.fixture()
def two_workers(store_url: str) -> Iterator[list[ArrivalTickets]]:
    """Two ticket holders on two engines, as two worker processes would have."""
    stores = [Store(store_url), Store(store_url)]
    tickets = [ArrivalTickets(store.engine, seq_wait_s=0.3) for store in stores]
    yield tickets
    for t, store in zip(tickets, stores, strict=True):
        t.close()
        store.close()


def test_a_ticket_waits_for_an_earlier_one_in_another_worker(two_workers: list[ArrivalTickets]) -> None:
    a, b = two_workers
    first, second, third = a.take("c"), b.take("c"), a.take("c")
    assert first.id < second.id < third.id
    assert a.ready([first, third]) == {first.id}  # `third` comes after b's `second`
    assert b.ready([second]) == set()
    a.done([first])
    assert b.ready([second]) == {second.id}
    assert a.ready([a.take("other")]) != set()  # other conversations never wait


def test_numbered_tickets_follow_the_numbers_not_the_arrival(two_workers: list[ArrivalTickets]) -> None:
    a, b = two_workers
    three, one, two = a.take("n", seq=3), b.take("n", seq=1), b.take("n", seq=2)
    assert a.ready([three]) == set()
    assert b.ready([one, two]) == {one.id, two.id}  # answered together, in number order
    b.done([one, two])
    assert a.ready([three], answered={"n": 2}) == {three.id}
    a.done([three])
    five = a.take("n", seq=5)
    assert a.ready([five], answered={"n": 3}) == set()  # 4 has not arrived: wait for it ...
    time.sleep(0.35)
    assert a.ready([five], answered={"n": 3}) == {five.id}  # ... at most seq_wait_s


CHILD = """
import sys, time
from agent.storage.arrival import ArrivalTickets
from agent.storage.store import Store
tickets = ArrivalTickets(Store(sys.argv[1]).engine)
tickets.take("held")
print("taken", flush=True)
time.sleep(120)
"""


def test_the_tickets_of_a_killed_worker_stop_holding_at_once(store_url: str) -> None:
    store = Store(store_url)
    mine = ArrivalTickets(store.engine)
    child = subprocess.Popen([sys.executable, "-c", CHILD, store_url], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "taken"
        ticket = mine.take("held")
        assert mine.ready([ticket]) == set()  # the child's ticket came first and its worker is alive
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        started = time.monotonic()
        while mine.ready([ticket]) != {ticket.id}:
            assert time.monotonic() - started < 1.0, "the dead worker's ticket still holds the conversation"
            time.sleep(0.02)
        mine.done([ticket])  # which also clears the dead worker's ticket
        with Session(store.engine) as session:
            assert session.scalar(select(func.count()).select_from(ArrivalRow)) == 0
    finally:
        if child.poll() is None:
            child.kill()
        mine.close()
        store.close()
