"""The interview drill's strong answers, in 中文 and in English, filled from the learner's own measurements.

The four questions come from the Chinese interview notes the course started from. Each answer is a
list of points; each point holds a Chinese and an English template with the same placeholders,
and both are filled from one set of facts derived from `helpers.evidence.load()`. So the two
languages cannot drift apart, and no number is typed into either of them.

The Chinese is written Chinese, not a word-for-word translation: short sentences, the standard
technical terms (the glossary's), and the English term in parentheses where a term first appears.

    found = await measure_missing(evidence.load())  # what was recorded, plus quick stand-ins for skipped notebooks
    DrillView(found, question=1)                    # a widget: 中文 / English / both (all four without `question`)
    markdown(found, "zh")                           # or text(found, "en"), for a cell or a file
    GlossaryView(terms_used(found))                 # the glossary, filtered to the terms the answers use
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass, field

from . import evidence
from .glossary import inline_html

__all__ = [
    "Point",
    "Question",
    "QUESTIONS",
    "LANGUAGES",
    "QUICK",
    "facts",
    "render",
    "markdown",
    "text",
    "to_html",
    "placeholders",
    "terms_used",
    "recorded_by",
    "gaps",
    "measure_missing",
    "DrillView",
]

LANGUAGES = ("zh", "en", "both")
# What notebook 11 measures on the spot when the notebook that records it was skipped: each takes seconds.
QUICK = ("server.first_byte", "cost.framing")


@dataclass(frozen=True)
class Point:
    zh: str
    en: str
    needs: tuple[str, ...] = ()  # evidence names whose facts the templates use
    quotes: tuple[str, ...] = ()  # the source material's own words, quoted in both templates


@dataclass(frozen=True)
class Question:
    number: int
    asked_zh: str  # the source material's own words
    asked_en: str
    points: tuple[Point, ...] = field(repr=False)


QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "请解释什么是流式输出,以及它与普通响应的区别",
        "Explain what streaming output is, and how it differs from a normal response.",
        (
            Point(
                "流式输出（streaming）就是边生成边发送：服务端不等回答写完，写出一部分就发一部分。我从三个层面来讲。",
                "Streaming means sending the answer while it is being produced, not after it is finished. I explain it at three levels.",
            ),
            Point(
                "**协议层面**：大模型接口一般用服务器发送事件（Server-Sent Events，SSE）。它是一个 `Content-Type` 为 `text/event-stream` 的普通 HTTP 响应，回答写完之前一直不关闭。"
                "响应体是一个事件流（event stream）：每个事件由 `data:` 行组成，以空行结束。SSE 只是格式之一，分块传输的 NDJSON、WebSocket、gRPC 流也都能流式输出。",
                "**Protocol.** Chat APIs use Server-Sent Events (SSE): one ordinary HTTP response with `Content-Type: text/event-stream` that stays open until the answer is done. "
                "Its body is an event stream: each event is `data:` lines ended by a blank line. SSE is one format among several; chunked HTTP with NDJSON, WebSocket and gRPC streams stream too.",
            ),
            Point(
                "**实现层面**：Python 后端用异步生成器（async generator）逐段 `yield` 出内容。注意，FastAPI 的 `StreamingResponse` 只是把 `yield` 出来的字节原样发出，并不会封装成 SSE。"
                "事件的分帧（framing）要么自己写，要么交给 `fastapi.sse`。",
                "**Implementation.** In Python the handler is an async generator that yields the answer piece by piece. FastAPI's `StreamingResponse` sends the bytes each `yield` gives it as they are; "
                "it does not frame SSE. I frame the events myself, or let `fastapi.sse` do it.",
            ),
            Point(
                "**应用层面**：用户能更早看到第一个字，也就是打字机效果（typewriter effect）。我实测过：流式响应的首字节时间（time to first byte，TTFB）是 {fb_streamed} 秒，"
                "普通响应（buffered response）是 {fb_buffered} 秒；总耗时分别是 {fb_total_streamed} 秒和 {fb_total_buffered} 秒。活一样多，只是开始得早。",
                "**Application.** The user sees the first words early: the typewriter effect. I measured it: the first byte arrived after {fb_streamed} s streamed and after {fb_buffered} s buffered, "
                "and the total time was {fb_total_streamed} s against {fb_total_buffered} s. The same work, started earlier.",
                needs=("server.first_byte",),
            ),
            Point(
                "换成聊天模型也一样（{ft_model}）：`astream` 的首 token 时延（time to first token）是 {ft_astream} 秒，`ainvoke` 要等 {ft_ainvoke} 秒才拿到完整回答。",
                "With a chat model ({ft_model}) it is the same: `astream` gave the first token after {ft_astream} s, while `ainvoke` returned the whole reply after {ft_ainvoke} s.",
                needs=("model.first_token",),
            ),
            Point(
                "常有人把两者说成短连接对长连接（long-lived connection），原文的表格就写着“短连接(请求-响应)”对“长连接(持续推送)”。"
                "其实 HTTP/1.1 的普通响应也会复用连接。流式输出真正拉长的是响应，而不是连接。",
                "People often call it a short connection against a long one; the source's table says “短连接(请求-响应)” against “长连接(持续推送)” (short connection, request-response, against long connection, continuous push). "
                "But HTTP/1.1 keeps connections open for normal responses too. What streaming makes long is the response, not the connection.",
                quotes=("短连接(请求-响应)", "长连接(持续推送)"),
            ),
            Point(
                "和普通响应的根本区别在于：状态码随第一个字节一起发出。之后再出错，状态码已经改不了，只能在流里发送错误事件（error event），见问题 3。",
                "The real difference from a normal response: the status code goes out with the first byte. A failure after that cannot change it; it has to travel in the stream as an error event (question 3).",
            ),
        ),
    ),
    Question(
        2,
        "SSE 和 WebSocket 有什么区别?什么时候用 SSE,什么时候用 WebSocket?",
        "What is the difference between SSE and WebSocket? When do you use SSE, and when WebSocket?",
        (
            Point(
                "我从五个维度来比较，每一个我都实际验证过。",
                "I compare them on five dimensions, and I have seen each one happen.",
            ),
            Point(
                "**协议**：SSE 就是普通的 HTTP 响应。WebSocket 是独立的协议：先用一个 HTTP 请求完成协议升级（protocol upgrade，`101 Switching Protocols`），之后双方收发的是帧。",
                "**Protocol.** SSE is an ordinary HTTP response. WebSocket is a protocol of its own: an HTTP request is upgraded (`101 Switching Protocols`), and from then on both sides send frames.",
            ),
            Point(
                "同一个回答，我数过线上的字节：SSE 上行 {tb_sse_up} 字节、下行 {tb_sse_down} 字节；WebSocket 不压缩时上行 {tb_ws_up} 字节、下行 {tb_ws_down} 字节，"
                "开启 permessage-deflate 压缩后下行 {tb_wsd_down} 字节。",
                "For the same answer I counted the bytes on the wire: SSE {tb_sse_up} B up and {tb_sse_down} B down; WebSocket {tb_ws_up} B up and {tb_ws_down} B down uncompressed, "
                "and {tb_wsd_down} B down with permessage-deflate.",
                needs=("transport.bytes",),
            ),
            Point(
                "**通信方向**：SSE 只从服务端发往客户端，是典型的服务端推送（server push）。但客户端随时可以另发 HTTP 请求，只是不能走同一条连接。"
                "WebSocket 则在一条连接上双向通信（two-way communication）。",
                "**Direction.** SSE runs from server to client only. The client can still send whenever it likes, with separate HTTP requests; it just cannot send on the same connection. "
                "WebSocket is two-way on one connection.",
            ),
            Point(
                "我测过中途停止生成：WebSocket 发一条消息用了 {stop_ws} 毫秒，SSE 另发一个 POST 用了 {stop_sse} 毫秒。做一个“停止”按钮，两种都够快。",
                "I measured a stop in the middle of a stream: {stop_ws} ms with a WebSocket message, {stop_sse} ms with a separate POST beside SSE. Both are fast enough for a Stop button.",
                needs=("transport.stop_latency_ms",),
            ),
            Point(
                "**浏览器 API**：`EventSource` 会自己解析事件，但只能发 GET，也不能加自定义请求头。要 POST 或带请求头，就用 `fetch()` 读流，自己解析。"
                "WebSocket 给的是一条条消息，上面的协议要自己设计。",
                "**Browser API.** `EventSource` parses the events for me, but it only sends GET, without custom headers. For a POST or a header, I read the stream with `fetch()` and parse it myself. "
                "WebSocket gives me messages; the protocol on top is mine to design.",
            ),
            Point(
                "**重连**（reconnection）：连接断了，`EventSource` 会自动重新连接，并带上 `Last-Event-ID` 请求头。只要事件带了 `id:`，服务端就能断点续传（resume）。"
                "WebSocket 断了就是断了，重连和续传都要自己写。",
                "**Reconnection.** When the connection drops, `EventSource` reconnects by itself and sends `Last-Event-ID`; if the events carry `id:`, the server can resume. "
                "A WebSocket stays closed: reconnecting and resuming are application code.",
            ),
            Point(
                "**代理**：两者都能穿过 HTTP 代理。但会缓冲的代理会把 SSE 攒到结束才一起发出，这就是代理缓冲（proxy buffering）：nginx 这类反向代理（reverse proxy）要加 `X-Accel-Buffering: no`，"
                "jupyter-server-proxy 只在 `Accept: text/event-stream` 时才流式转发。空闲的流还要定期发心跳（heartbeat），否则会被代理的读超时（timeout）切断。WebSocket 则要求每一跳都允许协议升级。",
                "**Proxies.** Both pass through HTTP proxies, but a buffering proxy holds SSE back until the end: a reverse proxy such as nginx needs `X-Accel-Buffering: no`, "
                "and jupyter-server-proxy streams only when `Accept` is `text/event-stream`. An idle stream also needs a heartbeat, or the proxy's read timeout cuts it. WebSocket needs the upgrade allowed on every hop.",
            ),
            Point(
                "我在 nginx 后面测过：默认配置下，token {px_default}；加上 `X-Accel-Buffering: no` 后，{px_accel}。流空闲的时间超过 `proxy_read_timeout`，nginx 在第 {px_cut} 个 token 之后就切断了连接；{px_pings}。",
                "I measured it behind nginx: with its defaults the tokens {px_default}; with `X-Accel-Buffering: no` they {px_accel}. A stream left idle for longer than `proxy_read_timeout` was cut after {px_cut} tokens; {px_pings}.",
                needs=("production.proxy",),
            ),
            Point(
                "**怎么选**：带“停止”按钮的聊天回答，本质上是单向的：用 SSE，停止时另发一个 POST。协作白板这种每个客户端都不停发送的场景，才需要 WebSocket。",
                "**My choice.** A chat answer with a Stop button is one-way traffic: SSE, and a POST for the stop. A collaborative whiteboard, where every client sends all the time, needs WebSocket.",
            ),
        ),
    ),
    Question(
        3,
        "流式输出中如何处理错误?如果生成到一半出错了怎么办?",
        "How do you handle errors in streaming output? What if generation fails halfway?",
        (
            Point(
                "难点在于：第一个字节发出后，状态码就定死是 200，发出去的内容也收不回来。所以我按错误发生的时机分开处理。",
                "The difficulty: after the first byte, the status is 200 for good, and what was sent cannot be taken back. So I sort errors by when they happen.",
            ),
            Point(
                "**流开始之前**：先做参数验证（validation）。请求不合法就直接返回 4xx：不是 JSON 返回 415，请求体太大返回 413，字段不对返回 422。流的一个字节都不发，模型也不调用。",
                "**Before the stream.** Validate first. A bad request gets a 4xx: 415 if it is not JSON, 413 if it is too large, 422 if a field is wrong. No byte of the stream is sent, and the model is never called.",
            ),
            Point(
                "**第一个 token 之前**：上游限流（rate limiting，HTTP 429）或 5xx 通常发生在这里。这时还什么都没发出去，所以按 `Retry-After` 重试，加上退避（backoff）；"
                "或者先不返回 200，等第一个 token 到了再开始流，这样失败时还能返回真正的 429。只有等待超出预算，才变成错误事件。",
                "**Before the first token.** An upstream rate limit (HTTP 429) or a 5xx usually comes here. Nothing has been sent yet, so retry, honouring `Retry-After`, with backoff; "
                "or hold the 200 until the first token arrives, so that a failure can still be a real 429. Only a wait beyond the budget becomes an error event.",
            ),
            Point(
                "**流进行中**：模型报错、超时，都转换成一个错误事件（比如叫 `stream_error`），只带错误码和请求 ID（限流时再带上 `retry_after`）；详细信息只写进日志。"
                "然后发一个 `done` 事件，带上已经生成的部分结果（partial answer）。前端保留已经显示的内容，并提供重试。",
                "**During the stream.** A model error or a timeout becomes an error event (say `stream_error`) that carries a code and a request id (and `retry_after` for a rate limit); "
                "the details go to the log only. Then a `done` event carries the partial answer. The client keeps what it has shown and offers to retry.",
            ),
            Point(
                "这个事件不要叫 `error`。`EventSource` 自己的连接错误也叫 `error`，两者混在一起，前端就分不清是服务端报错还是连接断了。",
                "Do not name that event `error`: `EventSource` fires `error` for its own connection failures, and the client can no longer tell the server's error from a dropped connection.",
            ),
            Point(
                "**网络中断**：每个事件都带 `id:`，服务端把每个流的事件存进流存储（stream store）。`EventSource` 重连时带上 `Last-Event-ID`，缺的事件一个不少、一个不重地补回来。"
                "部署了多个进程时，事件要放在它们共用的存储里（比如 SQLite、Redis）：只存在一个进程的内存里，重连落到另一个进程就续不上。",
                "**Network drop.** Every event carries an `id:`, and the server keeps each stream's events in a stream store. `EventSource` reconnects with `Last-Event-ID` and receives each missing event exactly once. "
                "With several worker processes, the events belong in a store they share (SQLite, Redis): kept in one process's memory, they are lost to a reconnect that lands on another.",
            ),
            Point(
                "**客户端离开**：客户端断开（client disconnect）不等于用户要停止。对可以续传的流，断开可能只是刷新页面或网络抖动，用户还在等这个回答，所以生成继续，事件照存；"
                "停止是一个单独的请求（比如 `POST /streams/…/stop`），它取消（cancel）上游的模型调用，再用 `done` 发回已有的部分结果。"
                "不能续传的流（回答就在 POST 的响应里）没有人会回来取，断开就等于停止：马上取消模型调用，别让它继续花钱。",
                "**Client gone.** A client disconnect is not a request to stop. On a stream that can resume, it may be a reload or a network blip, and the user still wants the answer: the generation goes on, and its events are kept. "
                "Stopping is a request of its own (say `POST /streams/…/stop`) that cancels the upstream model call and sends the partial answer in `done`. "
                "A stream that cannot resume (the answer is in a POST's response) has nobody coming back: there a disconnect is a stop, so cancel the model call before it costs more.",
            ),
            Point(
                "我测过一次停止（{st_model}）：客户端收到 {st_chunks} 个数据块（chunk）后取消读取，模型{st_stop}，一共生成了 {st_tokens} 个 token。",
                "I measured a stop ({st_model}): the client cancelled its read after {st_chunks} chunks, and the model {st_stop}, having generated {st_tokens} tokens in all.",
                needs=("agent.stopped_stream",),
            ),
            Point(
                "代码里我会检查三点：`finally` 里不要 `yield`，生成器被关闭后不能再产出；不要吞掉 `asyncio.CancelledError`；取消之后还要做的事（比如保存部分结果）放进 `except asyncio.CancelledError:`，用 `asyncio.shield` 保护。",
                "Three things I check in the code: no `yield` inside `finally` (a closed generator must not yield again); never swallow `asyncio.CancelledError`; "
                "and work that must happen after a cancel (saving the partial answer) goes in `except asyncio.CancelledError:`, under `asyncio.shield`.",
            ),
        ),
    ),
    Question(
        4,
        "流式输出会影响性能吗?什么时候应该用流式输出?",
        "Does streaming affect performance? When should you stream?",
        (
            Point(
                "流式输出不会让活干得更快，它只是把第一个字节提前了。它优化的是用户感知速度（perceived speed），不是总耗时。"
                "原文说得对：“流式输出是用代码复杂度换用户体验,而不是性能优化”。我的测量还要补一句：代价不只是代码复杂度，还有字节和 CPU。",
                "Streaming does not make the work faster; it moves the first byte forward. It improves perceived speed, not total time. "
                "The source gets the key point right: “流式输出是用代码复杂度换用户体验,而不是性能优化” (streaming trades code complexity for user experience; it is not a performance optimisation). "
                "My measurements add that the price is paid in bytes and CPU too.",
                quotes=("流式输出是用代码复杂度换用户体验,而不是性能优化",),
            ),
            Point(
                "**网络开销**：一段 {fr_text} 字节的回答，每个 token 一行 `data:` 的 SSE 要发送正文的 {fr_sse} 倍；每个 token 再包一层 JSON，就是 {fr_json} 倍。"
                "所以原文说网络开销“≈ 持平(总数据量相同)”，并不成立。",
                "**Network.** For an answer of {fr_text} B of text, SSE with one `data:` line per token sent {fr_sse}× the text, and JSON per token {fr_json}×. "
                "So the source's “≈ 持平(总数据量相同)” (about equal, the same total data) does not hold.",
                needs=("cost.framing",),
                quotes=("≈ 持平(总数据量相同)",),
            ),
            Point(
                "**CPU**：在我测量的网格里，流式响应占用的服务端 CPU 是普通响应的 {dt_cpu_min} 倍到 {dt_cpu_max} 倍，也不是原文说的“≈ 持平”。",
                "**CPU.** Across my measured grid, a streamed response used {dt_cpu_min}× to {dt_cpu_max}× the server CPU of a buffered one: not “≈ 持平” (about equal) either.",
                needs=("cost.decision_table",),
                quotes=("≈ 持平",),
            ),
            Point(
                "**内存**：响应很大时差别才明显。一个大响应流式发送时，内存峰值（peak memory）是 {mem_streamed} MiB；先整体构建再发送，是 {mem_whole} MiB。",
                "**Memory.** The difference shows on large responses: a large body peaked at {mem_streamed} MiB streamed, against {mem_whole} MiB built whole.",
                needs=("server.memory_peak",),
            ),
            Point(
                "**慢读者**（slow reader）：一个停止读取的客户端，在无界队列的设计里让应用攒下了 {sr_unbounded} MiB；用背压（backpressure）让写入方跟着放慢，是 {sr_flow} MiB；"
                "用有上限的队列（满了就断开这个客户端），是 {sr_bounded} MiB。",
                "**Slow reader.** A client that stopped reading made the app hold {sr_unbounded} MiB with an unbounded queue; {sr_flow} MiB with backpressure (the writer slowed down to the reader); "
                "{sr_bounded} MiB with a bounded queue that disconnects the laggard.",
                needs=("production.slow_reader",),
            ),
            Point(
                "**并发**：一个 worker 同时保持 {sw_streams} 个流，事件从发出到收到的 p99 延迟是 {sw_p99} 毫秒，每个流约占 {sw_rss} KiB 内存，占用 {sw_cpu}% CPU。每个回答都要占着一个连接和一点内存，直到写完：这也是流式输出的成本。",
                "**Concurrency.** One worker held {sw_streams} streams at once: a p99 of {sw_p99} ms from each event's send to its arrival, about {sw_rss} KiB of memory per stream, and {sw_cpu}% CPU. "
                "Every answer holds a connection and some memory until it ends: that too is part of what streaming costs.",
                needs=("production.streams_per_worker",),
            ),
            Point(
                "**等待时间**：在我的决策表里，流式输出省下的等待多的有 {dt_max_saved} 秒（{dt_max_case}），少的只有 {dt_min_saved} 秒（{dt_min_case}）。",
                "**Waiting.** In my decision table, streaming saved up to {dt_max_saved} s of waiting ({dt_max_case}) and as little as {dt_min_saved} s ({dt_min_case}).",
                needs=("cost.decision_table",),
            ),
            Point(
                "**费用**：费用按 token 计算。多轮对话（multi-turn chat）每一轮都要把历史重新发送一遍：我测的 {ht_turns} 轮对话（{ht_model}）一共发送了 {ht_with} 个输入 token，"
                "单独发送这些问题只要 {ht_alone} 个，是 {ht_ratio} 倍。流式输出省不了这部分；能省下的，是用户中途停止之后不再生成的 token（见问题 3）。",
                "**Cost.** Tokens are what is billed. A multi-turn chat sends its history again every turn: my {ht_turns}-turn chat ({ht_model}) sent {ht_with} input tokens in all, "
                "against {ht_alone} for the questions alone, {ht_ratio}× as many. Streaming does not save those; what it can save is the tokens never generated after a user stops (question 3).",
                needs=("agent.history_tokens",),
            ),
            Point(
                "**什么时候用**：省下的等待在 1 秒以上，就值得流式输出；不到 0.1 秒就不必；介于两者之间，看界面能不能受益。有三种情况要小心："
                "必须完整使用的结构化输出（structured output），等生成完再一次性解析；要先审核再展示的内容（content moderation），先缓冲，或者隔几个 token 再显示；"
                "要么全部成功、要么全部失败的事务（transaction），只流式发送进度，最后再给结论。",
                "**When to stream.** When it saves 1 s of waiting or more; below 0.1 s it is not worth it; in between, when the interface benefits. Three cases need care: "
                "structured output that is needed whole (parse it once, at the end); text that must be moderated before anyone sees it (buffer it, or hold back a few tokens); "
                "and all-or-nothing transactions (stream only the progress, and send the verdict last).",
            ),
            Point(
                "原文里的 A/B 测试数字无法复现，我不引用；我只说自己测得出来的数。",
                "I leave out A/B figures that nobody can reproduce, and cite only numbers I measured myself.",
            ),
        ),
    ),
)


# --- facts: the measured values, formatted once for both languages -------------------------------


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _first_byte(v) -> dict:
    return {
        "fb_streamed": _seconds(v["streamed"]),
        "fb_buffered": _seconds(v["buffered"]),
        "fb_total_streamed": _seconds(v["total_streamed"]),
        "fb_total_buffered": _seconds(v["total_buffered"]),
    }


def _model(name, recorded_by: str | None = None):
    """Which model a measurement came from, in words: the offline one is labelled a simulation, in each language."""
    from .embedded_model import MODEL_NAME

    if name is None:  # the record does not say: name the notebook, claim nothing about the model
        return {"zh": f"笔记本 {recorded_by} 所用的模型", "en": f"notebook {recorded_by}'s model"}
    if str(name) == MODEL_NAME:
        return {"zh": f"课程内置的离线模拟模型 {name}", "en": f"the course's offline simulated model, {name}"}
    return str(name)


def _first_token(v) -> dict:
    return {
        "ft_model": _model(v["model"]),
        "ft_astream": _seconds(v["astream"]),
        "ft_ainvoke": _seconds(v["ainvoke"]),
    }


def _memory(v) -> dict:
    return {"mem_streamed": f"{v['streamed'] / 2**20:.1f}", "mem_whole": f"{v['whole'] / 2**20:.1f}"}


def _transport_bytes(v) -> dict:
    sse, ws, deflate = v["SSE"], v["WebSocket, no compression"], v["WebSocket, deflate"]
    return {
        "tb_sse_up": str(int(sse["up"])),
        "tb_sse_down": str(int(sse["down"])),
        "tb_ws_up": str(int(ws["up"])),
        "tb_ws_down": str(int(ws["down"])),
        "tb_wsd_down": str(int(deflate["down"])),
    }


def _stop(v) -> dict:
    return {"stop_ws": f"{v['websocket']:.1f}", "stop_sse": f"{v['sse_post']:.1f}"}


def _framing(v) -> dict:
    text = v["raw text"]
    return {
        "fr_text": str(int(text)),
        "fr_sse": f"{v['SSE data line'] / text:.1f}",
        "fr_json": f"{v['SSE, JSON per token'] / text:.1f}",
    }


def _decision_table(rows) -> dict:
    grid = [row for row in rows if row["wait_saved_s"] is not None]  # the measured length × speed cells
    most = max(grid, key=lambda row: row["wait_saved_s"])
    least = min(grid, key=lambda row: row["wait_saved_s"])
    cpu = [row["cpu_ratio"] for row in grid]
    return {
        # A negative "saving" is timer noise around zero: say zero rather than "saved -0.00 s".
        "dt_max_saved": _seconds(max(most["wait_saved_s"], 0.0)),
        "dt_max_case": f"{most['output']}, {most['speed']}",
        "dt_min_saved": _seconds(max(least["wait_saved_s"], 0.0)),
        "dt_min_case": f"{least['output']}, {least['speed']}",
        "dt_cpu_min": f"{min(cpu):.1f}",
        "dt_cpu_max": f"{max(cpu):.1f}",
    }


def _history_tokens(v) -> dict:
    turns, alone = v["turns"], v["alone"]
    with_history, questions = sum(int(t["input_tokens"]) for t in turns), sum(int(n) for n in alone)
    return {
        "ht_turns": str(len(turns)),
        "ht_with": str(with_history),
        "ht_alone": str(questions),
        "ht_ratio": f"{with_history / questions:.1f}",
        "ht_model": _model(v.get("model"), "05"),
    }


def _stopped_stream(v) -> dict:
    from .embedded_model import MODEL_NAME

    delay = v["stop_delay"]
    if delay is None:  # the model kept generating after the cancel: the finding, said as it is
        stop = {"zh": "在取消之后一直没有停下", "en": "did not stop after the cancel"}
    else:
        ms = f"{float(delay) * 1000:.1f}"
        stop = {"zh": f"在取消后 {ms} 毫秒停下", "en": f"stopped {ms} ms after the cancel"}
    # Only the embedded model keeps a record of what it generated after a cancel (notebook 05 records
    # this offline), so without a model name it is that simulation.
    return {
        "st_model": _model(v.get("model", MODEL_NAME)),
        "st_chunks": str(int(v["chunks_received"])),
        "st_tokens": str(int(v["tokens_generated"])),
        "st_stop": stop,
    }


_DELIVERY_ZH = {
    "live": "实时到达",
    "in one burst at the end": "到最后才一次性到达",
    "no events": "一个也没有到达",
}


def _delivery(how: str) -> dict:
    """notebook 08's words for how the tokens came through a proxy, in both languages."""
    bursts = re.fullmatch(r"in (\d+) bursts", how)
    # an unknown phrase: KeyError, an older shape
    zh = f"分 {bursts.group(1)} 批到达" if bursts else _DELIVERY_ZH[how]
    en = {"live": "arrived live", "no events": "never arrived"}.get(how, f"arrived {how}")
    return {"zh": zh, "en": en}


