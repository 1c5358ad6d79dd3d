"""Event time of a record as Unix nanoseconds; 0 means "none found, use the read time".

The aggregator orders and buckets by this time, so a wrong guess is worse than none: a
value that does not parse strictly gives 0, never an approximation. Times outside what a
Forward EventTime can carry (1970 to 2106) give 0 as well.

The JSON hot path sees RFC 3339 times (`2026-11-26T11:13:44.123Z`, `...44.123456+00:00`,
`...44.123456789Z`) far more than anything else, and per-line Python work costs about as
much as the JSON decode itself. So `TimeConverter.many` reads the layout of the batch's
first value (how many fraction digits) and cuts every value at fixed positions into
pieces that are all looked up in dicts: the seconds (`2026-11-26T11:13:44`, shared by the
lines of a batch, computed on first use), each group of three fraction digits (a
thousand keys each, built once) and the zone (`Z`, `+00:00`). A lookup that fails -- a
value of another layout, a non-digit -- sends the whole batch to the careful per-value
parser, so the fast path never guesses.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from collector.parse.config import ParserOptions

NS = 1_000_000_000
_MAX_SECONDS = 2**32  # EventTime carries seconds in 4 unsigned bytes
_CACHE_LIMIT = 4096

_SECONDS = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)")
_DIGIT_RUN = re.compile(r"[0-9]{0,10}")
_ZONE = re.compile(r"([Zz])|([+-])(\d\d):?(\d\d)?|")
# ".123" / ",123" -> ns, "456" -> ns, "789" -> ns: fraction digits by groups of three.
_MILLIS = {f"{sep}{i:03d}": i * 1_000_000 for i in range(1000) for sep in ".,"}
_MICROS = {f"{i:03d}": i * 1_000 for i in range(1000)}
_NANOS = {f"{i:03d}": i for i in range(1000)}

_ISO = re.compile(
    r"\s*(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?"
    r"\s*(?:([Zz]|UTC|GMT)|([+-])(\d\d):?(\d\d)?)?\s*"
)
# Common Log Format as nginx and Apache write $time_local: 10/Oct/2000:13:55:36 -0700
_CLF = re.compile(
    r"\s*(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\s*([+-])(\d\d)(\d\d))?\s*"
)
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_NUMBER = re.compile(r"\s*(\d+)(?:\.(\d*))?\s*")

# Epoch numbers in `auto` mode: the unit follows from the magnitude.
_AUTO_UNITS = ((10**11, NS), (10**14, 1_000_000), (10**17, 1_000), (10**20, 1))
_UNITS = {"epoch": NS, "epoch_ms": 1_000_000, "epoch_us": 1_000, "epoch_ns": 1}


def zone(name: str) -> tzinfo:
    """`UTC`, a fixed offset such as `+02:00`, or an IANA zone name."""
    if name == "UTC":
        return UTC
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", name)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _in_range(ns: int) -> int:
    return ns if 0 < ns < _MAX_SECONDS * NS else 0


def _fraction_ns(digits: str | None) -> int:
    if not digits:
        return 0
    return int(digits[:9].ljust(9, "0"))


def _float_ns(value: float, unit: int) -> int:
    if value != value or value in (float("inf"), float("-inf")):
        return 0
    whole = int(value)
    return whole * unit + round((value - whole) * unit)


def _auto_unit(magnitude: int) -> int:
    for limit, unit in _AUTO_UNITS:
        if magnitude < limit:
            return unit
    return 0


def _seconds_ns(text: str) -> int | None:
    """`YYYY-MM-DDTHH:MM:SS` read as UTC -> ns; None when it is not a real date-time."""
    m = _SECONDS.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = map(int, m.groups())
    if not 1971 <= year <= 2105:  # keeps any offset inside the EventTime range
        return None
    try:
        dt = datetime(year, month, day, hour, minute, second)
    except ValueError:  # not a date, or a leap second (the careful path takes those)
        return None
    return calendar.timegm(dt.timetuple()) * NS


def _fraction_digits(value: Any) -> int | None:
    """How many fraction digits the batch's first value has (0: none), None: not RFC 3339."""
    if type(value) is not str or len(value) < 20 or value[4] != "-" or value[10] not in "Tt ":
        return None
    if value[19] not in ".,":
        return 0
    m = _DIGIT_RUN.match(value, 20)
    return m.end() - 20 if m is not None else 0


