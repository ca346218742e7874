"""The shared shape of every benchmark: a figure, the baseline it is compared with, the ratio."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Figure", "peak_rss_mb", "rate", "render"]


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float | None = None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value


def rate(count: int, work: Callable[[], object]) -> float:
    """Items per second for `work`, which processes `count` items."""
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render(figures: list[Figure]) -> str:
    head = (
        f"{'bench':<12} {'figure':<44} {'value':>12} {'unit':<8} "
        f"{'baseline':<34} {'base':>12} {'ratio':>7}"
    )
    lines = [head, "-" * len(head)]
    for f in figures:
        base = f"{f.baseline_value:12.1f}" if f.baseline_value is not None else " " * 12
        ratio = f"{f.ratio:7.2f}" if f.ratio is not None else " " * 7
        lines.append(
            f"{f.bench:<12} {f.name:<44} {f.value:12.1f} {f.unit:<8} "
            f"{f.baseline_name:<34} {base} {ratio}"
        )
    return "\n".join(lines)