def _proxy(v) -> dict:
    delivery = v["delivery"]
    pings = (
        {
            "zh": "期间定期发一行 SSE 注释作为心跳（heartbeat），同样空闲的流就完整收到了 `done`",
            "en": "with an SSE comment sent meanwhile as a heartbeat, the same idle stream got its `done`",
        }
        if v["pings_kept_it_open"]
        else {
            "zh": "期间定期发心跳也没能保住这个流",
            "en": "heartbeats sent meanwhile did not keep it open either",
        }
    )
    return {
        "px_default": _delivery(delivery["nginx defaults"]),
        "px_accel": _delivery(delivery["+ X-Accel-Buffering: no"]),
        "px_cut": str(int(v["idle_cut_after_tokens"])),
        "px_pings": pings,
    }


def _slow_reader(v) -> dict:
    return {
        f"sr_{design}": f"{v[design]['held_bytes'] / 2**20:.1f}"
        for design in ("unbounded", "flow", "bounded")
    }


def _streams_per_worker(rows) -> dict:
    # cite the most streams that were all served
    served = [row for row in rows if row["ok"] == row["streams"]]
    most = max(served, key=lambda row: row["streams"])
    return {
        "sw_streams": str(int(most["streams"])),
        "sw_p99": f"{most['p99_ms']:.1f}",
        "sw_rss": f"{most['rss_per_stream_kib']:.1f}",
        "sw_cpu": f"{most['cpu_percent']:.1f}",
    }


