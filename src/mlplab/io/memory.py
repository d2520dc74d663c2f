"""How much memory this process may still take: the limit that applies, not the machine's.

``memory_limit()`` is the least of the physical memory, the address space left under
``RLIMIT_AS`` (``ulimit -v``), and the room left in the process's cgroup (v2's
``memory.max`` up the hierarchy, or v1's ``memory.limit_in_bytes``). Size checks compare
their estimates with it before allocating (``mlplab.checks.check_allocation``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["memory_limit", "physical_memory"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")  # which cgroup this process is in
FALLBACK = 8 * 2**30  # where the physical memory cannot be read


def physical_memory() -> int:
    """The machine's physical memory in bytes (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return FALLBACK


def _read_int(path: Path) -> int | None:
    """The integer in a small kernel file, or ``None`` (absent, ``max``, unreadable)."""
    try:
        text = path.read_text()[:64].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _address_space_left() -> int | None:
    """Bytes of address space left under RLIMIT_AS, or ``None`` when it is unlimited."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                used = int(line.split()[1]) * 1024
    return max(soft - used, 0)


def _cgroup_left() -> int | None:
    """Bytes left in this process's cgroup (v2 up the hierarchy, else v1), or ``None``."""
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        lines = []
    found = []
    for line in lines:
        if line.startswith("0::"):  # cgroup v2: every level's limit applies
            group = CGROUP_ROOT / line[3:].strip().lstrip("/")
            for level in (group, *group.parents):
                limit = _read_int(level / "memory.max")
                if limit is not None:
                    used = _read_int(level / "memory.current") or 0
                    found.append(max(limit - used, 0))
                if level == CGROUP_ROOT:
                    break
    v1 = _read_int(CGROUP_ROOT / "memory" / "memory.limit_in_bytes")
    if v1 is not None and v1 < 2**60:  # v1 says "no limit" with a huge number
        used = _read_int(CGROUP_ROOT / "memory" / "memory.usage_in_bytes") or 0
        found.append(max(v1 - used, 0))
    return min(found) if found else None


def memory_limit() -> int:
    """The bytes this process may still allocate: the least of the physical memory,
    the address space left under ``RLIMIT_AS`` and the room left in its cgroup."""
    limits = [physical_memory(), _address_space_left(), _cgroup_left()]
    return min(limit for limit in limits if limit is not None)
