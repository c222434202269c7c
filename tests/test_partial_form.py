"""PartialForm: every partial object kept, the widget redrawn at a bounded rate, the last object shown."""

import asyncio

from helpers.partial_form import PartialForm


def test_the_form_keeps_every_partial_and_coalesces_its_draws(run):
    partials = [{"title": "S" * i} for i in range(200)] + [{"title": "done", "steps": ["a", "b"]}]

    async def stream():
        for partial in partials:
            yield partial
            await asyncio.sleep(0)  # a fast stream: many objects per frame

    form = PartialForm(["title", "steps"], "t", max_rate=30)
    final = run(form.consume(stream()))
    assert final == partials[-1] and form.snapshots == partials
    assert form.updates < len(partials) / 4, f"{form.updates} draws for {len(partials)} objects"
    assert "done" in form.widget.value and "[&quot;a&quot;, &quot;b&quot;]" in form.widget.value
    assert form._repr_mimebundle_()["text/plain"].startswith("PartialForm")
