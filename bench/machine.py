"""How fast this machine runs plain Python right now, printed beside every benchmark.

The machine these benchmarks run on changes speed by a factor of two over an afternoon
(the same import took 65 s in one hour and 126 s in another), so a number means little
without the speed it was measured at. The probe times a fixed pure-Python loop, best of
three (a moment of contention counts less); compare it between runs, not with other
machines.
"""

from __future__ import annotations

import time

_STEPS = 10_000_000


def loop_seconds(steps: int = _STEPS, repeat: int = 3) -> float:
    """Seconds for the fastest of `repeat` runs of a `steps`-step summing loop."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(steps):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def speed_line() -> str:
    """The probe as one line for a benchmark's output."""
    seconds = loop_seconds()
    return f"machine speed: a 10M-step Python loop in {seconds:.2f} s (best of 3; lower is faster)"