_FACTS = {
    "server.first_byte": _first_byte,
    "model.first_token": _first_token,
    "server.memory_peak": _memory,
    "transport.bytes": _transport_bytes,
    "transport.stop_latency_ms": _stop,
    "cost.framing": _framing,
    "cost.decision_table": _decision_table,
    # Recorded by notebook 05. A point that needs a name not (yet) in evidence.KEYS is left out (render).
    "agent.stopped_stream": _stopped_stream,
    "agent.history_tokens": _history_tokens,
    # Recorded by notebook 08.
    "production.proxy": _proxy,
    "production.slow_reader": _slow_reader,
    "production.streams_per_worker": _streams_per_worker,
}


def facts(found: dict) -> tuple[dict, dict[str, str]]:
    """(values, problems): the formatted facts, and for each unusable measurement why ("missing" or "old").

    A value is one string for both languages, or {"zh": …, "en": …} where words go with it.
    """
    values, problems = {}, {}
    for name, derive in _FACTS.items():
        if name not in found:
            problems[name] = "missing"
            continue
        try:
            values.update(derive(found[name]["value"]))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            problems[name] = "old"  # recorded by an older version of the notebook, in another shape
    return values, problems


# --- rendering ----------------------------------------------------------------------------------


def recorded_by(name: str) -> str | None:
    """The number of the notebook that records `name`: the "(NN)" at the end of its description in evidence.KEYS."""
    match = re.search(r"\((\d\d)\)\s*$", evidence.KEYS.get(name, ""))
    return match.group(1) if match else None


