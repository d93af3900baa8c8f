"""The demo's simulated accelerator: a timeline of device work that the harness waits on, instead of computing.

A query (or an Offline batch) costs a fixed device time. Its completion is due at an absolute deadline,
``max(arrival, device free) + cost``, and is reported to LoadGen when that deadline passes. So the time a run
takes, and the metric LoadGen reports, depend on the device times and not on how much CPU the process gets; and
lateness does not accumulate, since each deadline is reckoned from the timeline, not from when a thread woke up.

What remains is the lateness of the wake-up at a deadline. On a busy machine a sleeping thread wakes up a
millisecond or more late for a few percent of its sleeps (its CPU is running another task's time slice), which
moves the tail percentiles LoadGen reports (SingleStream p90, MultiStream p99) by more than the 10% the compliance
tests allow. Three things keep it small (bench/demo_noise.py measures them):

* waits are taken in sleeps of at most SLEEP_STEP_S: a short sleep wakes up on time far more often than a long one;
* *waiters*, one thread per CPU (pinned to it where the OS allows), sleep until the same deadline and the first
  one awake reports the completion: a late wake-up on one CPU rarely coincides with one on another;
* a query that LoadGen's issuing thread waits for itself (:meth:`Device.run`, SingleStream and MultiStream) is
  reported by that thread, which then issues the next query without handing the GIL to another thread (a hand-off
  to a thread that must first be scheduled is the other source of millisecond delays); the waiters only step in
  when it is more than BACKUP_DELAY_S late.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable

SLEEP_STEP_S = 0.0005  # longest single sleep while waiting for a deadline
BACKUP_DELAY_S = 0.00005  # how late the thread in Device.run may be before a waiter reports for it
MAX_WAITERS = 4


def _cpus() -> list[int | None]:
    """One entry per waiter: the CPU it is pinned to, or None where the OS cannot tell or pin."""
    try:
        cpus: list[int | None] = list(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return [None] * min(MAX_WAITERS, os.cpu_count() or 1)
    return cpus[:MAX_WAITERS] or [None]


def _sleep_until(deadline: float, job: _Job) -> None:
    """Sleep until ``time.perf_counter()`` reaches ``deadline``, in short sleeps; stop early once ``job`` is taken."""
    clock, sleep, step = time.perf_counter, time.sleep, SLEEP_STEP_S
    while not job.taken:
        left = deadline - clock()
        if left <= 0:
            return
        sleep(left if left < step else step)


class _Job:
    __slots__ = ("due", "complete", "taken")

    def __init__(self, due: float, complete: Callable[[], None]):
        self.due, self.complete, self.taken = due, complete, False  # due: when the waiters report it


class Device:
    """One device that does one piece of work at a time, in arrival order, and reports each piece when done.

    ``submit()`` queues work that the waiters report; ``run()`` does it in the calling thread. Use the device as a
    context manager: its waiters run inside the ``with`` block."""

    def __init__(self, cpus: list[int | None] | None = None):
        self.free_at = 0.0
        self._jobs: deque[_Job] = deque()
        self._lock = threading.Condition()
        self._stopped = False
        self._waiters = [
            threading.Thread(target=self._wait, args=(cpu,), name=f"device-waiter-{i}", daemon=True)
            for i, cpu in enumerate(_cpus() if cpus is None else cpus)
        ]

    def __enter__(self) -> Device:
        for waiter in self._waiters:
            waiter.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        for waiter in self._waiters:
            waiter.join()

    def reserve(self, seconds: float, arrival: float) -> float:
        """Book ``seconds`` of device time for work that arrived at ``arrival`` (perf_counter time): its deadline."""
        start = arrival if arrival > self.free_at else self.free_at
        self.free_at = start + seconds
        return self.free_at

    def submit(self, seconds: float, arrival: float, complete: Callable[[], None]) -> None:
        """Queue work and return; a waiter calls ``complete()`` at its deadline (at once if that has passed and
        nothing is queued)."""
        deadline = self.reserve(seconds, arrival)
        with self._lock:
            immediate = not self._jobs and deadline <= time.perf_counter()
            if not immediate:
                self._jobs.append(_Job(deadline, complete))
                self._lock.notify_all()
        if immediate:
            complete()

    def run(self, seconds: float, arrival: float, complete: Callable[[], None]) -> None:
        """Do the work in the calling thread: wait for its deadline and call ``complete()``, unless a waiter does
        so because this thread woke up more than BACKUP_DELAY_S late."""
        deadline = self.reserve(seconds, arrival)
        if deadline <= time.perf_counter():  # nothing to wait for (a cached answer): no waiter needed
            complete()
            return
        job = _Job(deadline + BACKUP_DELAY_S, complete)
        if self._waiters:
            with self._lock:
                self._jobs.append(job)
                self._lock.notify_all()
        _sleep_until(deadline, job)
        if self._claim(job):
            complete()

    def _claim(self, job: _Job) -> bool:
        with self._lock:
            if job.taken:
                return False
            job.taken = True
            if self._jobs and self._jobs[0] is job:
                self._jobs.popleft()
            else:
                try:
                    self._jobs.remove(job)
                except ValueError:  # run() without waiters: never queued
                    pass
            return True

    def _wait(self, cpu: int | None) -> None:
        if cpu is not None:
            try:
                os.sched_setaffinity(0, {cpu})  # on Linux this pins the calling thread only
            except OSError:
                pass
        jobs, lock = self._jobs, self._lock
        while True:
            with lock:
                while not jobs:
                    if self._stopped:
                        return
                    lock.wait()
                job = jobs[0]
            _sleep_until(job.due, job)
            if self._claim(job):
                job.complete()
