"""process_* and python_info: what prometheus_client's ProcessCollector and
PlatformCollector served, read the same way (/proc/self/stat, limits, fd) and under the
same names, HELP texts and values, so dashboards and alerts on them keep working.
"""

from __future__ import annotations

import os
import platform
import resource

from collector.metrics.core import Family


def _gauge(name: str, help_text: str, value: float, typ: str = "gauge") -> Family:
    family = Family(name, help_text, typ)
    family.add_sample(name, {}, value)
    return family


class ProcessCollector:
    """CPU, memory, start time and file descriptors of this process (Linux /proc)."""

    def __init__(self, proc: str = "/proc", pid: str = "self") -> None:
        self._proc = proc
        self._pid = os.path.join(proc, pid)
        try:
            self._ticks = float(os.sysconf("SC_CLK_TCK"))
        except (ValueError, OSError):
            self._ticks = 100.0
        self._pagesize = resource.getpagesize()
        self._btime = 0.0  # 0: no /proc here, nothing to serve
        try:
            with open(os.path.join(proc, "stat"), "rb") as stat:
                for line in stat:
                    if line.startswith(b"btime "):
                        self._btime = float(line.split()[1])
                        break
        except OSError:
            pass

    def collect(self) -> list[Family]:
        if not self._btime:
            return []
        result: list[Family] = []
        try:
            with open(os.path.join(self._pid, "stat"), "rb") as stat:
                parts = stat.read().split(b")")[-1].split()  # after the command name
            ticks = self._ticks
            result += [
                _gauge(
                    "process_virtual_memory_bytes",
                    "Virtual memory size in bytes.",
                    float(parts[20]),
                ),
                _gauge(
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes.",
                    float(parts[21]) * self._pagesize,
                ),
                _gauge(
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    float(parts[19]) / ticks + self._btime,
                ),
            ]
            cpu = Family(
                "process_cpu_seconds", "Total user and system CPU time spent in seconds.", "counter"
            )
            cpu.add_sample(
                "process_cpu_seconds_total", {}, float(parts[11]) / ticks + float(parts[12]) / ticks
            )
            result.append(cpu)
        except OSError:
            pass
        try:
            max_fds = None
            with open(os.path.join(self._pid, "limits"), "rb") as limits:
                for line in limits:
                    if line.startswith(b"Max open file"):
                        max_fds = float(line.split()[3])
                        break
            open_fds = len(os.listdir(os.path.join(self._pid, "fd")))
            result.append(_gauge("process_open_fds", "Number of open file descriptors.", open_fds))
            if max_fds is not None:
                result.append(
                    _gauge("process_max_fds", "Maximum number of open file descriptors.", max_fds)
                )
        except OSError:
            pass
        return result


class PlatformCollector:
    """python_info: the interpreter's version and implementation, as one constant series."""

    def __init__(self) -> None:
        major, minor, patchlevel = platform.python_version_tuple()
        labels = {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "major": major,
            "minor": minor,
            "patchlevel": patchlevel,
        }
        family = Family("python_info", "Python platform information", "gauge")
        family.add_sample("python_info", labels, 1.0)
        self._families = [family]

    def collect(self) -> list[Family]:
        return self._families
