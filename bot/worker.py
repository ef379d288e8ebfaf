"""Workers take chats from the event queue and handle their events one at a time, in order.

A worker holds a lease on a chat while it works and renews it after each event; a worker
that dies or hangs stops renewing, and the scheduler hands the chat back to the pool when
the lease runs out. An event is removed from the queue only after it was handled, so a
crash means it is handled again (at least once); the handler makes that harmless.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

import redis

from bot.event_queue import EventQueue, Lease, QueuedEvent, now_ms
from bot.line import LineApiError

log = logging.getLogger(__name__)

Handler = Callable[[QueuedEvent], None]


class Worker:
    def __init__(self, queue: EventQueue, handle: Handler, *, max_attempts: int = 5,
                 batch: int = 20, name: str | None = None):
        self.queue = queue
        self.handle = handle
        self.max_attempts = max_attempts
        self.batch = batch
        self.name = name or f"worker-{os.getpid()}"
        self.handled = 0

    def run(self, stop: threading.Event) -> None:
        log.info("%s started", self.name)
        while not stop.is_set():
            try:
                self.run_once(stop)
            except redis.exceptions.RedisError as exc:
                log.warning("%s: Redis error (%s); retrying in 1 s", self.name, exc)
                stop.wait(1.0)
            except Exception:  # a worker thread must never end while the process lives
                log.exception("%s: unexpected error; going on in 1 s", self.name)
                stop.wait(1.0)
        log.info("%s stopped after %d events", self.name, self.handled)

    def run_once(self, stop: threading.Event | None = None) -> bool:
        """Work on one chat if one is due; otherwise wait a little for work. True if it worked."""
        lease, due_in = self.queue.claim()
        if lease is None:
            self.queue.wait_for_work(1.0 if due_in is None else due_in)
            return False
        self.work_on(lease, stop)
        return True

    def work_on(self, lease: Lease, stop: threading.Event | None = None) -> None:
        release_at: int | None = None
        try:
            for _ in range(self.batch):
                if stop is not None and stop.is_set():
                    break
                head = self.queue.head(lease.chat)
                if head is None:
                    break
                member, event = head
                # An event that just arrived may yet be overtaken by an earlier one still in
                # flight from LINE: give concurrent deliveries the order window to land.
                settles_at = event.received + self.queue.order_window_ms
                if settles_at > now_ms():
                    release_at = settles_at
                    break
                retry_at = self._handle_one(lease, member, event)
                if retry_at is not None:
                    release_at = retry_at
                    break
                if not self.queue.renew(lease):
                    log.warning("%s lost its lease on %s; another worker has it now", self.name, lease.chat)
                    return
        finally:
            self.queue.release(lease, release_at)

    def _handle_one(self, lease: Lease, member: bytes, event: QueuedEvent) -> int | None:
        """Handle and acknowledge one event; returns when to try again if it failed."""
        attempts = self.queue.begin_attempt(event)
        if attempts > self.max_attempts:
            log.error("giving up on event %s for %s after %d attempts", event.id, event.chat, attempts - 1)
            self.queue.bury(lease.chat, member, event, f"failed {attempts - 1} times")
            return None
        try:
            with self._renewing(lease):
                self.handle(event)
        except LineApiError as exc:
            if not exc.retryable:
                log.error("event %s for %s: LINE refused the answer (%s); not retrying", event.id, event.chat, exc)
                self.queue.bury(lease.chat, member, event, str(exc))
                return None
            log.warning("event %s for %s: LINE unavailable (%s); attempt %d", event.id, event.chat, exc, attempts)
            return now_ms() + self._backoff_ms(attempts)
        except Exception:
            log.exception("event %s (%s) for %s failed on attempt %d", event.id, event.type, event.chat, attempts)
            return now_ms() + self._backoff_ms(attempts)
        self.queue.ack(lease.chat, member, event)
        self.handled += 1
        return None

    @contextlib.contextmanager
    def _renewing(self, lease: Lease):
        """Keep the lease while one event takes long (LINE slow, retrying): renew it in the background."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.queue.lease_ms / 3000):
                try:
                    if not self.queue.renew(lease):
                        return
                except redis.exceptions.RedisError as exc:
                    log.warning("%s could not renew its lease on %s: %s", self.name, lease.chat, exc)

        keeper = threading.Thread(target=renew, name=f"{self.name}-lease", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()

    @staticmethod
    def _backoff_ms(attempts: int) -> int:
        return min(60_000, 500 * 2 ** (attempts - 1))


@dataclass
class Job:
    """A periodic job. Every worker process runs a scheduler: a job is either idempotent, so two
    schedulers running it do no harm, or takes a lock (the journey sender)."""

    name: str
    every_s: float
    run: Callable[[], object]
    next_at: float = 0.0
    # A job that may take long (sending the day's journey messages) runs in a thread of its own,
    # one run at a time, so that handing back the chats of stopped workers is never held up.
    background: bool = False
    running: threading.Thread | None = None


class Scheduler:
    """Hands back the chats of workers that stopped renewing, and runs periodic jobs
    (transcript retention, reminders…)."""

    def __init__(self, queue: EventQueue, *, every_s: float = 1.0, jobs: list[Job] | None = None):
        self.queue = queue
        self.every_s = every_s
        self.jobs = jobs or []

    def tick(self) -> None:
        reclaimed = self.queue.reclaim_expired()
        if reclaimed:
            log.warning("reclaimed %d chat(s) from workers that stopped: %s", len(reclaimed),
                        ", ".join(reclaimed[:5]))
        now = time.monotonic()
        for job in self.jobs:
            if now < job.next_at or (job.running is not None and job.running.is_alive()):
                continue
            job.next_at = now + job.every_s
            if job.background:
                job.running = threading.Thread(target=self._run, args=(job,), name=f"job: {job.name}", daemon=True)
                job.running.start()
            else:
                self._run(job)

    @staticmethod
    def _run(job: Job) -> None:
        try:
            job.run()
        except Exception:  # one failing job must not stop the others or the reclaiming
            log.exception("scheduler job %s failed; next try in %.0f s", job.name, job.every_s)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except redis.exceptions.RedisError as exc:
                log.warning("scheduler: Redis error (%s)", exc)
            stop.wait(self.every_s)


def run_threads(targets: list[tuple[str, Callable[[threading.Event], None]]],
                stop: threading.Event) -> list[threading.Thread]:
    threads = [threading.Thread(target=fn, args=(stop,), name=name, daemon=True) for name, fn in targets]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
