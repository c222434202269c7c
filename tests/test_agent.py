"""The agent: its tools, the loop's typed events, and the relay over real HTTP."""

import json
import logging
import time

import httpx
import pytest

from helpers.agent import calculator, create_agent_app, run_agent, search_docs
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.model_replies import answer_from_tool_results
from helpers.sse import parse

QUESTION = "Use the calculator for 17 * 23 and search the docs for Last-Event-ID."
ANSWER = answer_from_tool_results(
    QUESTION, [("calculator", "391"), ("search_docs", search_docs.invoke({"query": "Last-Event-ID"}))]
)


@pytest.mark.parametrize(
    "expression, result",
    [("17 * 23", "391"), ("2 ** 10 / 4", "256"), ("-(1.5 + 1)", "-2.5"), ("7 // 2 % 2", "1")],
)
def test_the_calculator_does_arithmetic(expression, result):
    assert calculator.invoke({"expression": expression}) == result


@pytest.mark.parametrize("expression", ["__import__('os').getcwd()", "1 / 0", "2 ** 100000", "x + 1", "1 +"])
def test_the_calculator_refuses_anything_else_with_a_result_not_a_crash(expression):
    assert calculator.invoke({"expression": expression}).startswith("error: ")


def test_search_docs_returns_the_best_note():
    assert search_docs.invoke({"query": "Last-Event-ID reconnects"}).startswith("The browser's EventSource:")


def collect(run, llm, question, **options):
    async def scenario():
        return [event async for event in run_agent(llm, question, **options)]

    return run(scenario())


def test_the_loop_streams_typed_events_step_by_step(llm, run):
    events = collect(run, llm, QUESTION)
    kinds = [kind for kind, _ in events]
    first_step = kinds[: kinds.index("step-finish") + 1]
    assert first_step[0] == "step-start" and "token" not in first_step
    assert first_step.count("tool-input-start") == 2 and first_step.count("tool-output") == 2
    assert (
        first_step.index("tool-input-delta")
        < first_step.index("tool-input-available")
        < first_step.index("tool-output")
    )
    starts = {data["id"]: data["name"] for kind, data in events if kind == "tool-input-start"}
    arguments = {
        call_id: "".join(d["delta"] for k, d in events if k == "tool-input-delta" and d["id"] == call_id)
        for call_id in starts
    }
    available = {data["id"]: data["input"] for kind, data in events if kind == "tool-input-available"}
    assert {
        call_id: json.loads(text) for call_id, text in arguments.items()
    } == available  # the deltas rebuild the input
    assert sorted(starts.values()) == ["calculator", "search_docs"]
    done = events[-1][1]
    assert kinds[-1] == "done" and done["complete"] and done["steps"] == 2
    assert done["text"] == ANSWER == "".join(d["text"] for k, d in events if k == "token")
    usage = [d for k, d in events if k == "usage"]
    assert [u["step"] for u in usage] == [1, 2] and done["usage"]["output_tokens"] == sum(
        u["output_tokens"] for u in usage
    )


def test_without_parallel_calls_the_tools_come_one_step_each(llm, run):
    events = collect(run, llm, QUESTION, parallel=False)
    assert [d["name"] for k, d in events if k == "tool-input-start"] == ["calculator", "search_docs"]
    assert events[-1][1]["steps"] == 3 and events[-1][1]["text"] == ANSWER


def test_a_model_failure_ends_with_a_safe_error_and_keeps_the_text(llm, run, caplog):
    with caplog.at_level(logging.ERROR, logger="helpers.agent"):
        events = collect(run, llm, "What is SSE?", lab={"fault": "error_after", "fault_at": 4})
    (kind, error), (last, done) = events[-2:]
    assert (kind, last) == ("stream_error", "done")
    assert error["request_id"] == done["request_id"] and error["request_id"] in caplog.text
    # internals only in the log
    assert "Traceback" not in json.dumps(error) and "simulated" not in json.dumps(error)
    assert "simulated" in caplog.text
    assert done["complete"] is False and done["text"] == "".join(reply_for("What is SSE?")[:4])


def test_a_step_limit_ends_the_run_without_an_answer(llm, run):
    events = collect(run, llm, QUESTION, max_steps=1)
    assert [k for k, _ in events[-2:]] == ["stream_error", "done"] and events[-2][1]["code"] == "max_steps"


@pytest.fixture(scope="module")
def agent_server(model):
    with serve(create_agent_app(), name="test-agent") as handle:
        yield handle


def test_the_relay_streams_the_events_to_a_post(agent_server):
    response = httpx.post(
        f"{agent_server.url}/agent",
        json={"question": QUESTION},
        headers={"Accept": "text/event-stream"},
        timeout=30,
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [(e.type, json.loads(e.data)) for e in parse(response.content)]
    assert events[0] == ("step-start", {"step": 1}) and events[-1][0] == "done"
    assert events[-1][1]["text"] == ANSWER


@pytest.mark.parametrize(
    "body", [{"question": ""}, {}, {"question": "x", "max_steps": 0}, {"question": "x", "surprise": 1}]
)
def test_bad_requests_get_422_before_any_stream(agent_server, body):
    response = httpx.post(f"{agent_server.url}/agent", json=body)
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"


def test_leaving_mid_answer_stops_the_model(agent_server, model):
    with httpx.Client(timeout=30) as client:
        with client.stream(
            "POST", f"{agent_server.url}/agent", json={"question": "What is SSE?", "token_delay": 0.05}
        ) as response:
            for line in response.iter_lines():
                if line.startswith("event: token"):
                    break
    record = model.last
    deadline = time.monotonic() + 10
    while record.status == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert record.status == "cancelled", f"the model was still {record.status} 10 s after the page left"


def test_the_page_is_served_with_its_script(agent_server):
    page = httpx.get(f"{agent_server.url}/")
    assert page.status_code == 200 and '<script src="agent.js">' in page.text
    assert "readEventStream" in httpx.get(f"{agent_server.url}/agent.js").text
