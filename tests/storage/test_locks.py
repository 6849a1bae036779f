"""Per-conversation turn locks on real stores: two connections (threads) and two processes exclude each other."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from agent.bot.schemas import FaqEntry
from agent.storage.locks import FileLocks, PostgresLocks, ThreadLocks, lock_key
from agent.storage.store import Store

HOLD_S = 0.4


def _blocked_for(first: Store, second: Store, first_id: str, second_id: str) -> float:
    """Seconds `second` waited for its lock on `second_id` while `first` held `first_id`."""
    held = threading.Event()

    def holder() -> None:
        with first.conversation_lock(first_id):
            held.set()
            time.sleep(HOLD_S)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    started = time.perf_counter()
    with second.conversation_lock(second_id):
        waited = time.perf_counter() - started
    thread.join()
    return waited


def test_lock_kind_follows_the_store(store_url: str) -> None:
    store = Store(store_url)
    try:
        expected = PostgresLocks if store_url.startswith("postgresql") else FileLocks
        assert isinstance(store._locks, expected)
    finally:
        store.close()
    assert isinstance(Store("sqlite:///:memory:")._locks, ThreadLocks)


def test_same_conversation_waits_other_does_not(store_url: str) -> None:
    # Two Store objects = two engines/connections, as two worker processes would have.
    first, second = Store(store_url), Store(store_url)
    try:
        assert _blocked_for(first, second, "conv-a", "conv-a") >= HOLD_S * 0.8
        other = next(f"conv-{i}" for i in range(1000) if lock_key(f"conv-{i}") % 256 != lock_key("conv-a") % 256)
        assert _blocked_for(first, second, "conv-a", other) < HOLD_S * 0.5
    finally:
        first.close()
        second.close()


def test_several_ids_lock_in_sorted_order_without_deadlock(store_url: str) -> None:
    store = Store(store_url)
    done: list[int] = []

    def worker(n: int, ids: list[str]) -> None:
        for _ in range(5):
            with store.conversation_lock(*ids):
                time.sleep(0.005)
        done.append(n)

    threads = [
        threading.Thread(target=worker, args=(0, ["x", "y", "z"])),
        threading.Thread(target=worker, args=(1, ["z", "y", "x"])),
        threading.Thread(target=worker, args=(2, ["y", "x"])),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(done) == [0, 1, 2]
    finally:
        store.close()


def test_sqlite_lock_excludes_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = Store(url)
    script = (
        "import sys, time; from agent.storage.store import Store\n"
        f"s = Store({url!r})\n"
        "with s.conversation_lock('shared'):\n"
        "    print('locked', flush=True); time.sleep(1.0)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        with store.conversation_lock("shared"):
            waited = time.perf_counter() - started
        assert waited >= 0.5
    finally:
        child.wait(30)
        store.close()


def test_faq_revision_changes_on_every_faq_change(store_url: str) -> None:
    store = Store(store_url)
    try:
        seen = [store.faq_revision()]
        entry = FaqEntry(id="pets", question="Do you insure pets?", answer="Not yet.")
        store.add_faq(entry)
        seen.append(store.faq_revision())
        store.update_faq(entry.model_copy(update={"answer": "Soon."}))
        seen.append(store.faq_revision())
        store.delete_faq("pets")
        seen.append(store.faq_revision())
        assert len(set(seen)) == 4 and all(seen)
        other = Store(store_url)  # another process sees the same value
        assert other.faq_revision() == seen[-1]
        other.close()
    finally:
        store.close()
