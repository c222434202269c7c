"""The agent page in Chromium: its steps and each tool's input render while they stream, then the answer."""

import time
from urllib.parse import quote, urldefrag

import pytest

from helpers.agent import create_agent_app, search_docs
from helpers.embedded_model import embedded_model
from helpers.kernel_server import serve
from helpers.model_replies import answer_from_tool_results

from ..support import sample, watchable_model

QUESTION = "Use the calculator for 17 * 23 and search the docs for Last-Event-ID."
ANSWER = answer_from_tool_results(
    QUESTION, [("calculator", "391"), ("search_docs", search_docs.invoke({"query": "Last-Event-ID"}))]
)
pytestmark = pytest.mark.browser

# What the page shows, read from the DOM: the tool inputs' text, the outputs shown, the answer, the state.
SHOWN = """[
  [...document.querySelectorAll('.tool .input')].map((e) => e.textContent.length).reduce((a, b) => a + b, 0),
  [...document.querySelectorAll('.tool .output')].filter((e) => e.textContent.startsWith('→')).length,
  document.getElementById('output').textContent.length,
  agent.state,
]"""


@pytest.fixture(scope="module")
def agent_server():
    watchable_model()
    with serve(create_agent_app(), name="browser-agent") as handle:
        yield handle


def test_the_steps_and_tool_input_render_progressively(page, agent_server):
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    page.goto(f"{agent_server.url}/?autostart=1&token_delay=0.06#question={quote(QUESTION)}")
    samples = sample(page, SHOWN, until="agent.state === 'done' || agent.state === 'error'", every=0.03)
    assert page.evaluate("agent.state") == "done", page.evaluate("agent.errors")
    final_input = samples[-1][0]
    before_outputs = [inputs for inputs, outputs, _, _ in samples if outputs == 0]
    growing = sorted({n for n in before_outputs if 0 < n < final_input})
    assert len(growing) >= 3, (
        f"the tool input appeared in {len(growing)} partial states, not typed out: {samples[:12]}"
    )
    # tools first, then the answer
    assert all(text == 0 for inputs, outputs, text, _ in samples if outputs == 0)
    answer_lengths = {text for _, _, text, _ in samples if 0 < text < len(ANSWER)}
    assert len(answer_lengths) >= 3, "the answer arrived all at once"
    steps = page.locator(".step")
    assert steps.count() == 2
    assert steps.nth(0).locator(".tool").count() == 2 and steps.nth(1).locator(".tool").count() == 0
    assert "17 * 23" in steps.nth(0).locator(".tool .input").first.inner_text()
    assert "→ 391" in steps.nth(0).locator(".tool .output").first.inner_text()
    assert page.locator("#output").inner_text() == ANSWER
    assert "input +" in page.locator("#usage").inner_text()
    # the question rode in the #fragment, which goes in no request: what the server saw never held it
    on_the_wire = [urldefrag(url).url for url in sent]
    assert on_the_wire and not [url for url in on_the_wire if "question" in url or "calculator" in url], (
        on_the_wire
    )
    frames, events = page.evaluate("agent.frames.length"), page.evaluate("agent.events")
    assert frames < events, f"{frames} draws for {events} events: rendering is not coalesced"


def test_stop_keeps_what_arrived_and_stops_the_model(page, agent_server):
    model = embedded_model()
    # 2 tokens a second: the answer's 53 tokens take 26 s, so a browser starved for seconds by a busy
    # machine still clicks Stop while the model is generating (at 10 a second, one finished first)
    page.goto(f"{agent_server.url}/?autostart=1&token_delay=0.5#question={quote('What is SSE?')}")
    assert page.locator("#question").input_value() == "What is SSE?", "the page did not read its #fragment"
    sample(
        page,
        "document.getElementById('output').textContent.length",
        until="document.getElementById('output').textContent.length > 0",
    )
    page.locator("#stop").click()
    sample(page, "agent.state", until="agent.state === 'stopped'")
    kept = page.locator("#output").inner_text()
    assert kept and page.evaluate("agent.text") == kept
    record, deadline = model.last, time.monotonic() + 10
    while record.status == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.status == "cancelled", (
        "the model was still running 10 s after Stop"
        if record.status == "running"
        else f"the model's request ended {record.status!r} after {record.tokens_sent} tokens: Stop did not cancel it"
    )
