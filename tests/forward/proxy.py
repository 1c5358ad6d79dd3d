"""A fault-injecting TCP proxy between the client and the real FluentServer.

FluentServer acks every chunk it parses, so "the receiver got the data but the ack never
came back" and "the link died mid-stream" need something in the middle: this proxy runs
in the test's event loop and can swallow the server's replies or cut every connection.
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.forward.listener import Listener


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.hold_replies = False  # True: server→client bytes are dropped (acks withheld)
        self.connections = 0
        self.replies_dropped = 0
        self.sent: list[bytearray] = []  # client→server bytes, one buffer per connection
        self._listener = Listener(self._accept)
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> FaultProxy:
        await self._listener.start()
        return self

    @property
    def port(self) -> int:
        return self._listener.port

    def cut(self) -> None:
        """Reset every open connection (both sides)."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        await self._listener.close()

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.transport.abort()
            return
        self._writers.update((c_writer, s_writer))
        sent = bytearray()
        self.sent.append(sent)
        up = asyncio.create_task(self._pipe(c_reader, s_writer, replies=False, record=sent))
        down = asyncio.create_task(self._pipe(s_reader, c_writer, replies=True))
        try:
            await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for writer in (c_writer, s_writer):
                writer.transport.abort()
                self._writers.discard(writer)
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        replies: bool,
        record: bytearray | None = None,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if replies and self.hold_replies:
                    self.replies_dropped += len(data)
                    continue
                if record is not None:
                    record += data
                writer.write(data)
                await writer.drain()