class TimeConverter:
    """Turns time values of one configured format into nanoseconds, never raising."""

    def __init__(self, time_format: str = "auto", timezone_name: str = "UTC") -> None:
        self.format = time_format
        self._zone = zone(timezone_name)
        fixed = self._zone.utcoffset(None)
        self._fixed_offset = None if fixed is None else int(fixed.total_seconds())
        # Plain dicts (CPython's fastest lookup), filled by `_learn` when a lookup misses.
        self._fast_seconds: dict[str, int] = {}  # "2026-11-26T11:13:44" -> ns (read as UTC)
        self._fast_zones: dict[str, int] = {}  # "Z", "+02:00", "" -> minus the offset, ns
        # last fraction group and zone at once: "Z" / ".123Z" / "456Z" / "789Z" -> ns
        self._fast_tails: dict[int, dict[str, int]] = {0: {}, 3: {}, 6: {}, 9: {}}
        self._seconds: dict[tuple[str, ...], int] = {}  # broken-down second + offset -> ns
        self._whole: dict[str, int] = {}  # whole value -> ns, for second-precision layouts
        self.one: Callable[[Any], int]
        if time_format in ("auto", "rfc3339"):
            self.one = self._auto if time_format == "auto" else self._rfc3339
        elif time_format in _UNITS:
            unit = _UNITS[time_format]
            self.one = lambda value: self._epoch(value, unit)
        else:
            self.one = self._pattern

    def many(self, values: list[Any]) -> list[int]:
        """Nanoseconds for each value, 0 where a value gives no time."""
        if values:
            first = next((v for v in values if v is not None), None)
            if first is None:
                return [0] * len(values)
            digits = _fraction_digits(first) if self.format in ("auto", "rfc3339") else None
            if digits in (0, 3, 6, 9):
                for attempt in (1, 2):
                    try:
                        return self._fast(values, digits)
                    except KeyError:
                        if attempt == 2 or not self._learn(values, digits):
                            break
                    except Exception:
                        break  # not a string, or some value of another layout
            elif digits is None:
                whole = self._whole  # second-precision layouts: nginx's $time_local, strptime
                try:
                    return [whole[v] for v in values]
                except (KeyError, TypeError):
                    pass
        return list(map(self.one, values))

    def _fast(self, values: list[Any], digits: int) -> list[int]:
        # `None` (a record without the field, a line that did not parse) gives 0 here
        # rather than sending the whole batch down the careful path.
        s, t = self._fast_seconds, self._fast_tails[digits]
        if digits == 3:
            return [0 if v is None else s[v[:19]] + t[v[19:]] for v in values]
        if digits == 9:
            ms, us = _MILLIS, _MICROS
            return [
                0 if v is None else s[v[:19]] + ms[v[19:23]] + us[v[23:26]] + t[v[26:]]
                for v in values
            ]
        if digits == 6:
            ms = _MILLIS
            return [0 if v is None else s[v[:19]] + ms[v[19:23]] + t[v[23:]] for v in values]
        return [0 if v is None else s[v[:19]] + t[v[19:]] for v in values]

    def _learn(self, values: list[Any], digits: int) -> bool:
        """Add the seconds and zones of `values` the fast dicts miss; False if one is invalid."""
        seconds, zones = self._fast_seconds, self._fast_zones
        cut = 20 + digits if digits else 19  # where the zone starts
        for v in values:
            if type(v) is not str:
                if v is None:
                    continue
                return False
            head, zone = v[:19], v[cut:]
            if head not in seconds:
                ns = _seconds_ns(head)
                if ns is None:
                    return False
                if len(seconds) >= _CACHE_LIMIT:
                    seconds.clear()
                seconds[head] = ns
            if zone not in zones:
                offset = self._zone_offset_ns(zone)
                if offset is None:
                    return False
                if len(zones) >= 16:  # a file has one zone or two (DST): 16 is plenty
                    zones.clear()
                    for layout in self._fast_tails.values():
                        layout.clear()
                zones[zone] = offset
                tails = self._fast_tails
                tails[0][zone] = offset
                for n, group in ((3, _MILLIS), (6, _MICROS), (9, _NANOS)):
                    tails[n].update((k + zone, v + offset) for k, v in group.items())
        return True

    def _zone_offset_ns(self, zone: str) -> int | None:
        """`Z`, `+02:00`, `-0500`, or `` (the configured zone if it is a fixed offset)."""
        m = _ZONE.fullmatch(zone)
        if m is None:
            return None
        utc, sign, oh, om = m.groups()
        if utc:
            return 0
        if sign:
            return -(int(oh) * 60 + int(om or 0)) * 60 * NS * (-1 if sign == "-" else 1)
        if self._fixed_offset is not None:
            return -self._fixed_offset * NS
        return None  # local time in a zone with DST: the offset depends on the date

    def _auto(self, value: Any) -> int:
        kind = type(value)
        if kind is str:
            digits = _fraction_digits(value)
            if digits is not None and digits % 3 and digits < 9:
                # Go's RFC3339Nano trims trailing zeros: pad to a group of three
                cut = 20 + digits
                value = value[:cut] + "0" * (3 - digits % 3) + value[cut:]
                digits += 3 - digits % 3
            if digits in (0, 3, 6, 9) and self._learn([value], digits):
                try:
                    return self._fast([value], digits)[0]
                except Exception:
                    pass
            return self._text(value)
        if kind is int:
            return _in_range(value * _auto_unit(abs(value)))
        if kind is float:
            if not 0 < value < 1e20:  # also NaN and infinities
                return 0
            return _in_range(_float_ns(value, _auto_unit(int(value))))
        return 0

    def _text(self, value: str) -> int:
        ns = self._rfc3339(value)
        if ns:
            return ns
        m = _NUMBER.fullmatch(value)
        if m:
            unit = _auto_unit(int(m.group(1)))
            return _in_range(int(m.group(1)) * unit + _fraction_ns(m.group(2)) * unit // NS)
        return self._clf(value)

    def _rfc3339(self, value: Any) -> int:
        if type(value) is not str:
            return 0
        m = _ISO.fullmatch(value)
        if m is None:
            return 0
        year, month, day, hour, minute, second, frac, utc, sign, oh, om = m.groups()
        key = (year, month, day, hour, minute, second or "0", utc or sign or "", oh or "", om or "")
        base = self._seconds.get(key)
        if base is None:
            offset: int | None = None
            if utc:
                offset = 0
            elif sign:
                offset = (int(oh) * 60 + int(om or 0)) * 60 * (-1 if sign == "-" else 1)
            base = self._base(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0), offset
            )
            if len(self._seconds) >= _CACHE_LIMIT:
                self._seconds.clear()
            self._seconds[key] = base
        return _in_range(base + _fraction_ns(frac)) if base else 0

    def _clf(self, value: str) -> int:
        m = _CLF.fullmatch(value)
        if m is None:
            return 0
        day, mon, year, hour, minute, second, sign, oh, om = m.groups()
        month = _MONTHS.get(mon)
        if month is None:
            return 0
        key = (year, mon, day, hour, minute, second, sign or "", oh or "", om or "")
        base = self._seconds.get(key)
        if base is None:
            offset = None
            if sign:
                offset = (int(oh) * 60 + int(om)) * 60 * (-1 if sign == "-" else 1)
            base = self._base(
                int(year), month, int(day), int(hour), int(minute), int(second), offset
            )
            self._seconds[key] = base
        self._remember(value, base)
        return base

    def _remember(self, value: str, ns: int) -> None:
        if len(self._whole) >= _CACHE_LIMIT:
            self._whole.clear()
        self._whole[value] = ns

    def _base(
        self,
        year: int,
        month: int,
        day: int,
        hour: int,
        minute: int,
        second: int,
        offset: int | None,
    ) -> int:
        """Nanoseconds of a broken-down second; 0 when it is not a real date."""
        try:
            leap = second == 60  # 23:59:60 is the same instant as 00:00:00 next day
            dt = datetime(year, month, day, hour, minute, 59 if leap else second)
        except ValueError:
            return 0
        if offset is None:
            seconds = int(dt.replace(tzinfo=self._zone).timestamp())
        else:
            seconds = calendar.timegm(dt.timetuple()) - offset
        return _in_range((seconds + leap) * NS)

    def _epoch(self, value: Any, unit: int) -> int:
        kind = type(value)
        if kind is int:
            return _in_range(value * unit)
        if kind is float:
            return _in_range(_float_ns(value, unit))
        if kind is str:
            m = _NUMBER.fullmatch(value)
            if m:
                return _in_range(int(m.group(1)) * unit + _fraction_ns(m.group(2)) * unit // NS)
        return 0

    def _pattern(self, value: Any) -> int:
        if type(value) is not str:
            return 0
        ns = self._whole.get(value)
        if ns is not None:
            return ns
        try:
            dt = datetime.strptime(value, self.format)
        except ValueError:
            return 0
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self._zone)
        delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
        ns = _in_range(delta // timedelta(microseconds=1) * 1000)
        if "%f" not in self.format:  # second precision: worth remembering
            self._remember(value, ns)
        return ns


class EventTimes:
    """Finds each record's time field and converts it; one per parser instance.

    `keys` are the format's default time fields, tried in order (the first one present in
    the batch's first record is used for the batch; other records fall back to the rest).
    `time_key` in the options replaces them. With `keep_time_key: false` a field whose
    value gave a time is removed; a value that did not parse is kept, so nothing is lost.
    """

    def __init__(self, keys: tuple[str, ...], options: ParserOptions) -> None:
        self.keys = (options.time_key,) if options.time_key else keys
        self.converter = TimeConverter(options.time_format, options.timezone)
        self._drop = not options.keep_time_key

    def of(self, records: list[dict[str, Any]]) -> list[int] | None:
        keys = self.keys
        if not keys or not records:
            return None
        key = keys[0]
        if len(keys) > 1:
            first = records[0]
            key = next((k for k in keys if k in first), key)
        values = [r.get(key) for r in records]
        times = self.converter.many(values)
        if len(keys) > 1 and None in values:
            self._other_keys(records, values, times)
        if not any(times):
            return None
        if self._drop:
            for record, t in zip(records, times, strict=True):
                if t and record.pop(key, None) is None:
                    for k in keys:
                        if record.pop(k, None) is not None:
                            break
        return times

    def _other_keys(
        self, records: list[dict[str, Any]], values: list[Any], times: list[int]
    ) -> None:
        one = self.converter.one
        for i, value in enumerate(values):
            if value is None:
                record = records[i]
                for k in self.keys:
                    other = record.get(k)
                    if other is not None:
                        times[i] = one(other)
                        break
