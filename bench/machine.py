"""How fast this machine runs Python right now, printed beside every benchmark.

The machine these benchmarks run on changes speed by a factor of two within hours (a
million-row import took 117 CPU seconds in one spell and, with a fifth fewer instructions
per row, 211 in another), so a number means little without the speed it was measured at.
Two probes, best of three each (a moment of contention counts less): a pure-Python loop,
which stays in the CPU's caches, and a million-entry dict of strings built and sorted,
which does not (an import's and a lookup's work is mostly the second kind). Compare them
between runs, not with other machines.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_LOOP_STEPS = 10_000_000
_ENTRIES = 1_000_000


def _loop() -> None:
    total = 0
    for i in range(_LOOP_STEPS):
        total += i


def _dict_and_sort() -> None:
    entries = {f"k{i * 7919 % _ENTRIES}": i for i in range(_ENTRIES)}
    sorted(entries)


def best_of(work: Callable[[], None], repeat: int = 3) -> float:
    """Seconds for the fastest of `repeat` runs of `work`."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def speed_line() -> str:
    """The probes as one line for a benchmark's output."""
    loop, memory = best_of(_loop), best_of(_dict_and_sort)
    return (
        f"machine speed: 10M-step loop {loop:.2f} s, 1M-entry dict built and sorted "
        f"{memory:.2f} s (best of 3; lower is faster)"
    )
