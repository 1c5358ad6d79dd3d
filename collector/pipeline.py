"""The wiring: sources -> records -> Forward output -> acks -> checkpoints.

Everything that owns a task is started here, in one TaskGroup, and stopped here. Read
`Pipeline.run` for the life of the process, including the shutdown drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from collector.acks import AckTracker
from collector.config import Config
from collector.derived import DerivedMetrics
from collector.flow import Chunk, InFlight, LineBatch, Ticket
from collector.forward.output import ForwardOutput
from collector.metrics import internal as m
from collector.metrics.health import Health
from collector.metrics.server import MetricsServer
from collector.redact import Redactor
from collector.redact.counters import RedactCounters
from collector.route.metadata import pod_metadata
from collector.route.records import SourceRoute
from collector.tail.checkpoint import CheckpointStore
from collector.tail.counters import TailCounters
from collector.tail.source import FileSource

log = logging.getLogger("collector.pipeline")

# What each file source counts (tail/counters.py): the collector's own metrics, bundled
# here in the wiring because metrics/ does not import tail/ (tests/test_layout.py).
REDACT = RedactCounters(redactions=m.REDACTIONS)
TAIL = TailCounters(
    files_open=m.FILES_OPEN,
    files_waiting=m.FILES_WAITING,
    rotations=m.ROTATIONS,
    file_lag_bytes=m.FILE_LAG_BYTES,
    tail_paused=m.TAIL_PAUSED,
)


def _secrets(cfg: Config) -> list[str]:
    """The collector's own secret files, which no source may ship whatever links lead there
    (the HMAC key would make `hmac` tokens reversible)."""
    sec = cfg.forward.security
    files = [cfg.redact.hmac_key_file, cfg.forward.tls.key_file]
    files += [sec.shared_key_file, sec.password_file] if sec is not None else []
    return [f for f in files if f]


class Pipeline:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.inflight = InFlight(int(cfg.pipeline.max_in_flight_bytes))
        self.store = CheckpointStore(cfg.checkpoint_dir)
        self.tracker = AckTracker()
        self.redactor = Redactor(cfg.redact, counters=REDACT)
        self.health = Health(float(cfg.metrics.ready_window), float(cfg.metrics.live_window))
        self.derived = DerivedMetrics(cfg.metrics.derived)
        # Label values (file paths among them) leave through /metrics: scrubbed there.
        self.metrics_server = (
            MetricsServer(cfg.metrics, self.health, scrub=self.redactor.redact_text)
            if cfg.metrics.enabled
            else None
        )
        self.output = ForwardOutput(cfg.forward, self._on_ack, self._on_drop, counters=m.FORWARD)
        # Labels and annotations leave the pod with every record: redacted once, here.
        pod_meta = self.redactor.redact_record(pod_metadata(cfg.metadata))
        self.routes = {
            s.name: SourceRoute(s, self.redactor, cfg.metadata, pod_meta, m.ROUTE)
            for s in cfg.sources
        }
        # A trickle is read once per flush_interval (its chunk would wait that long anyway).
        gather = float(cfg.forward.flush_interval)
        secrets = _secrets(cfg)
        self.sources = [
            FileSource(
                s,
                self.store,
                self.tracker,
                self.inflight,
                self._process,
                secrets,
                gather,
                counters=TAIL,
            )
            for s in cfg.sources
        ]
        self._stop_reading = asyncio.Event()
        # Wake-ups for the background duties, so that an idle sidecar sleeps: a batch was
        # acked (a checkpoint may be due), work arrived (the gauges of work in flight move).
        # The output's flusher sleeps the same way until a chunk is open.
        self._acked = asyncio.Event()
        self._work = asyncio.Event()
        m.IN_FLIGHT_LIMIT.set(int(cfg.pipeline.max_in_flight_bytes))
        # Read at scrape time from plain attributes (atomic under the GIL): no timer needed.
        m.IN_FLIGHT_BYTES.set_function(lambda: self.inflight.used)
        m.CHECKPOINT_AGE.set_function(lambda: time.time() - self.store.last_saved)

    # -- the life of the process ---------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then drain: read to EOF, ship, await acks, checkpoint."""
        self.store.load()
        self.health.config_loaded = True
        if self.metrics_server is not None:
            self.metrics_server.start()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.output.run())
                background = [
                    tg.create_task(self._checkpointer()),
                    tg.create_task(self._housekeeping()),
                ]
                readers = [tg.create_task(s.run(self._stop_reading)) for s in self.sources]
                self.health.sources_open = True
                log.info("collector started", extra={"sources": [s.name for s in self.cfg.sources]})
                await stop.wait()
                await self._drain(readers)
                for task in background:
                    task.cancel()
                self.output.close()
        finally:
            self._save_checkpoint()
            self.derived.close()
            if self.metrics_server is not None:
                self.metrics_server.stop()

    async def _drain(self, readers: list[asyncio.Task[None]]) -> None:
        timeout = float(self.cfg.pipeline.shutdown_timeout)
        deadline = time.monotonic() + timeout
        log.info(
            "stopping: reading files to EOF and waiting for acks", extra={"timeout_s": timeout}
        )
        self._stop_reading.set()
        _, late = await asyncio.wait(readers, timeout=timeout)
        for task in late:
            task.cancel()
        acked = await self.output.drain(deadline)
        if acked and not late:
            log.info("drained: everything read was acked")
        else:
            log.warning(
                "shutdown deadline reached; unacked records stay un-checkpointed "
                "and are sent again at the next start",
                extra={"pending_chunks": self.output.pending},
            )

    # -- the hot path --------------------------------------------------------------------
    async def _process(self, batch: LineBatch) -> None:
        ticket = self.tracker.issue(
            batch.file_key, batch.end_offset, batch.nbytes, batch.read_time_ns
        )
        self._work.set()
        if not batch.lines:
            self._settle(ticket)
            return
        route = self.routes[batch.source]
        records, times = route.records(batch)
        self.derived.observe(batch.source, records)
        groups = route.groups(batch.path, records, times)
        if not groups:
            self._settle(ticket)
            return
        ticket.parts = len(groups)
        # A chunk this batch opens counts flush_interval from when its bytes were noticed.
        opened = batch.noticed or time.monotonic()
        for tag, recs, tms in groups:
            await self.output.send(tag, recs, tms, ticket, opened=opened)

    def _on_ack(self, chunk: Chunk) -> None:
        self._release(chunk)
        self.health.delivered()

    def _on_drop(self, chunk: Chunk) -> None:
        """retry_limit gave up on `chunk` (an explicit, counted policy): move past it."""
        self._release(chunk)

    def _release(self, chunk: Chunk) -> None:
        for ticket in chunk.tickets:
            ticket.parts -= 1
            if ticket.parts == 0:
                self._settle(ticket)

    def _settle(self, ticket: Ticket) -> None:
        self.tracker.acked(ticket)
        self._acked.set()
        self.inflight.release(ticket.nbytes)
        m.DELIVERY_LATENCY.observe(max(0.0, (time.time_ns() - ticket.read_time_ns) / 1e9))

    # -- background duties ---------------------------------------------------------------
    # Each sleeps on its event while there is nothing to do: an idle sidecar in every pod
    # should cost next to nothing, so no duty runs on a timer that an event already covers.
    async def _checkpointer(self) -> None:
        """Write the checkpoint after acks moved it, at most once per checkpoint_interval.

        Live files are touched (so their entries do not expire) on the same wake-up, or
        every _TOUCH_EVERY seconds when nothing is acked: expiry counts in days.
        """
        interval = float(self.cfg.pipeline.checkpoint_interval)
        while True:
            await _wait(self._acked, _TOUCH_EVERY)
            await asyncio.sleep(interval)  # the write rate's bound; acks gather meanwhile
            live: set[str] = set()
            for source in self.sources:
                live |= source.live_keys()
            for key in live:
                self.store.touch(key)
            self.store.expire(float(self.cfg.pipeline.checkpoint_expiry), live)
            if self.store.dirty:
                await asyncio.to_thread(self._write_checkpoint, self.store.snapshot())

    def _save_checkpoint(self) -> None:
        if self.store.dirty:
            self._write_checkpoint(self.store.snapshot())

    def _write_checkpoint(self, data: bytes) -> None:
        try:
            self.store.write(data)
            m.CHECKPOINT_WRITES.inc()
        except OSError as e:
            m.CHECKPOINT_ERRORS.inc()
            log.error(
                "cannot write checkpoint; will retry",
                extra={"path": self.store.path, "error": e.strerror},
            )

    async def _housekeeping(self) -> None:
        """Liveness beat, lag gauges, idle derived series.

        Every second while records are in flight; when nothing is, the gauges hold still, so
        only the liveness beat is due (three per live_window) unless work arrives first.
        """
        idle_beat = float(self.cfg.metrics.live_window) / 3
        while True:
            self.health.beat()
            self.health.set_pending(self.output.pending)
            oldest = self.tracker.oldest_unacked_ns()
            m.OLDEST_UNACKED_AGE.set(0 if oldest is None else (time.time_ns() - oldest) / 1e9)
            self.derived.expire(time.time())
            if oldest is not None or self.output.pending:
                await asyncio.sleep(1.0)
            else:
                await _wait(self._work, idle_beat)


# Live files' checkpoint entries are touched at least this often (they expire in days).
_TOUCH_EVERY = 60.0


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Until `event` is set (then cleared for the next round) or `timeout` passes."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
    event.clear()
