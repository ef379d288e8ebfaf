"""Child processes of the bench: each in its own session, logged to a file, always stopped.

Every child gets PR_SET_PDEATHSIG, so that even a bench killed with SIGKILL takes its
children with it; `Children.stop_all` (run from a finally and on SIGTERM) stops them
gracefully first, then kills each process group that is left, by its id.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the finally in the bench still stops the children


class Child:
    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)  # its own session: the group id is its pid
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        """SIGTERM to the child itself (a gunicorn master then stops its own workers)."""
        if self.alive():
            try:
                self.process.terminate()
            except ProcessLookupError:
                pass

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.alive():
            self.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        # Whatever of its group is left (a gunicorn worker, say) goes now.
        self._signal_group(signal.SIGKILL)
        if self.alive():
            self.process.wait(5)
        self._log.close()


class Children:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: list[Child] = []

    def start(self, name: str, args: list[str], env: dict | None = None) -> Child:
        child = Child(name, args, {**os.environ, **(env or {})}, self.log_dir)
        self.running.append(child)
        return child

    def stop(self, *children: Child) -> None:
        for child in children:
            child.stop()
            if child in self.running:
                self.running.remove(child)

    def stop_all(self) -> None:
        # Signal everyone first so that they stop in parallel, then wait for each.
        for child in self.running:
            child.terminate()
        for child in list(reversed(self.running)):
            child.stop()
        self.running.clear()


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def wait_http_ok(url: str, child: Child, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited at start (code {child.process.returncode}):\n"
                               f"{child.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not answer {url} in {timeout_s:.0f} s ({last}):\n{child.log_tail()}")
