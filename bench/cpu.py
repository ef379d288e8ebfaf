"""Where the CPU went during a phase: per child of the bench (by session), and everything else.

Each child of the bench runs in its own session (a gunicorn master with its workers, say), so
summing utime+stime over the processes of that session gives its CPU time. What the machine
spent beyond the bench's own processes is other load, which makes a run on a busy machine
show itself instead of passing for slowness of the systems measured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _proc_times() -> dict[int, tuple[int, int, float]]:
    """pid -> (session, ppid, cpu seconds) for every process we may read."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2:].split()
        try:
            ppid, session = int(fields[1]), int(fields[3])
            cpu = (int(fields[11]) + int(fields[12])) * TICK_S
        except (IndexError, ValueError):
            continue
        out[int(entry.name)] = (session, ppid, cpu)
    return out


def _machine_busy_s() -> float:
    with open("/proc/stat") as fp:
        values = [int(v) for v in fp.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) * TICK_S


@dataclass
class Snapshot:
    groups: dict[str, float]
    machine_s: float


class CpuMeter:
    """Name the sessions (and single pids) to account for, then take snapshots."""

    def __init__(self):
        self.sessions: dict[int, str] = {}
        self.pids: dict[int, str] = {}

    def add_session(self, session_id: int, name: str) -> None:
        self.sessions[session_id] = name

    def add_pid(self, pid: int, name: str) -> None:
        self.pids[pid] = name

    def snapshot(self) -> Snapshot:
        groups: dict[str, float] = {}
        for pid, (session, _ppid, cpu) in _proc_times().items():
            name = self.pids.get(pid) or self.sessions.get(session)
            if name:
                groups[name] = groups.get(name, 0.0) + cpu
        return Snapshot(groups, _machine_busy_s())


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds per group between two snapshots, plus 'other' (the machine minus ours)."""
    names = set(before.groups) | set(after.groups)
    used = {n: max(0.0, after.groups.get(n, 0.0) - before.groups.get(n, 0.0)) for n in names}
    used["other"] = max(0.0, (after.machine_s - before.machine_s) - sum(used.values()))
    return used