def gaps(found: dict) -> dict[str, str]:
    """The measurements not (yet) taken by their own notebook: name -> "not measured yet" or "measured here, quickly"."""
    return {
        name: "measured here, quickly" if name in found else "not measured yet"
        for name in evidence.KEYS
        if name not in found or found[name]["source"].endswith("(quick)")
    }


def _recorded_by(name: str):
    """The notebook (helpers.course) that records `name`, or None."""
    from . import course

    number = recorded_by(name)
    try:
        return course.by_number(number) if number else None
    except StopIteration:
        return None


def _missing_sentence(name: str, problem: str, lang: str) -> str:
    nb = _recorded_by(name)
    if nb is None:
        return {"zh": f"这一项还没有测量：{name}。", "en": f"Not measured yet: {name}."}[lang]
    if problem == "old":
        return {
            "zh": f"笔记本 {nb.number} 的测量数据格式已过时：请重新运行笔记本 {nb.number}《{nb.title_zh}》。",
            "en": f"Your measurement from notebook {nb.number} is in an older format: run notebook {nb.number}, {nb.title}, again.",
        }[lang]
    return {
        "zh": f"这一项还没有测量：运行笔记本 {nb.number}《{nb.title_zh}》后，这里会显示你自己的数据。",
        "en": f"Not measured yet: run notebook {nb.number}, {nb.title}, and your own numbers appear here.",
    }[lang]


