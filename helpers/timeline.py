"""A timeline of when bytes arrived: streamed against buffered on one plot."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .measure import StreamTiming

__all__ = ["plot_timeline"]


def plot_timeline(timings: list[StreamTiming], title: str = "When the bytes arrived"):
    """One row per response: a dot per chunk, a bar from first byte to the end."""
    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.7 * len(timings)))
    for row, timing in enumerate(timings):
        times = [t for t, _ in timing.arrivals]
        ax.hlines(row, timing.ttfb, timing.total, color="tab:gray", alpha=0.4, linewidth=6)
        ax.plot(times, [row] * len(times), "|", color="tab:blue", markersize=14)
        ax.plot([timing.ttfb], [row], "o", color="tab:green")
        ax.plot([timing.total], [row], "s", color="tab:red")
        ax.annotate(
            f"first byte {timing.ttfb:.2f} s",
            (timing.ttfb, row),
            xytext=(0, 10),
            textcoords="offset points",
            fontsize=8,
            color="tab:green",
        )
        ax.annotate(
            f"end {timing.total:.2f} s",
            (timing.total, row),
            xytext=(0, -16),
            textcoords="offset points",
            fontsize=8,
            color="tab:red",
            ha="right",
        )
    ax.set_yticks(range(len(timings)), [t.label for t in timings])
    ax.set_ylim(-0.8, len(timings) - 0.2)
    ax.set_xlabel("seconds since the request was sent")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
