"""The redactor: the pre-scan that picks lines, and the careful walk of one record.

Every key, string and number of a flagged record is visited. Keys decide first (keys.py:
SAD keys lose their value, PAN keys have their digits masked whatever the checksum,
expiry keys have date-shaped values masked when the record holds a full PAN (by
`redact.expiry`), card-ish keys admit 12-digit Maestro numbers); then every string goes
through `TextRedactor` and every number long enough to be a card is checked. The walk
never raises: a record it cannot finish is replaced by a placeholder (fail closed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from collector.redact.cards import MAX_LENGTH, MIN_LENGTH, is_pan
from collector.redact.config import RedactConfig
from collector.redact.counters import UNCOUNTED, RedactCounters
from collector.redact.detect import is_date, pan_value_digits
from collector.redact.keys import (
    EXPIRY_NAMES,
    ISO_FIELD_KEY,
    PAN_NAMES,
    SAD_NAMES,
    KeyClassifier,
    KeyKind,
    qualified,
)
from collector.redact.mask import PanMasker, load_hmac_key
from collector.redact.scan import (
    compile_custom_scan,
    flagged_lines,
    load_prefilter,
)
from collector.redact.shortcut import JsonShortcut
from collector.redact.text import REDACTED, Counts, CustomPattern, TextRedactor

log = logging.getLogger("collector.redact")

PLACEHOLDER_KEY = "_redaction"
PLACEHOLDER_REASON_KEY = "_redaction_reason"
PLACEHOLDER_MESSAGE = "[record withheld: redaction failed closed]"
TEXT_FAIL_CLOSED = "[REDACTED: redaction failed closed]"

_MIN_CARD_INT = 10 ** (MIN_LENGTH - 1)
_MAX_CARD_INT = 10**MAX_LENGTH
_DIGIT = re.compile(r"[0-9]")
_KEY_CACHE_LIMIT = 4096
_KEY_CACHE_MAX_LEN = 64


def _is_iso(key: Any) -> bool:
    """Whether a PAN key is an ISO 8583 field-2 key (its value may open with LLVAR)."""
    return isinstance(key, str) and _iso_key(key)


@lru_cache(maxsize=1024)
def _iso_key(key: str) -> bool:
    return ISO_FIELD_KEY.fullmatch(key) is not None


# Under a card object (`"card": {"number": …}`, Stripe's `card[number]`), these say PAN.
_CARD_NUMBER_KEYS = frozenset(("number", "Number", "NUMBER", "num", "no", "pan", "PAN"))


def _number_is_pan(value: float) -> bool:
    """Whether a JSON number reads as a card (12-digit Maestro included: the walk decides
    with the key's context, this only decides whether the walk is needed)."""
    if isinstance(value, float):
        if not value.is_integer():
            return False
        value = int(value)
    return abs(value) < _MAX_CARD_INT and is_pan(str(abs(value)), card_context=True)


class _FailClosed(Exception):
    """Raised inside the walk; `reason` is a fixed word, never record content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Walk:
    """Per-record state: counts by rule, the strings the text passes must see, and the
    expiry values waiting to know whether the record holds a full PAN."""

    __slots__ = ("counts", "expiry_keys", "expiry_texts", "needs", "pans_before", "pending")

    def __init__(self, needs: set[str], counts: Counts | None = None) -> None:
        self.counts: Counts = {} if counts is None else counts
        self.needs = needs
        self.pans_before = self.pans()
        # (container, key): values under expiry keys; strings with expiry labels
        self.expiry_keys: list[tuple[Any, Any]] = []
        self.expiry_texts: list[tuple[Any, Any, bool]] = []
        self.pending: list[bool] = []

    def count(self, rule: str, n: int = 1) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + n

    def pans(self) -> int:
        return self.counts.get("pan", 0) + self.counts.get("track", 0)

    def text(self, redactor: TextRedactor, container: Any, key: Any, value: str, ctx: bool) -> str:
        """`value` through the text pass, remembering it when an expiry waits on a PAN."""
        before = len(self.pending)
        out = redactor.redact_flagged(value, self.counts, ctx, None, self.pending)
        if len(self.pending) > before:
            self.expiry_texts.append((container, key, ctx))
        return out


class _Collected:
    """What one pass over a record found: its strings, where they sit, its size."""

    __slots__ = (
        "actions",
        "context",
        "expiry",
        "keys",
        "locations",
        "pans",
        "plain",
        "size",
        "values",
    )

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.values: list[str] = []  # string values, in the order of `locations`
        self.locations: list[tuple[Any, Any]] = []  # (container, key) of each string value
        self.context: set[int] = set()  # indices of values under a card-ish key
        self.actions: list[tuple[Any, Any, str]] = []  # SAD strings by key
        self.expiry: list[tuple[Any, Any]] = []  # strings under expiry keys
        self.pans: set[int] = set()  # indices of `values` under PAN keys
        self.size = 0
        # True while no key is special and no number could be a card: then only strings
        # can change, and they can be patched in place without rebuilding the record.
        self.plain = True


class Redactor:
    """Finds and masks card data (PAN, SAD, tracks, expiry) per the `redact:` config."""

    def __init__(self, cfg: RedactConfig, counters: RedactCounters = UNCOUNTED) -> None:
        self.cfg = cfg
        self._m = counters
        self.mask = PanMasker(cfg.pan_policy, load_hmac_key(cfg))
        sad_names = [*SAD_NAMES, *cfg.extra_sensitive_keys]
        expiry_names = [*EXPIRY_NAMES, *cfg.extra_expiry_keys]
        custom = [CustomPattern(r.name, r.pattern, r.replacement) for r in cfg.custom_rules]
        labels = [*sad_names, *expiry_names, *PAN_NAMES]
        prefilter = load_prefilter(labels)
        # The C pre-scan picks the lines (its vector form where the CPU has one, else its
        # byte loop) and the strings of a record the careful pass must see.
        self._line_scan: Callable[[list[bytes]], list[int]] | None = None
        if prefilter is not None:
            self._line_scan = prefilter.candidates
        else:
            log.warning(
                "redaction pre-scan: the C pre-scan (collector/redact/_prefilter.c) is not "
                "built; every line is walked (slow, not less safe)"
            )
        self.keys = KeyClassifier(sad_names, expiry_names)
        self.text = TextRedactor(self.mask, self.keys, labels, custom, cfg.expiry, prefilter)
        self._expiry = cfg.expiry
        # Custom rules act on any string the walk visits, so with them every flagged
        # record is walked; without, JSON lines holding only cards in strings are not.
        self._shortcut = (
            JsonShortcut(prefilter, self.text, cfg.max_depth, cfg.max_record_bytes)
            if prefilter is not None and not cfg.custom_rules
            else None
        )
        self._custom_scan = compile_custom_scan([r.pattern for r in cfg.custom_rules])
        self._scan_all = bool(cfg.custom_rules) and self._custom_scan is None
        self._max_depth = cfg.max_depth
        self._max_bytes = cfg.max_record_bytes
        self._counters: dict[str, Any] = {}
        # key -> whether the text passes change it; keys repeat (`cvv`, `expiry` are flagged
        # for their names on every card record, and only rarely hold card data themselves).
        self._key_changes: dict[str, bool] = {}

    # --- the pre-scan --------------------------------------------------------------------
    def scan(self, lines: list[bytes]) -> list[int]:
        """Indices of raw lines that may hold card data; every index on any error."""
        try:
            if self._scan_all or self._line_scan is None:
                return list(range(len(lines)))
            flagged = self._line_scan(lines)
            if self._custom_scan is not None:
                extra = flagged_lines(self._custom_scan, lines)
                if extra:
                    flagged = sorted(set(flagged).union(extra))
            return flagged
        except Exception:
            log.error("redaction pre-scan failed; flagging every line")
            return list(range(len(lines)))

    def key_is_sensitive(self, key: str) -> bool:
        """For parsers that invent keys (regex groups): a SAD or expiry key means the scan
        of raw lines cannot see it, so every line of that source must be walked."""
        return self.keys.kind(key) in (KeyKind.SAD, KeyKind.EXPIRY)

    # --- the careful walk ------------------------------------------------------------------
    def redact_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with card data masked; a placeholder when that cannot be done.

        Use the returned record: string values may be replaced inside `record` itself.
        """
        one = [record]
        self.redact_records(one, [0])
        return one[0]

    def redact_records(self, records: list[dict[str, Any]], indices: list[int]) -> None:
        """Redact `records[i]` for every i in `indices`, replacing them in the list.

        The batch form of `redact_record` (same result per record): one trigger scan over
        the strings of all the records and one counter update for the batch, instead of
        one of each per record. A record that cannot be walked becomes a placeholder; the
        others are unaffected.
        """
        counts: Counts = {}
        pending: list[tuple[int, _Collected]] = []
        for i in indices:
            try:
                if not self._one_string(records[i], counts):
                    pending.append((i, self._prepare(records[i])))
            except Exception as e:
                records[i] = self._placeholder(e, counts)
        if not pending:
            self._publish(counts)
            return
        try:
            needs = self.text.needs_work(*(g for _, f in pending for g in (f.keys, f.values)))
        except Exception:
            log.error("redaction trigger failed; every string of the batch is walked")
            needs = {s for _, f in pending for g in (f.keys, f.values) for s in g}
        for i, found in pending:
            walk = _Walk(needs, counts)
            try:
                if found.plain and not self._keys_change(needs.intersection(found.keys)):
                    self._patch(found, walk)
                else:
                    records[i] = self._dict(records[i], 1, walk, False)
                self._finish(walk)
            except Exception as e:
                records[i] = self._placeholder(e, counts)
        self._publish(counts)

    def _one_string(self, record: Any, counts: Counts) -> bool:
        """A record of one string under a plain key (a raw line under `log`) redacted in
        place, as the walk would (its text pass is the whole walk: the key is known clean
        and says nothing; an expiry waits on no other value); False for any other record.
        The text pass runs unasked: the pre-scan flagged the line, which is this string."""
        if type(record) is not dict or len(record) != 1:
            return False
        for key, value in record.items():
            if (
                type(key) is not str
                or type(value) is not str
                or self.keys.cache.get(key) != KeyKind.NONE
                or not self.text.known_clean(key)
            ):
                return False
            if 8 + len(key) + len(value) > self._max_bytes:
                raise _FailClosed("too_big")
            record[key] = self.text.redact_flagged(value, counts)
        return True

    def redact_json(
        self, lines: list[bytes], records: list[dict[str, Any]], indices: list[int]
    ) -> list[int]:
        """For records decoded from JSON `lines` as they are (no type conversion): redacts
        those the shortcut can (shortcut.py), and returns the indices the walk must take."""
        shortcut = self._shortcut
        if shortcut is None:
            return indices
        counts: Counts = {}
        rest: list[int] = []
        for i in indices:
            try:
                cards = shortcut.cards_in_strings(lines[i])
                if cards is None:
                    rest.append(i)
                elif cards:
                    shortcut.redact(records[i], cards, counts)
            except Exception:
                # The walk decides, and fails closed if it must; only the type is logged.
                log.error("redaction shortcut failed; walking", extra={"error": "shortcut"})
                rest.append(i)
        self._publish(counts)
        return rest

    def _prepare(self, record: dict[str, Any]) -> _Collected:
        found = _Collected()
        self._collect(record, found, 1)
        found.size += sum(map(len, found.keys)) + sum(map(len, found.values))
        if found.size > self._max_bytes:
            raise _FailClosed("too_big")
        return found

    def _placeholder(self, error: Exception, counts: Counts) -> dict[str, Any]:
        """What ships instead of a record the walk could not finish (fail closed)."""
        if isinstance(error, _FailClosed):
            reason = error.reason
        elif isinstance(error, RecursionError):
            reason = "too_deep"
        else:
            reason = "internal_error"
            # The exception's text could quote the record; only its type is logged.
            log.error(
                "redaction walk failed; record withheld", extra={"error": type(error).__name__}
            )
        counts["fail_closed"] = counts.get("fail_closed", 0) + 1
        return {
            "message": PLACEHOLDER_MESSAGE,
            PLACEHOLDER_KEY: "fail_closed",
            PLACEHOLDER_REASON_KEY: reason,
        }

    def redact_text(self, text: str) -> str:
        """Free text (a raw line, a parse error, a log message) with card data masked."""
        counts: Counts = {}
        try:
            if len(text) > self._max_bytes:
                raise _FailClosed("too_big")
            out = self.text.redact(text, counts)
        except Exception:
            self._publish({"fail_closed": 1})
            return TEXT_FAIL_CLOSED
        self._publish(counts)
        return out

    def _publish(self, counts: Counts) -> None:
        for rule, n in counts.items():
            counter = self._counters.get(rule)
            if counter is None:
                counter = self._counters[rule] = self._m.redactions.labels(rule)
            counter.inc(n)

    def _keys_change(self, keys: set[str]) -> bool:
        """Whether any of these keys holds card data itself (then the record is rebuilt).
        Keys are flagged for their names too (`cvv`), which leave them unchanged."""
        cache = self._key_changes
        for key in keys:
            changes = cache.get(key)
            if changes is None:
                changes = self.text.redact_flagged(key, {}) != key
                if len(key) <= _KEY_CACHE_MAX_LEN:
                    if len(cache) >= _KEY_CACHE_LIMIT:
                        cache.clear()
                    cache[key] = changes
            if changes:
                return True
        return False

    def _patch(self, found: _Collected, walk: _Walk) -> None:
        """Replace, where they sit, the strings that need it: what the full walk would
        produce for a record whose keys and numbers need nothing but these."""
        needs = walk.needs
        context = found.context
        pans = found.pans
        for i, ((container, key), value) in enumerate(
            zip(found.locations, found.values, strict=True)
        ):
            if i in pans:
                container[key] = self._pan(value, 1, walk, _is_iso(key))
            elif value in needs:
                container[key] = walk.text(self.text, container, key, value, i in context)
        for container, key, rule in found.actions:
            container[key] = REDACTED
            walk.count(rule)
        walk.expiry_keys.extend(found.expiry)

    def _finish(self, walk: _Walk) -> None:
        """Expiry values of the record, masked when `redact.expiry` says so: always, or
        (`with_pan`) when the record held a full PAN or track."""
        if not walk.expiry_keys and not walk.expiry_texts:
            return
        mode = self._expiry
        if mode == "never" or (mode == "with_pan" and walk.pans() == walk.pans_before):
            return
        for container, key in walk.expiry_keys:
            container[key] = self._mask_expiry(container[key], walk, 0)
        for container, key, ctx in walk.expiry_texts:
            container[key] = self.text.redact_flagged(container[key], walk.counts, ctx, True)

    def _mask_expiry(self, value: Any, walk: _Walk, depth: int) -> Any:
        """Date-shaped scalars under an expiry key with their digits masked (an int
        becomes a string); `expiry_policy: "30d"` or `true` stay as they are."""
        if depth > self._max_depth:
            raise _FailClosed("too_deep")
        if isinstance(value, dict):
            return {k: self._mask_expiry(v, walk, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self._mask_expiry(v, walk, depth + 1) for v in value]
        if isinstance(value, bool) or not isinstance(value, str | int):
            return value
        text = str(value)
        if not is_date(text):
            return value
        walk.count("expiry")
        return _DIGIT.sub("*", text)

    def _collect(self, node: Any, found: _Collected, depth: int, ctx: bool = False) -> None:
        """Every key and string of the record, so that one scan can tell which need work,
        and what the keys ask for (SAD and expiry scalars), so that simple records are
        patched in place. Anything unusual clears `found.plain` and the full walk runs.

        The hot loop of the walk: locals only, no per-item method calls.
        """
        if depth > self._max_depth:
            raise _FailClosed("too_deep")
        kinds = self.keys.cache
        keys = found.keys
        values = found.values
        locations = found.locations
        min_card = _MIN_CARD_INT
        plain = True
        found.size += 8 * len(node)
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            kind = KeyKind.NONE
            if type(key) is str:
                keys.append(key)
                cached = kinds.get(key)
                kind = self.keys.kind(key) if cached is None else cached
                if ctx and not kind and key in _CARD_NUMBER_KEYS:
                    kind = KeyKind.PAN
            vtype = type(value)
            if kind:
                if kind == KeyKind.SAD and vtype is str:
                    if value:
                        found.actions.append((node, key, "sad_key"))
                    continue
                if kind == KeyKind.EXPIRY and vtype is str:
                    # through the text pass like any string, then masked if the record
                    # holds a PAN (`_finish`)
                    found.expiry.append((node, key))
                    found.context.add(len(values))
                    values.append(value)
                    locations.append((node, key))
                    continue
                if kind == KeyKind.PAN and vtype is str:
                    # masked whatever its checksum (`_pan`), patched in place
                    found.pans.add(len(values))
                    found.context.add(len(values))
                    values.append(value)
                    locations.append((node, key))
                    continue
                if kind != KeyKind.CARDISH:
                    # SAD, expiry and PAN values other than the strings above: the full
                    # walk handles them, and the strings they hold are collected (in card
                    # context) so that it knows which need the text passes.
                    plain = False
                    if kind == KeyKind.SAD:
                        continue  # removed whole
                    if vtype is str:
                        found.context.add(len(values))
                        values.append(value)
                        locations.append((node, key))
                    elif vtype is dict or vtype is list:
                        self._collect(value, found, depth + 1, True)
                    continue
                if vtype is dict or vtype is list:
                    self._collect(value, found, depth + 1, True)
                    continue
                if vtype is not str:
                    plain = False  # a number under a card-ish key
                    continue
                if not ctx:
                    found.context.add(len(values))
            if vtype is str:
                if ctx:
                    found.context.add(len(values))
                values.append(value)
                locations.append((node, key))
            elif vtype is dict or vtype is list:
                self._collect(value, found, depth + 1, ctx)
            elif (
                value is None
                or vtype is bool
                or (
                    (vtype is int or vtype is float)
                    and (-min_card < value < min_card or not _number_is_pan(value))
                )
            ):
                continue
            else:
                plain = False  # a number that is a card, a subclass, or an odd type
        if not plain:
            found.plain = False

    def _dict(self, node: dict[Any, Any], depth: int, walk: _Walk, ctx: bool) -> dict[Any, Any]:
        if depth > self._max_depth:
            raise _FailClosed("too_deep")
        out: dict[Any, Any] = {}
        kind_of = self.keys.kind
        needs = walk.needs
        for key, value in node.items():
            kind = KeyKind.NONE
            if isinstance(key, str):
                kind = kind_of(key)
                if ctx and not kind and key in _CARD_NUMBER_KEYS:
                    kind = KeyKind.PAN
                if key in needs:
                    new_key = self.text.redact_flagged(key, walk.counts, False, False)
                    if new_key != key:
                        while new_key in out or new_key in node:
                            new_key += "#"
                        key = new_key
            if kind == KeyKind.NONE or kind == KeyKind.CARDISH:
                value_ctx = ctx or kind == KeyKind.CARDISH
                if isinstance(value, str):
                    out[key] = (
                        walk.text(self.text, out, key, value, value_ctx)
                        if value in needs
                        else value
                    )
                else:
                    out[key] = self._value(value, depth, walk, value_ctx)
            elif kind == KeyKind.SAD:
                out[key] = self._remove(value, depth, walk, "sad_key")
            elif kind == KeyKind.EXPIRY:
                out[key] = self._value(value, depth, walk, True)
                walk.expiry_keys.append((out, key))
            else:  # PAN
                out[key] = self._pan(value, depth, walk, _is_iso(key))
        return out

    def _value(self, value: Any, depth: int, walk: _Walk, ctx: bool) -> Any:
        if isinstance(value, str):
            if value in walk.needs:
                return self.text.redact_flagged(value, walk.counts, ctx, None, walk.pending)
            return value
        if isinstance(value, dict):
            return self._dict(value, depth + 1, walk, ctx)
        if isinstance(value, list):
            if depth > self._max_depth:
                raise _FailClosed("too_deep")
            out: list[Any] = []
            for v in value:
                if isinstance(v, str) and v in walk.needs:
                    out.append(v)
                    out[-1] = walk.text(self.text, out, len(out) - 1, v, ctx)
                else:
                    out.append(self._value(v, depth + 1, walk, ctx))
            return out
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            if _MIN_CARD_INT <= abs(value) < _MAX_CARD_INT:
                digits = str(abs(value))
                if is_pan(digits, ctx):
                    walk.count("pan")
                    return self.mask(digits)
            return value
        if isinstance(value, float):
            if value.is_integer() and _MIN_CARD_INT <= abs(value) < _MAX_CARD_INT:
                digits = str(int(abs(value)))
                if is_pan(digits, ctx):
                    walk.count("pan")
                    return self.mask(digits)
            return value
        # bytes or other parser output: judged as its text form, withheld if it holds a card.
        text = str(value)
        if self.text.redact(text, walk.counts, ctx, False) != text:
            return REDACTED
        return value

    def _remove(self, value: Any, depth: int, walk: _Walk, rule: str) -> Any:
        """Every string and number under a SAD key goes; the shape stays. Inside an object,
        a key qualified as a fact about the secret (`cardVerification.resultCode`) is a
        result and is walked as usual."""
        if depth > self._max_depth:
            raise _FailClosed("too_deep")
        if isinstance(value, dict):
            return {
                k: (
                    self._value(v, depth + 1, walk, True)
                    if isinstance(k, str) and qualified(k)
                    else self._remove(v, depth + 1, walk, rule)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._remove(v, depth + 1, walk, rule) for v in value]
        if isinstance(value, bool) or value is None or value == "":
            return value
        walk.count(rule)
        return REDACTED

    def _pan(self, value: Any, depth: int, walk: _Walk, iso: bool) -> Any:
        """A value under a key that says it holds a card number (`card_number`, ISO field
        2, `pans`): 12-19 digits are masked whatever their checksum, the LLVAR length
        prefix understood under an ISO 8583 field-2 key (`iso`); anything else goes
        through the walk in card context."""
        if depth > self._max_depth:
            raise _FailClosed("too_deep")
        if isinstance(value, list):
            return [self._pan(v, depth + 1, walk, iso) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                return value
            run: str | None = str(abs(int(value)))
        elif isinstance(value, str):
            run = value
        else:
            run = None
        if run is not None and run.isascii():
            pan = pan_value_digits(run, iso)
            if pan is not None:
                walk.count("pan")
                ll = run[:2] if run.isdigit() and len(run) == len(pan) + 2 else ""
                return ll + self.mask(pan)
        return self._value(value, depth, walk, True)