def _in(values: dict, lang: str) -> dict[str, str]:
    return {name: value[lang] if isinstance(value, dict) else value for name, value in values.items()}


def render(found: dict | None = None, question: int | None = None) -> list[dict]:
    """Every question (or only `question`), each point filled in both languages: [{"number", "zh", "en", "points": [(zh, en), …]}].

    A point whose measurement is missing becomes one sentence saying which notebook records it
    (once per question, however many points need it). A point that needs a measurement the course
    does not take (a name not in `evidence.KEYS`: its notebook is not in this version) is left out,
    so the answer reads as it did before that notebook existed.
    """
    found = evidence.load() if found is None else found
    values, problems = facts(found)
    rendered = []
    if question is not None and question not in {q.number for q in QUESTIONS}:
        raise ValueError(f"question must be one of {[q.number for q in QUESTIONS]}, not {question!r}")
    for asked in QUESTIONS:
        if question is not None and asked.number != question:
            continue
        points, said = [], set()
        for point in asked.points:
            if not all(name in evidence.KEYS for name in point.needs):
                continue
            lacking = [name for name in point.needs if name in problems]
            if not lacking:
                points.append((point.zh.format(**_in(values, "zh")), point.en.format(**_in(values, "en"))))
            elif lacking[0] not in said:
                said.add(lacking[0])
                name = lacking[0]
                points.append(
                    (
                        _missing_sentence(name, problems[name], "zh"),
                        _missing_sentence(name, problems[name], "en"),
                    )
                )
        rendered.append(
            {"number": asked.number, "zh": asked.asked_zh, "en": asked.asked_en, "points": points}
        )
    return rendered


