"""ChunkBuilder: bounds, time flushes, and tickets that are never split."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.flow import Chunk, Ticket
from collector.forward.batcher import ChunkBuilder


def ticket(seq: int, read_ns: int = 100) -> Ticket:
    return Ticket(file_key="f", seq=seq, end_offset=seq, nbytes=1, read_time_ns=read_ns)


def test_byte_bound_closes_before_a_batch_that_would_overflow() -> None:
    b = ChunkBuilder(max_bytes=10, max_records=100, flush_interval=1.0)
    assert b.add("t", b"aaaa", 1, ticket(0), now=0) == []
    assert b.add("t", b"bbbb", 1, ticket(1), now=0) == []
    (full,) = b.add("t", b"cccc", 1, ticket(2), now=0)
    assert (full.entries, full.count, [t.seq for t in full.tickets]) == (b"aaaabbbb", 2, [0, 1])
    assert [c.entries for c in b.flush_all()] == [b"cccc"]


def test_a_batch_larger_than_the_bound_is_one_chunk() -> None:
    b = ChunkBuilder(max_bytes=4, max_records=100, flush_interval=1.0)
    (full,) = b.add("t", b"x" * 10, 3, ticket(0), now=0)
    assert (full.entries, full.count) == (b"x" * 10, 3)
    assert b.next_deadline() is None


def test_record_bound() -> None:
    b = ChunkBuilder(max_bytes=1000, max_records=5, flush_interval=1.0)
    assert b.add("t", b"a", 3, ticket(0), now=0) == []
    (full,) = b.add("t", b"b", 2, ticket(1), now=0)
    assert full.count == 5


def test_tags_have_their_own_chunks_and_time_flush() -> None:
    b = ChunkBuilder(max_bytes=1000, max_records=100, flush_interval=1.0)
    b.add("a", b"1", 1, ticket(0, read_ns=50), now=10.0)
    b.add("b", b"2", 1, ticket(1), now=10.5)
    b.add("a", b"3", 1, ticket(2, read_ns=40), now=10.6)
    assert b.next_deadline() == 11.0
    assert b.due(10.9) == []
    (due,) = b.due(11.0)
    assert (due.tag, due.entries, due.oldest_read_ns) == ("a", b"13", 40)
    assert b.next_deadline() == 11.5
    assert [c.tag for c in b.flush_all()] == ["b"]
    assert b.flush_all() == [] and b.next_deadline() is None


def test_ticket_without_records_still_travels() -> None:
    b = ChunkBuilder(max_bytes=1000, max_records=100, flush_interval=1.0)
    b.add("t", b"", 0, ticket(7), now=0)
    (chunk,) = b.flush_all()
    assert (chunk.count, [t.seq for t in chunk.tickets]) == (0, [7])


batches = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.binary(max_size=40), st.integers(1, 7)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(batches=batches, max_bytes=st.integers(1, 100), max_records=st.integers(1, 20))
def test_every_batch_lands_whole_in_exactly_one_chunk_in_order(
    batches: list[tuple[str, bytes, int]], max_bytes: int, max_records: int
) -> None:
    b = ChunkBuilder(max_bytes=max_bytes, max_records=max_records, flush_interval=5.0)
    chunks: list[Chunk] = []
    for seq, (tag, data, count) in enumerate(batches):
        chunks += b.add(tag, data, count, ticket(seq), now=seq * 0.5)
        chunks += b.due(seq * 0.5)
    chunks += b.flush_all()

    seen = [t.seq for c in chunks for t in c.tickets]
    assert sorted(seen) == list(range(len(batches))), "each ticket in exactly one chunk"
    for tag in ("a", "b"):
        mine = [c for c in chunks if c.tag == tag]
        want = [(s, d, n) for s, (t, d, n) in enumerate(batches) if t == tag]
        assert b"".join(c.entries for c in mine) == b"".join(d for _, d, _ in want)
        assert [t.seq for c in mine for t in c.tickets] == [s for s, _, _ in want]
    for c in chunks:
        sizes = [len(batches[t.seq][1]) for t in c.tickets]
        counts = [batches[t.seq][2] for t in c.tickets]
        assert c.count == sum(counts)
        if len(c.tickets) > 1:
            assert sum(sizes) <= max_bytes and sum(counts) <= max_records, "a chunk overflowed"
