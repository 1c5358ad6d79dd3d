"""Model-based test of the tailer, in the spirit of Vector's file-source model tests.

Hypothesis drives random histories of appends, partial writes, rotations by rename and by
copytruncate, deletes, receiver outages, checkpoint writes and crashes against the real
FileSource, and checks the delivered lines against a simple model: every complete line
is delivered at least once, in order per file within one process lifetime, and
duplicates happen only for lines that were in flight (unacked, or acked but not yet
checkpointed) at a crash.

Files may start with the same banner (longer than the fingerprint), as an app that
prints one at every start does: a shared start must never make a new file a copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from collector.flow import Ticket
from tests.tail.helpers import Harness

# Written at the head of a new file by `rotate_rename_with_banner`; repeats by design, so
# the model counts only the numbered lines.
BANNER = b"=" * 300


def _line(n: int) -> bytes:
    # Long enough that any file with one line has a fingerprint that can match a copy.
    return f"line-{n:06d}-".encode() + b"p" * 40


class TailerModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="tailer-model-"))
        # rotate_wait bounds how long a copy waits for its original's cut (4x + 1 s): long
        # enough here that a loaded machine does not turn a copytruncate into a duplicate.
        self.h = Harness(self.tmp, pattern="app.log*", rotate_wait=2.0)
        self.h.auto_ack = False
        self.log = self.h.logs / "app.log"
        self.log.touch()
        self.next = 0
        self.written: list[bytes] = []  # complete lines, in write order
        self.partial: bytes | None = None  # the unfinished line at the end of app.log
        self.outage = False
        self.copied = False  # a copytruncate copy exists and the original is not cut yet
        self.delivered: Counter[bytes] = Counter()
        self.may_repeat: set[bytes] = set()
        self.pending: list[tuple[Ticket, list[bytes]]] = []
        self.acked_unsaved: list[bytes] = []
        self.crashed = False
        self.loop = asyncio.new_event_loop()

    def teardown(self) -> None:
        self.h.source.close_all()
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the app writing logs --------------------------------------------------------------
    @precondition(lambda self: not self.copied)
    @rule(n=st.integers(1, 5))
    def append(self, n: int) -> None:
        data = b""
        if self.partial is not None:
            data += self.partial[len(self.partial) // 2 :] + b"\n"
            self.written.append(self.partial)
            self.partial = None
        for _ in range(n):
            line = _line(self.next)
            self.next += 1
            data += line + b"\n"
            self.written.append(line)
        with self.log.open("ab") as f:
            f.write(data)

    @precondition(lambda self: self.partial is None and not self.copied)
    @rule()
    def partial_write(self) -> None:
        self.partial = _line(self.next)
        self.next += 1
        with self.log.open("ab") as f:
            f.write(self.partial[: len(self.partial) // 2])

    def _complete_partial_before_rotation(self) -> None:
        # A logger writes whole lines before it rotates; a half line never spans files.
        if self.partial is not None:
            with self.log.open("ab") as f:
                f.write(self.partial[len(self.partial) // 2 :] + b"\n")
            self.written.append(self.partial)
            self.partial = None

    def _shift_rotated(self) -> None:
        rotated = sorted(
            (p for p in self.h.logs.iterdir() if p.name.startswith("app.log.")),
            key=lambda p: int(p.name.rsplit(".", 1)[1]),
            reverse=True,
        )
        for p in rotated:
            i = int(p.name.rsplit(".", 1)[1])
            os.rename(p, self.h.logs / f"app.log.{i + 1}")

    @precondition(lambda self: not self.copied)
    @rule()
    def rotate_rename(self) -> None:
        self._complete_partial_before_rotation()
        self._shift_rotated()
        os.rename(self.log, self.h.logs / "app.log.1")
        self.log.touch()

    @precondition(lambda self: not self.copied)
    @rule()
    def rotate_rename_with_banner(self) -> None:
        """Rename rotation where the app starts the new file with its constant banner."""
        self.rotate_rename()
        with self.log.open("ab") as f:
            f.write(BANNER + b"\n")

    @precondition(lambda self: not self.copied)
    @rule()
    def rotate_copytruncate(self) -> None:
        self.copy_for_truncation()
        self.truncate_copied()

    @precondition(lambda self: not self.copied)
    @rule()
    def copy_for_truncation(self) -> None:
        """logrotate's first half: the copy exists, the original is still whole."""
        self._complete_partial_before_rotation()
        self._shift_rotated()
        shutil.copyfile(self.log, self.h.logs / "app.log.1")
        self.copied = True

    @precondition(lambda self: self.copied)
    @rule()
    def truncate_copied(self) -> None:
        with self.log.open("r+b") as f:
            f.truncate(0)
        self.copied = False

    @precondition(lambda self: not self.outage and not self.copied)
    @rule()
    def delete_oldest_rotated(self) -> None:
        # Only once everything is read and acked: deleting unread data is a real loss.
        self.step()
        rotated = [p for p in self.h.logs.iterdir() if p.name.startswith("app.log.")]
        if rotated and not self.pending:
            max(rotated, key=lambda p: int(p.name.rsplit(".", 1)[1])).unlink()

    # -- the collector ---------------------------------------------------------------------
    @rule()
    def step(self) -> None:
        before = len(self.h.batches)
        self.loop.run_until_complete(self.h.step(rounds=2))
        for batch, ticket in zip(self.h.batches[before:], self.h.tickets[before:], strict=True):
            self.pending.append((ticket, list(batch.lines)))
        if not self.outage:
            self._ack_all()

    def _ack_all(self) -> None:
        for ticket, lines in self.pending:
            self.h.tracker.acked(ticket)
            self.delivered.update(lines)
            self.acked_unsaved.extend(lines)
        self.pending.clear()

    @rule()
    def toggle_outage(self) -> None:
        self.outage = not self.outage
        if not self.outage:
            self._ack_all()

    @rule()
    def save_checkpoint(self) -> None:
        self.h.store.save()
        self.acked_unsaved.clear()

    @rule()
    def crash_and_restart(self) -> None:
        self.crashed = True
        for _, lines in self.pending:
            self.may_repeat.update(lines)
        self.may_repeat.update(self.acked_unsaved)
        self.pending.clear()
        self.acked_unsaved.clear()
        self.h.source.close_all()
        self.h.batches.clear()
        self.h.tickets.clear()
        self.h.new_process()

    # -- what must hold --------------------------------------------------------------------
    @invariant()
    def no_unexpected_duplicates(self) -> None:
        dups = [line for line, n in self.delivered.items() if n > 1 and line != BANNER]
        unexpected = [d for d in dups if d not in self.may_repeat]
        assert not unexpected, f"{len(unexpected)} lines delivered twice without a crash"

    @invariant()
    def nothing_invented(self) -> None:
        known = set(self.written) | ({self.partial} if self.partial else set()) | {BANNER}
        assert set(self.delivered) <= known, "a delivered line was never written"

    def check_complete(self) -> None:
        if self.copied:
            self.truncate_copied()
        self.outage = False
        for _ in range(3):
            self.step()
        missing = [line for line in self.written if self.delivered[line] == 0]
        assert not missing, f"{len(missing)} complete lines never delivered"


class CompletingModel(TailerModel):
    """Ends every history with the receiver back and a few rounds, then checks completeness."""

    def teardown(self) -> None:
        try:
            self.check_complete()
        finally:
            super().teardown()


TestTailerModel = CompletingModel.TestCase
TestTailerModel.settings = settings(
    max_examples=int(os.environ.get("MODEL_EXAMPLES", "60")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