def _heading(answer: dict, lang: str) -> list[str]:
    zh = f"问题{answer['number']}: {answer['zh']}"
    en = f"Question {answer['number']} · {answer['en']}"
    return {"zh": [zh], "en": [en], "both": [zh, en]}[lang]


def _lines(answer: dict, lang: str) -> list[str]:
    lines = []
    for zh, en in answer["points"]:
        lines += {"zh": [zh], "en": [en], "both": [zh, en]}[lang]
    return lines


def markdown(found: dict | None = None, lang: str = "both", question: int | None = None) -> str:
    """The answers as markdown: per question a heading, then the points (in "both": 中文, then the English quoted beneath)."""
    _check(lang)
    parts = []
    for answer in render(found, question):
        heading = _heading(answer, lang)
        parts.append(f"### {heading[0]}" + (f"\n*{heading[1]}*" if len(heading) > 1 else ""))
        for zh, en in answer["points"]:
            parts.append({"zh": zh, "en": en, "both": f"{zh}\n\n> {en}"}[lang])
    return "\n\n".join(parts)


def text(found: dict | None = None, lang: str = "both", question: int | None = None) -> str:
    """The answers as plain text (markdown's `**` dropped): for print(), a file, or a test."""
    _check(lang)
    parts = []
    for answer in render(found, question):
        parts.append("\n".join(_heading(answer, lang)))
        parts += [line.replace("**", "") for line in _lines(answer, lang)]
    return "\n\n".join(parts)


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")


