"""A small streaming agent: model → tools → model, each step relayed to a page as typed SSE events.

    run_agent(llm, question)   an async generator of (event, data) pairs, in this order per step:

        step-start            {"step"}
        tool-input-start      {"step", "index", "id", "name"}       a call begins: id and name first
        tool-input-delta      {"index", "id", "delta"}              a piece of its JSON arguments
        token                 {"text"}                              a piece of the answer
        usage                 {"step", "input_tokens", "output_tokens"}   from the model's usage chunk
        tool-input-available  {"id", "name", "input"}               the arguments, complete and parsed
        tool-output           {"id", "name", "output"}              the tool's result
        step-finish           {"step", "finish_reason"}             a step is one model call and its tools
      and once, at the end:
        stream_error          {"code", "message", "request_id"}     only on failure; internals go to the log
        done                  {"complete", "text", "steps", "usage", "request_id"}

    create_agent_app()         POST /agent streams those events for a fetch() reader (JSON body,
                               validated with a 422 before the stream); GET / is the page.

Names: the course's own for what the relay already sends (`token`, `stream_error`, `done`), the
Vercel AI SDK's stream protocol for what is new (`tool-input-start`, `tool-input-delta`,
`tool-input-available`, `start-step`/`finish-step` as `step-start`/`step-finish`).
"""

from __future__ import annotations

import ast
import logging
import operator
import uuid
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.sse import EventSourceResponse, ServerSentEvent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from .embedded_model import LazyModel, is_embedded, server_chat_model
from .retrieval import retrieve
from .static_pages import add_pages

__all__ = ["calculator", "search_docs", "TOOLS", "SYSTEM", "run_agent", "AgentParams", "create_agent_app"]

log = logging.getLogger(__name__)

SYSTEM = "Use the tools for arithmetic and for questions about the course's notes. Answer briefly, from the tool results."

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        if isinstance(node.op, ast.Pow) and abs(_evaluate(node.right)) > 100:
            raise ValueError("exponent too large")
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"not arithmetic: {ast.unparse(node)}")


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression: numbers, + - * / // % ** and parentheses."""
    try:
        value = _evaluate(ast.parse(expression.replace("×", "*").replace("^", "**"), mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError) as exc:
        return f"error: {exc}"  # a tool failure is a result the model can read, not a crash
    return str(int(value) if float(value).is_integer() else round(value, 10))


@tool
def search_docs(query: str) -> str:
    """Search the course's notes on streaming; returns the best matching note."""
    doc = retrieve(query, k=1)[0]
    return f"{doc.title}: {doc.text}"


TOOLS = (calculator, search_docs)


def _usage_of(chunk) -> dict | None:
    usage = getattr(chunk, "usage_metadata", None)
    return {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"]} if usage else None


async def run_agent(
    llm, question: str, *, tools=TOOLS, max_steps: int = 4, parallel: bool = True, lab: dict | None = None
) -> AsyncIterator[tuple[str, dict]]:
    """Run the loop and yield its typed events; a failure ends with `stream_error` and `done`, never a raise."""
    request_id = uuid.uuid4().hex[:12]  # shown to the user; the log line carries the same id
    by_name = {t.name: t for t in tools}
    bound = llm.bind_tools(list(tools), parallel_tool_calls=parallel)
    options = {"extra_body": {"lab": lab}} if lab and is_embedded(llm) else {}
    messages = [SystemMessage(SYSTEM), HumanMessage(question)]
    text, total, step, complete = "", {"input_tokens": 0, "output_tokens": 0}, 0, False
    try:
        while step < max_steps:
            step += 1
            yield "step-start", {"step": step}
            ids: dict[
                int, str
            ] = {}  # a call's id comes with its first piece only: later pieces carry the index
            message = None
            async for chunk in bound.astream(messages, **options):
                message = chunk if message is None else message + chunk
                for piece in chunk.tool_call_chunks:
                    index = piece.get("index") or 0
                    if piece.get("id"):
                        ids[index] = piece["id"]
                        yield (
                            "tool-input-start",
                            {"step": step, "index": index, "id": piece["id"], "name": piece.get("name")},
                        )
                    if piece.get("args"):
                        yield (
                            "tool-input-delta",
                            {"index": index, "id": ids.get(index), "delta": piece["args"]},
                        )
                if isinstance(chunk.content, str) and chunk.content:
                    text += chunk.content
                    yield "token", {"text": chunk.content}
                if usage := _usage_of(chunk):
                    total = {key: total[key] + usage[key] for key in total}
                    yield "usage", {"step": step, **usage}
            calls = message.tool_calls if message is not None else []
            if calls:
                messages.append(AIMessage(content=message.content, tool_calls=calls))
            for call in calls:
                yield "tool-input-available", {"id": call["id"], "name": call["name"], "input": call["args"]}
                chosen = by_name.get(call["name"])
                output = (
                    str(await chosen.ainvoke(call["args"]))
                    if chosen
                    else f"error: no tool named {call['name']!r}"
                )
                messages.append(ToolMessage(output, tool_call_id=call["id"]))
                yield "tool-output", {"id": call["id"], "name": call["name"], "output": output}
            finish = (message.response_metadata or {}).get("finish_reason") if message is not None else None
            yield "step-finish", {"step": step, "finish_reason": finish}
            if not calls:
                complete = True
                break
        else:
            yield (
                "stream_error",
                {
                    "code": "max_steps",
                    "message": f"No answer after {max_steps} steps.",
                    "request_id": request_id,
                },
            )
    except Exception as exc:  # CancelledError is not an Exception: a disconnect still cancels the model
        log.exception("agent run %s failed", request_id)
        code = (
            getattr(exc, "code", None) if isinstance(getattr(exc, "code", None), str) else type(exc).__name__
        )
        yield (
            "stream_error",
            {
                "code": code or "agent_error",
                "message": "The agent stopped with an error; the text so far is kept.",
                "request_id": request_id,
            },
        )
    yield (
        "done",
        {"complete": complete, "text": text, "steps": step, "usage": total, "request_id": request_id},
    )


class AgentParams(BaseModel):
    """What the page may ask for; anything else is a 422 before any stream starts."""

    question: str = Field(min_length=1, max_length=2000)
    max_steps: int = Field(4, ge=1, le=8)
    parallel: bool = True
    token_delay: float | None = Field(
        None, ge=0, le=2, description="lab: slow the embedded model down to watch it"
    )
    model_config = {"extra": "forbid"}


def create_agent_app(llm_factory=server_chat_model) -> FastAPI:
    """POST /agent: the agent's events as SSE, for a page that reads the response with fetch()."""
    app = FastAPI(title="Streaming Lab agent")
    llm = LazyModel(llm_factory)  # made on the first request, in the server's own loop
    app.state.runs = []  # the done event of every finished run: what a test or the notebook reads back

    @app.post("/agent", response_class=EventSourceResponse)
    async def agent(params: AgentParams):
        lab = {"token_delay": params.token_delay} if params.token_delay is not None else None
        async for event, data in run_agent(
            llm, params.question, max_steps=params.max_steps, parallel=params.parallel, lab=lab
        ):
            if event == "done":
                app.state.runs.append(data)
            yield ServerSentEvent(event=event, data=data)

    add_pages(app, {"/": "agent.html", "/agent.js": "agent.js"})
    return app
