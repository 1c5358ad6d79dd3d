"""Just enough of Fluentd's config language to check the aggregator's fluent.conf.

No Fluentd runs here (it is not in Debian 12 and RubyGems is out of reach), so its config
is read structurally: directives, their parameters and sections, and Fluentd's tag
pattern rules for `<match>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Directive:
    name: str  # source, match, filter, system, security, buffer, ...
    arg: str  # the tag pattern of <match PATTERN>, else ""
    params: dict[str, str] = field(default_factory=dict)
    children: list[Directive] = field(default_factory=list)

    def child(self, name: str) -> Directive | None:
        return next((c for c in self.children if c.name == name), None)


def parse(text: str) -> list[Directive]:
    root = Directive("root", "")
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := re.fullmatch(r"<\s*([\w@]+)\s*([^>]*)>", line):
            d = Directive(m.group(1), m.group(2).strip())
            stack[-1].children.append(d)
            stack.append(d)
        elif m := re.fullmatch(r"</\s*(\w+)\s*>", line):
            if stack[-1].name != m.group(1):
                raise ValueError(f"</{m.group(1)}> closes <{stack[-1].name}>")
            stack.pop()
        else:
            key, _, value = line.partition(" ")
            stack[-1].params[key] = value.strip()
    if len(stack) != 1:
        raise ValueError(f"<{stack[-1].name}> is not closed")
    return root.children


def tag_matches(pattern: str, tag: str) -> bool:
    """Fluentd's rules: `*` is one tag part, `**` zero or more parts, `{a,b}` either,
    and several space-separated patterns match if any does."""
    return any(re.fullmatch(_pattern_regex(p), tag) for p in pattern.split())


def _pattern_regex(pattern: str) -> str:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            # `a.**` matches `a` too: the dot before ** is optional with it.
            if out.endswith(r"\."):
                out = out[:-2] + r"(?:\.[^.]+)*"
            else:
                out += r"(?:[^.]+(?:\.[^.]+)*)?"
            i += 2
        elif pattern[i] == "*":
            out += r"[^.]+"
            i += 1
        elif pattern[i] == "{":
            end = pattern.index("}", i)
            alternatives = pattern[i + 1 : end].split(",")
            out += "(?:" + "|".join(_pattern_regex(a) for a in alternatives) + ")"
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return out