def to_html(found: dict | None = None, lang: str = "both", question: int | None = None) -> str:
    """The answers as HTML, for the widget: in "both", each Chinese point with its English below, greyed."""
    _check(lang)
    out = []
    for answer in render(found, question):
        zh_head, en_head = _heading(answer, "both")
        if lang in ("zh", "both"):
            out.append(f"<h4 lang='zh-CN'>{html.escape(zh_head)}</h4>")
        if lang == "en":
            out.append(f"<h4>{html.escape(en_head)}</h4>")
        elif lang == "both":
            out.append(f"<div class='lab-drill-en'><i>{html.escape(en_head)}</i></div>")
        for zh, en in answer["points"]:
            if lang in ("zh", "both"):
                out.append(f"<p lang='zh-CN'>{inline_html(zh)}</p>")
            if lang in ("en", "both"):
                style = (
                    " class='lab-drill-en' style='color: var(--jp-content-font-color2, #555); margin-top: -0.5em'"
                    if lang == "both"
                    else ""
                )
                out.append(f"<p lang='en'{style}>{inline_html(en)}</p>")
    return "\n".join(out)


def terms_used(found: dict | None = None) -> list:
    """The glossary's terms that the Chinese answers use, in the order they first appear: a glossary filtered to the drill."""
    from .glossary import TERMS

    chinese = "\n".join(
        part for answer in render(found) for part in (answer["zh"], *(zh for zh, _ in answer["points"]))
    )
    used = sorted(
        (chinese.index(term.zh), index, term) for index, term in enumerate(TERMS) if term.zh in chinese
    )
    return [term for _, _, term in used]


