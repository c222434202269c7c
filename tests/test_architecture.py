"""helpers.architecture: a box and a label per stage, an arrow and its label between stages."""

import matplotlib.pyplot as plt

from helpers.architecture import draw_architecture

STAGES = [("Model", "the API", "SSE"), ("Relay", "FastAPI", "SSE again"), ("Browser", "EventSource", "")]


def test_every_stage_is_drawn_with_its_labels_and_arrows_between():
    fig = draw_architecture(STAGES)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert {"Model", "Relay", "Browser", "the API", "FastAPI", "EventSource", "SSE", "SSE again"} <= set(
        texts
    )
    assert len(ax.patches) == 3  # one box a stage
    assert sum(1 for t in ax.texts if t.get_text() == "" and t.arrow_patch is not None) == 2  # between stages
    plt.close(fig)
