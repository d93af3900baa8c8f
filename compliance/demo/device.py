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

Those hold against CPU-bound load, whose threads a waking sleeper preempts. They do not hold against load that
sleeps and wakes as much as ours (a test suite that starts many short processes): its tasks are owed CPU time as
much as ours, and a wake-up then waits out another task's time slice, a few milliseconds, for many queries in a
row. A real accelerator's completion interrupt is served at once whatever the host is doing, so where the OS allows
it (Linux, as root, with CAP_SYS_NICE or with `ulimit -r` >= 1) the threads that wait for the device and report
to LoadGen run under the real-time policy SCHED_FIFO at its lowest priority (:func:`realtime`), above all ordinary
work; threads and processes they start are ordinary again (SCHED_RESET_ON_FORK), LoadGen's logging thread among
them. Those threads sleep almost all the time (in steps of SLEEP_STEP_S), so they take little CPU from anything
else; where the policy is refused they run as ordinary threads and the harness says so once on stderr.

On an idle machine the lateness has another source: an idle CPU halts, and on a virtual machine a halted CPU
runs again only when the host schedules it, a millisecond or more later for about 1% of wake-ups (p99 about 1 ms
after a 0.5 ms sleep, whatever the thread's policy). So while the device runs, where Linux allows it (root), the
harness holds a PM QoS request of 0 us (:func:`hold_cpu_latency`): an idle CPU polls instead of halting (p99 45-140
us). That costs no CPU time any task could have used, since a CPU polls only when it has nothing else to run. It
also flushes the file system's pending writes (``os.sync()``) before the timed part: what earlier runs wrote is
otherwise written back during it.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import deque
from collections.abc import Callable

SLEEP_STEP_S = 0.0005  # longest single sleep while waiting for a deadline
BACKUP_DELAY_S = 0.00005  # how late the thread in Device.run may be before a waiter reports for it
MAX_WAITERS = 4
REALTIME_PRIORITY = 1  # SCHED_FIFO's lowest: above every ordinary (SCHED_OTHER) task, below the kernel's own
REALTIME_ENV = "DEMO_DEVICE_PRIORITY"  # "normal": no real-time policy (bench/demo_noise.py measures the difference)

_realtime = threading.local()
_refused: list[str] = []  # why the real-time policy was refused, once per process


def _keep_first(reasons: list[str], why: str) -> None:
    """Record why a request was refused, unless an earlier refusal is already recorded."""
    if not reasons:
        reasons.append(why)


def realtime() -> bool:
    """Put the calling thread under SCHED_FIFO (once per thread); False where the OS refuses or lacks it, or
    ``DEMO_DEVICE_PRIORITY=normal``. The first refusal's reason is kept in :func:`refusal`."""
    done = getattr(_realtime, "done", None)
    if done is not None:
        return done
    _realtime.done = False
    if os.environ.get(REALTIME_ENV) == "normal":
        return False
    setscheduler = getattr(os, "sched_setscheduler", None)
    if setscheduler is None:
        _keep_first(_refused, "this OS has no sched_setscheduler")
        return False
    try:
        # 0: the calling thread (Linux); threads and processes it starts begin at normal priority
        setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(REALTIME_PRIORITY))
    except OSError as e:
        _keep_first(_refused, f"SCHED_FIFO refused: {e.strerror or e}")
        return False
    _realtime.done = True
    return True


def refusal() -> str | None:
    """Why the device's threads run at normal priority (None when they run real-time or were not asked to)."""
    return _refused[0] if _refused else None


CPU_LATENCY_FILE = "/dev/cpu_dma_latency"  # Linux PM QoS: the wake-up latency the CPUs' idle states may cost
_latency_refused: list[str] = []


def hold_cpu_latency() -> int | None:
    """Ask Linux to keep every CPU's idle state to one it leaves at once (a PM QoS request of 0 us, held while the
    returned descriptor is open; ``os.close`` it to release): an idle CPU then polls instead of halting, and on a
    virtual machine a halted CPU can take a millisecond or more to be running again when its thread wakes up.
    None where the request is refused (the reason kept in :func:`latency_refusal`) or with
    ``DEMO_DEVICE_PRIORITY=normal``."""
    if os.environ.get(REALTIME_ENV) == "normal":
        return None
    fd = None
    try:
        fd = os.open(CPU_LATENCY_FILE, os.O_WRONLY)
        os.write(fd, struct.pack("i", 0))
    except OSError as e:
        if fd is not None:
            os.close(fd)
        _keep_first(_latency_refused, f"{CPU_LATENCY_FILE}: {e.strerror or e}")
        return None
    return fd


def latency_refusal() -> str | None:
    """Why the CPUs' idle states were left as they are (None when held or not asked)."""
    return _latency_refused[0] if _latency_refused else None


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
    context manager: its waiters run inside the ``with`` block. With ``real_time``, every thread that waits for it
    (the waiters, and a caller of ``run()`` or ``submit()``) is put under :func:`realtime` for the rest of its life,
    and the ``with`` block holds :func:`hold_cpu_latency`."""

    def __init__(self, cpus: list[int | None] | None = None, real_time: bool = False):
        self.free_at = 0.0
        self.real_time = real_time  # the threads that wait for it take the real-time policy (:func:`realtime`)
        self._latency: int | None = None  # the PM QoS request held inside the ``with`` block (real_time only)
        self._jobs: deque[_Job] = deque()
        self._lock = threading.Condition()
        self._stopped = False
        self._waiters = [
            threading.Thread(target=self._wait, args=(cpu,), name=f"device-waiter-{i}", daemon=True)
            for i, cpu in enumerate(_cpus() if cpus is None else cpus)
        ]

    def __enter__(self) -> Device:
        self._latency = hold_cpu_latency() if self.real_time else None
        for waiter in self._waiters:
            waiter.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        for waiter in self._waiters:
            waiter.join()
        if self._latency is not None:
            os.close(self._latency)
            self._latency = None

    def reserve(self, seconds: float, arrival: float) -> float:
        """Book ``seconds`` of device time for work that arrived at ``arrival`` (perf_counter time): its deadline."""
        start = arrival if arrival > self.free_at else self.free_at
        self.free_at = start + seconds
        return self.free_at

    def submit(self, seconds: float, arrival: float, complete: Callable[[], None]) -> None:
        """Queue work and return; a waiter calls ``complete()`` at its deadline (at once if that has passed and
        nothing is queued)."""
        if self.real_time:
            realtime()
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
        if self.real_time:
            realtime()
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
        if self.real_time:
            realtime()
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
