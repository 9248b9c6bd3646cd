"""Whole stacks shared by the tests that can share one: at most one running at a time, started once per kind.

Why: a stack (NATS, the database, six service processes) takes many seconds to start on a small machine; tests that
need no special environment use one stack between them and keep apart by their own ids. A kind is a label plus the
extra environment (`pytest.mark.stack_env`); the plugin orders tests so that each kind's tests run together, so each
kind starts once. A test that stopped or killed a process (fault tests do) gets it back before the next test runs:
a stopped service is started again, and a stack whose NATS or database is down is replaced by a fresh one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import people
from .stack import Stack

Kind = tuple[str, tuple[tuple[str, str], ...]]


def kind_of(label: str, env: Mapping[str, str]) -> Kind:
    return label, tuple(sorted(env.items()))


def _alive(proc: object) -> bool:
    poll = getattr(getattr(proc, "proc", None), "poll", None)
    return poll is not None and poll() is None


@dataclass
class StackPool:
    """Hands out the running stack of a kind; starting another kind stops the one before."""

    make_dir: Callable[[str], Path]
    ready_timeout: float = 60.0
    kind: Kind | None = None
    stack: Stack | None = None
    starts: list[Kind] = field(default_factory=list)

    def get(self, label: str, env: Mapping[str, str]) -> Stack:
        kind = kind_of(label, env)
        if self.stack is not None and self.kind == kind and self._heal(self.stack):
            return self.stack
        self.close()
        stack = Stack(var_dir=self.make_dir(label) / "var", extra_env=dict(env))
        stack.start(ready_timeout=self.ready_timeout)
        self.kind, self.stack = kind, stack
        self.starts.append(kind)
        return stack

    def _heal(self, stack: Stack) -> bool:
        """Starts again every service a test stopped; False when NATS or the database is down (start afresh)."""
        if stack.nats is None or not _alive(stack.nats.process):
            return False
        if stack.database is not None and stack.database.process is not None and not _alive(stack.database.process):
            return False
        stopped = [svc for svc in stack.services.values() if svc.process is None or not _alive(svc.process)]
        for svc in stopped:
            print(f"stack pool: starting {svc.name} again (a test stopped it)", file=sys.stderr)
            svc.start()
        for svc in stopped:
            svc.wait_ready(self.ready_timeout)
        return True

    def close(self) -> None:
        if self.stack is not None:
            self.stack.stop()
            people.forget(self.stack)
        self.kind, self.stack = None, None


__all__ = ["Kind", "StackPool", "kind_of"]
