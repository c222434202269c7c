"""The course's architecture as a figure: one token's path through the stages, left to right (notebook 11)."""

from __future__ import annotations

__all__ = ["draw_architecture"]


def draw_architecture(stages: list[tuple[str, str, str]]):
    """A box per stage `(name, detail, what it sends to the next)`, arrows between; returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=(12, 2.6))
    width, gap = 1.9, 0.55
    for i, (name, detail, wire) in enumerate(stages):
        x = i * (width + gap)
        box = FancyBboxPatch(
            (x, 0), width, 1.2, boxstyle="round,pad=0.05", facecolor="#e8f1fb", edgecolor="#3a6ea5"
        )
        ax.add_patch(box)
        ax.text(x + width / 2, 0.85, name, ha="center", fontsize=10, weight="bold")
        ax.text(x + width / 2, 0.35, detail, ha="center", fontsize=7.5)
        if wire:
            arrow = {"arrowstyle": "->", "color": "#3a6ea5"}
            ax.annotate("", xy=(x + width + gap, 0.6), xytext=(x + width, 0.6), arrowprops=arrow)
            ax.text(x + width + gap / 2, 1.35, wire, ha="center", fontsize=7, rotation=12, color="#555")
    ax.set_xlim(-0.2, len(stages) * (width + gap))
    ax.set_ylim(-0.3, 1.9)
    ax.axis("off")
    ax.set_title("Streaming Lab: one token's path, left to right", fontsize=11)
    return fig
