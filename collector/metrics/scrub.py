"""Label values pass through the redactor on their way out of /metrics.

Labels carry file paths (`collector_file_lag_bytes{file}`, `collector_textfile_valid{file}`)
and values taken from records; a file named after a card would put the number into
Prometheus. Scrubbing at the exposition is the one road out for every label, whichever
stage set it, so no stage has to remember to do it.

Two values that scrub to the same text (two files named after two cards) would make two
series with one label set, which Prometheus rejects as a duplicate sample: their values
are added up, as an aggregation by the scrubbed label would.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from collector.metrics.core import Collector

Scrub = Callable[[str], str]

# Label values remembered with their scrubbed form; cleared when full.
_CACHE_LIMIT = 10_000


class ScrubbedRegistry:
    """The view of a registry that the exposition reads: the same metrics, labels scrubbed."""

    def __init__(self, registry: Any, scrub: Scrub) -> None:
        self._registry = registry
        self._scrub = scrub
        self._cache: dict[str, str] = {}

    def collect(self) -> Iterator[Any]:
        for family in self._registry.collect():
            yield self._family(family)

    def restricted_registry(self, names: Iterable[str]) -> ScrubbedRegistry:
        """`?name[]=` scrapes: the exposition asks the registry for a restricted view."""
        view = ScrubbedRegistry(self._registry.restricted_registry(names), self._scrub)
        view._cache = self._cache
        return view

    def _family(self, family: Any) -> Any:
        """A copy of `family` (ours, or prometheus_client's from a textfile) scrubbed."""
        merged: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        for sample in family.samples:
            labels = {k: self._value(v) for k, v in sample.labels.items()}
            exemplar = sample.exemplar
            if exemplar is not None:
                exemplar = exemplar._replace(
                    labels={k: self._value(v) for k, v in exemplar.labels.items()}
                )
            key = (sample.name, tuple(sorted(labels.items())))
            seen = merged.get(key)
            if seen is None:
                merged[key] = sample._replace(labels=labels, exemplar=exemplar)
            else:
                merged[key] = seen._replace(value=seen.value + sample.value)
        out = copy.copy(family)
        out.samples = list(merged.values())
        return out

    def _value(self, value: str) -> str:
        shown = self._cache.get(value)
        if shown is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            shown = self._cache[value] = self._scrub(value)
        return shown


def scrubbed(registry: Collector, scrub: Scrub | None) -> Any:
    """`registry` as the exposition should read it: scrubbed when a scrubber is given."""
    return registry if scrub is None else ScrubbedRegistry(registry, scrub)