# --- measuring what is missing ---------------------------------------------------------------------


async def measure_missing(found: dict | None = None) -> dict:
    """Measure, quickly, the facts of QUICK that no notebook recorded yet (seconds, not minutes); return evidence.load().

    The other measurements need their notebook's setup (a chat model, WebSocket, the grid), so a
    missing one is left to the sentence that names that notebook.
    """
    found = evidence.load() if found is None else found
    todo = [name for name in QUICK if name not in found]
    if not todo:
        return evidence.load()
    from .cost import create_cost_app, framing_overhead, measure_route
    from .embedded_model import reply_for
    from .kernel_server import serve

    server = serve(create_cost_app(), name="drill-evidence")
    try:
        if "server.first_byte" in todo:
            pace = dict(tokens=20, token_delay=0.05, first_token_delay=0.1)
            streamed = await measure_route(server, "streamed", **pace)
            buffered = await measure_route(server, "buffered", **pace)
            evidence.record(
                "server.first_byte",
                {
                    "streamed": streamed.ttfb,
                    "buffered": buffered.ttfb,
                    "total_streamed": streamed.total,
                    "total_buffered": buffered.total,
                },
                source="11 (quick)",
            )
        if "cost.framing" in todo:
            evidence.record("cost.framing", framing_overhead(reply_for("What is SSE?")), source="11 (quick)")
    finally:
        server.stop()
    return evidence.load()


# --- the widget ------------------------------------------------------------------------------------


class DrillView:
    """The answers (all four, or one `question`) with a 中文 / English / both switch.

    Its plain-text form is fixed, so a saved notebook does not change with the numbers or the switch.
    """

    CHOICES = (("中文", "zh"), ("English", "en"), ("中文 + English", "both"))

    def __init__(self, found: dict | None = None, lang: str = "both", question: int | None = None) -> None:
        import ipywidgets as widgets

        _check(lang)
        self.found = evidence.load() if found is None else found
        self.question = question
        render(self.found, question)  # an unknown question number fails here, not on the first click
        self.switch = widgets.ToggleButtons(
            options=self.CHOICES, value=lang, description="", style={"button_width": "9em"}
        )
        self.body = widgets.HTML()
        self.widget = widgets.VBox([self.switch, self.body])
        self.widget.add_class("lab-drill")
        self.switch.observe(lambda _: self.show(), names="value")
        self.show()

    @property
    def lang(self) -> str:
        return self.switch.value

    def show(self) -> None:
        self.body.value = to_html(self.found, self.lang, self.question)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        which = "Interview answers" if self.question is None else f"Interview answer {self.question}"
        bundle["text/plain"] = f"{which}, 中文 / English (a widget: open in JupyterLab to see it)"
        return bundle


def placeholders(template: str) -> set[str]:
    """The `{names}` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
