"""Every claim of the source material, with its own words, and where the course checks it.

Each `Claim` quotes the source as written (`zh`; the tests check that the source contains it),
renders it in English, gives a verdict and names the notebook and section (a heading in that
notebook) where a cell confirms it, a demo corrects it, or a sentence says why it cannot be
checked. `planned=True` marks a place whose cell lands later (notebooks 04 and 06 are being
rewritten; 05 and 08 are new): the tests list those instead of failing on them.

Verdicts:
    confirmed          a cell shows it holds
    corrected          a demo shows where it is wrong, and what is right
    cannot be checked  no cell can check it (numbers from an unnamed product, a private
                       anecdote, a judgement); the place says so
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "CLAIMS", "STATUSES", "by_id", "markdown_table", "STRUCTURE"]

STATUSES = ("confirmed", "corrected", "cannot be checked")


@dataclass(frozen=True)
class Claim:
    id: str
    question: str  # "Q1" to "Q4": the source's four questions
    zh: str  # the source's words, exactly as written
    en: str  # the same in English
    status: str  # one of STATUSES
    notebook: str  # two digits
    section: str  # text of a heading in that notebook
    note: str  # what the course shows, in one line
    planned: bool = False  # the cell comes in a later pass
    also: tuple[str, ...] = ()  # the same claim restated elsewhere in the source, as written


def _c(id, question, zh, en, status, notebook, section, note, planned=False, also=()) -> Claim:
    return Claim(id, question, zh, en, status, notebook, section, note, planned, tuple(also))


Q1, Q2, Q3, Q4 = "Q1", "Q2", "Q3", "Q4"
CONFIRMED, CORRECTED, UNCHECKABLE = STATUSES

CLAIMS: tuple[Claim, ...] = (
    # ---- 问题1: what streaming is -------------------------------------------------------------
    _c("weak-batches", Q1, "流式输出就是把数据分批发送给客户端,而不是一次性发送", "Streaming sends data to the client in batches instead of all at once (the weak answer).",
       CONFIRMED, "11", "Question 1", "true and empty: the strong answer adds protocol, mechanism, trade-off and evidence"),
    _c("weak-normal-waits", Q1, "普通响应是等待所有数据生成完成后一次性返回", "A normal response waits until everything is generated and returns it at once.",
       CONFIRMED, "03", "3. An httpx streaming client, and what streaming buys", "first byte at the end for the buffered route, at the start for the streamed one"),
    _c("three-layers", Q1, "流式输出有三层含义", "Streaming has three layers of meaning: protocol, implementation, application.",
       CONFIRMED, "11", "Question 1", "the answer is built in those three layers, each with a measurement"),
    _c("based-on-sse", Q1, "流式输出基于 SSE (Server-Sent Events) 协议", "Streaming is based on the SSE protocol.",
       CORRECTED, "11", "Question 1", "SSE is one format; chunked NDJSON, WebSocket and gRPC streams are streaming too"),
    _c("html5-standard", Q1, "是 HTML5 标准的服务端推送技术", "SSE is a server push technology of the HTML5 standard.",
       CORRECTED, "02", "1. An event, framed by hand", "a W3C Recommendation (2015) marked superseded in 2021; the living spec is WHATWG HTML §9.2"),
    _c("long-connection", Q1, "它通过 HTTP 长连接持续向客户端推送数据", "It pushes data continuously over a long-lived HTTP connection.",
       CONFIRMED, "02", "7. The same events from", "one response whose body keeps coming; what is long-lived is the response"),
    _c("format-data", Q1, "格式为 `data: 内容\\n\\n`", "The format is `data: content\\n\\n`.",
       CORRECTED, "02", "3. Pitfall: the f-string that loses lines", "multi-line text needs one `data:` line per line; the source's own JSON code is safe"),
    _c("stays-open", Q1, "SSE 连接保持打开状态,服务端可以持续发送多条消息", "The SSE connection stays open and the server can send many messages.",
       CONFIRMED, "02", "1. An event, framed by hand", "many events in one response, each ended by a blank line"),
    _c("async-generator", Q1, "流式输出通过异步生成器 (`async def` + `yield`) 实现", "In Python, streaming is implemented with async generators.",
       CONFIRMED, "01", "4. Async generators", "an async generator yields each piece as it is ready"),
    _c("streamingresponse-frames", Q1, "将每次 `yield` 的数据封装为 SSE 格式发送", "FastAPI's StreamingResponse wraps each yield in SSE format.",
       CORRECTED, "03", "2. A streaming endpoint, three ways", "StreamingResponse sends the bytes you yield; fastapi.sse's EventSourceResponse frames"),
    _c("return-at-once", Q1, "这与普通响应的 `return` 一次性返回完全不同", "This differs completely from a normal response's single `return`.",
       CONFIRMED, "01", "3. `return` against `yield`", "the caller sees the first value at once with yield, at the end with return"),
    _c("ai-generation", Q1, "流式输出主要用于 AI 内容生成场景", "Streaming is mainly used for AI content generation.",
       UNCHECKABLE, "11", "Question 1", "a judgement about usage; progress, logs and notifications stream too"),
    _c("typewriter", Q1, "例如 ChatGPT 的打字机效果,就是通过流式输出实现的", "ChatGPT's typewriter effect is implemented with streaming.",
       CONFIRMED, "04", "1. The model API speaks SSE too", "the OpenAI API streams chat.completion.chunk events over SSE", planned=True),
    _c("astream-per-token", Q1, "LangChain 提供 `astream()` 方法,可以逐 Token 返回 LLM 生成的内容", "LangChain's astream() returns the LLM's output token by token.",
       CORRECTED, "09", "Chunks are not tokens", "it returns chunks; a provider may put several tokens in one (tokens per chunk measured from usage)"),
    _c("eventsource-receives", Q1, "前端使用 `EventSource` API 接收并实时显示", "The front end receives with the EventSource API and displays in real time.",
       CONFIRMED, "04", "6. The browser: create with `fetch`, follow with `EventSource`", "a page typing the answer as it arrives, in Chromium", planned=True),
    _c("table-connection", Q1, "| 连接 | 短连接(请求-响应) | 长连接(持续推送) |", "Connection: short (request-response) against long (continuous push).",
       CORRECTED, "11", "Question 1", "HTTP/1.1 keeps connections alive for normal responses too; the response is what lasts"),
    _c("table-sending", Q1, "| 数据发送 | 一次性发送 | 分批发送 |", "Sending: all at once against in batches.",
       CONFIRMED, "03", "3. An httpx streaming client, and what streaming buys", "chunks arrive over time"),
    _c("table-experience", Q1, "| 用户体验 | 等待完整响应 | 实时看到内容 |", "Experience: wait for the whole response against see content in real time.",
       CONFIRMED, "09", "1. The grid", "first byte after the first token against after the whole answer"),
    _c("table-memory", Q1, "| 内存占用 | 需要缓存完整响应 | 边生成边发送 |", "Memory: buffer the whole response against send while generating.",
       CORRECTED, "09", "1. The grid", "peaks about equal for a chat answer; a saving only for large bodies (notebook 03)"),
    _c("table-fit", Q1, "| 适用场景 | 短文本、结构化数据 | 长文本、AI 生成 |", "Fit: short text and structured data against long text and AI generation.",
       CONFIRMED, "09", "4. The decision table, generated", "the decision table derives it from the wait saved"),
    _c("rag-progress", Q1, "首先流式返回检索到的文档片段,然后流式返回 LLM 生成的答案", "First stream the retrieved passages, then the LLM's answer.",
       CONFIRMED, "04", "4. The relay", "the relay sends retrieval events before the tokens", planned=True),
    _c("wait-10-20s", Q1, "而不是等待10-20秒后才看到完整答案", "Instead of waiting 10 to 20 seconds for the whole answer.",
       UNCHECKABLE, "11", "Question 1", "a private product's figure; cite the first byte you measured instead"),
    _c("bounce-30", Q1, "跳出率降低了30%", "The bounce rate fell by 30%.",
       UNCHECKABLE, "11", "Question 1", "an unnamed product's metric; not reproducible"),
    _c("stack", Q1, "我使用 FastAPI 的 `StreamingResponse` + LangChain 的 `astream()`,前端使用 `EventSource` 接收", "The stack: StreamingResponse + astream() + EventSource.",
       CONFIRMED, "04", "4. The relay", "the same stack runs in notebook 04, with fastapi.sse for framing", planned=True),
    _c("notify-error-event", Q1, "需要通过 SSE 的 `event: error` 机制通知前端", "Mid-stream errors must be notified with SSE's `event: error` mechanism.",
       CORRECTED, "06", "7. The source material's handler", "an event named `error` collides with EventSource's own error event; name it stream_error", planned=True),

    # ---- 问题2: SSE or WebSocket ---------------------------------------------------------------
    _c("weak-one-way", Q2, "SSE 是单向的,只能服务端向客户端发送数据", "SSE is one-way: only the server sends (the weak answer).",
       CORRECTED, "07", "2. Direction: talking back mid-stream", "the connection is one-way; the client sends with separate requests"),
    _c("weak-two-way", Q2, "WebSocket 是双向的,可以互相发送数据", "WebSocket is two-way.",
       CONFIRMED, "07", "2. Direction: talking back mid-stream", "a stop message on the same socket, measured"),
    _c("weak-rule", Q2, "如果需要双向通信就用 WebSocket,否则用 SSE", "Use WebSocket for two-way communication, else SSE.",
       CONFIRMED, "07", "6. The decision", "refined: WebSocket when the client talks continuously or sends binary"),
    _c("five-dimensions", Q2, "SSE 和 WebSocket 的区别可以从五个维度分析", "The difference can be analysed along five dimensions.",
       CONFIRMED, "07", "07 · SSE against WebSocket", "four demonstrated, proxies stated; a sixth, heartbeats, measured"),
    _c("sse-http", Q2, "基于 HTTP 协议,是标准的 HTTP 响应,只是 `Content-Type: text/event-stream` 并保持连接打开", "SSE is a standard HTTP response with Content-Type text/event-stream, kept open.",
       CONFIRMED, "07", "1. Protocol: what crosses the wire", "the response head, captured on the wire"),
    _c("ws-upgrade", Q2, "独立协议 (ws:// 或 wss://),需要通过 HTTP 握手升级到 WebSocket 协议", "WebSocket is a separate protocol reached by an HTTP upgrade handshake.",
       CONFIRMED, "07", "1. Protocol: what crosses the wire", "the 101 Switching Protocols exchange, captured"),
    _c("client-cannot-send", Q2, "单向(服务端 → 客户端),客户端只能接收,不能发送", "SSE is one-way; the client can only receive, not send.",
       CORRECTED, "07", "2. Direction: talking back mid-stream", "a stop sent as a POST, measured; only the connection is one-way"),
    _c("ws-both-send", Q2, "双向(服务端 ↔ 客户端),双方都可以主动发送消息", "WebSocket: both sides may send at any time.",
       CONFIRMED, "07", "2. Direction: talking back mid-stream", "a message mid-stream over the same socket"),
    _c("eventsource-native", Q2, "浏览器原生 `EventSource` API,无需额外库", "SSE: the browser's native EventSource API, no library needed.",
       CONFIRMED, "07", "3. Browser API: two pages", "the SSE page is EventSource and listeners"),
    _c("ws-needs-library", Q2, "但实际使用通常需要库(如 Socket.IO)来处理重连、心跳等", "WebSocket in practice needs a library such as Socket.IO for reconnection and heartbeats.",
       CORRECTED, "07", "Heartbeats: ping/pong frames and comment lines", "heartbeats are ping/pong frames in the protocol (uvicorn sends them); reconnection is application code"),
    _c("auto-reconnect", Q2, "浏览器自动重连,支持 `Last-Event-ID` 断点续传", "The browser reconnects automatically and resumes with Last-Event-ID.",
       CORRECTED, "07", "4. Reconnection: cut the connection", "EventSource only (fetch readers get nothing), and only with a server that sends ids and keeps them"),
    _c("ws-manual-reconnect", Q2, "需要手动实现重连逻辑", "WebSocket reconnection must be written by hand.",
       CONFIRMED, "07", "4. Reconnection: cut the connection", "the socket closes and stays closed"),
    _c("passes-all-proxies", Q2, "基于 HTTP,可以通过所有 HTTP 代理和防火墙", "SSE is HTTP and passes every HTTP proxy and firewall.",
       CORRECTED, "07", "5. Proxies", "it passes, but buffering proxies hold it back unless told (Accept, X-Accel-Buffering)"),
    _c("ws-firewalls", Q2, "独立协议,某些企业防火墙可能阻止", "WebSocket is a separate protocol that some corporate firewalls may block.",
       UNCHECKABLE, "07", "5. Proxies", "a proxy must pass the upgrade; which firewalls block it cannot be checked here"),
    _c("decision-tree", Q2, "用 SSE (AI 流式输出、实时通知、日志推送)", "Decision tree: no client messages → SSE (AI output, notifications, logs).",
       CONFIRMED, "07", "6. The decision", "helpers.decisions.choose_transport runs the tree"),
    _c("considered-ws", Q2, "最初考虑用 WebSocket 实现流式输出,因为觉得\"更强大\"", "At first WebSocket seemed 'more powerful'.",
       UNCHECKABLE, "11", "Question 2", "an anecdote"),
    _c("ai-one-way", Q2, "LLM 生成内容只需要服务端推送给客户端,客户端不需要在生成过程中发送消息", "AI output only needs server-to-client push.",
       CORRECTED, "07", "2. Direction: talking back mid-stream", "a Stop button is a client message during generation; an ordinary request carries it"),
    _c("sse-simpler", Q2, "不需要处理 WebSocket 的握手、心跳、重连等复杂逻辑", "SSE needs no handshake, heartbeat or reconnection logic.",
       CORRECTED, "07", "Heartbeats: ping/pong frames and comment lines", "SSE needs comment pings behind idle timeouts, and ids plus a replay buffer to resume"),
    _c("sse-more-stable", Q2, "浏览器自动重连,网络抖动时用户体验更好", "SSE is more stable: automatic reconnection helps on flaky networks.",
       CORRECTED, "06", "Fault 4: no `id:`", "reconnection without ids restarts the answer; with the source's client, a drop also throws", planned=True),
    _c("sse-not-blocked", Q2, "基于 HTTP,不会被企业防火墙阻止", "SSE is HTTP and will not be blocked by corporate firewalls.",
       UNCHECKABLE, "07", "5. Proxies", "depends on the firewall; buffering proxies are the common problem"),
    _c("code-40", Q2, "代码量减少了40%", "Code size fell by 40%.",
       UNCHECKABLE, "11", "Question 2", "unverifiable; drop it"),
    _c("whiteboard-ws", Q2, "这是典型的双向实时通信场景,SSE 无法满足", "A collaborative whiteboard is two-way real time, which SSE cannot serve.",
       CONFIRMED, "07", "6. The decision", "the decision function picks WebSocket for it; SSE plus POSTs could work but adds a request per stroke"),
    _c("whiteboard-sync", Q2, "需要实时同步多个用户的绘图操作", "The whiteboard syncs many users' drawing in real time.",
       UNCHECKABLE, "11", "Question 2", "an anecdote"),
    _c("whiteboard-broadcast", Q2, "每个用户的操作都需要广播给其他用户", "Each user's operation is broadcast to the others.",
       UNCHECKABLE, "11", "Question 2", "an anecdote"),
    _c("sse-enough", Q2, "AI 流式输出用 SSE 就够了,不需要 WebSocket 的复杂性", "For AI output SSE is enough.",
       CONFIRMED, "07", "6. The decision", "unless the client talks continuously or sends binary (voice)"),

    # ---- 问题3: errors mid-stream --------------------------------------------------------------
    _c("weak-try-except", Q3, "可以用 try-except 捕获异常,然后返回错误信息给客户端", "Catch the exception and return an error (the weak answer).",
       CORRECTED, "11", "Question 3", "after the first byte the status is 200 for good; the error must travel as an event"),
    _c("cannot-withdraw", Q3, "因为部分数据已经发送,无法撤回", "Part of the data is already sent and cannot be withdrawn.",
       CONFIRMED, "06", "2. Model error mid-stream", "the partial text stays; an error event follows", planned=True),
    _c("status-500", Q3, "错误发生在响应发送前,可以返回错误状态码(如 500)", "Before the response starts, an error status such as 500 can be returned.",
       CONFIRMED, "06", "1. Invalid request", "4xx before the stream, measured", planned=True),
    _c("status-already-200", Q3, "此时 HTTP 状态码已经是 200,部分数据已发送", "Mid-stream the status is already 200.",
       CONFIRMED, "09", "All-or-nothing operations", "a failed commit after progress arrives as the last event of a 200 response"),
    _c("query-param", Q3, "async def chat_stream(message: str):", "The POST route takes `message: str`.",
       CORRECTED, "06", "1. Invalid request", "on a POST route `message: str` is a query parameter, not the body", planned=True),
    _c("post-route", Q3, "@app.post(\"/chat-stream\")", "The backend route is POST.",
       CORRECTED, "04", "`EventSource` on a POST route", "EventSource sends GET: 405, and it never retries; Chromium test", planned=True),
    _c("send-error-not-raise", Q3, "关键: 发送错误事件,而不是抛出异常", "Key: send an error event instead of raising.",
       CONFIRMED, "06", "A fifth: an uncaught exception", "an uncaught exception aborts the response and the client reconnects", planned=True),
    _c("str-e", Q3, "'message': str(e),", "The error event carries str(e).",
       CORRECTED, "06", "Fault 2", "internal details reach the user; send a code and a request id", planned=True),
    _c("event-error", Q3, "yield f\"event: error\\ndata: {json.dumps(error_data)}\\n\\n\"", "The server sends `event: error`.",
       CORRECTED, "06", "Fault 3: an event named `error`", "collides with EventSource's connection error event", planned=True),
    _c("finally-done", Q3, "# ✅ 发送结束事件", "Send the done event in `finally`.",
       CORRECTED, "06", "Fault 1: `yield` inside `finally`", "RuntimeError on close; and on a graceful server restart it sends done over a cut answer (Chromium test)", planned=True),
    _c("client-post-mismatch", Q3, "const eventSource = new EventSource('/chat-stream');", "The front end opens EventSource on the POST route.",
       CORRECTED, "11", "Question 3", "405, then JSON.parse(undefined) throws and the source's onerror promises a reconnect that never comes"),
    _c("listen-error", Q3, "// ✅ 关键: 监听错误事件", "Key: listen for the error event (and JSON.parse its data).",
       CORRECTED, "11", "Question 3", "the connection's own error has no data: it throws on a drop, a crash, a 405; not at a normal end"),
    _c("keep-partial", Q3, "// 显示错误提示,但保留已生成的内容", "Show the error but keep the generated content.",
       CONFIRMED, "11", "Question 3", "the server's own error event keeps the partial text (Chromium test)"),
    _c("auto-reconnects-comment", Q3, "// EventSource 会自动重连", "EventSource reconnects automatically.",
       CORRECTED, "11", "Question 3", "not after a 405; after a drop it reconnects and the source's server restarts the answer"),
    _c("validation-400", Q3, "返回 400 错误,不开始流式输出", "Validation errors: return 400, do not start streaming.",
       CORRECTED, "06", "1. Invalid request", "FastAPI answers 422 for validation errors; either way, before the stream", planned=True),
    _c("llm-error-event", Q3, "| **LLM API 错误** | 流式生成中途 | 发送 error 事件,保留已生成内容 |", "LLM API errors mid-stream: send an error event and keep the content.",
       CONFIRMED, "06", "2. Model error mid-stream", "stream_error then done, text kept", planned=True),
    _c("network-resume", Q3, "浏览器自动重连,使用 Last-Event-ID 续传", "Network drop: the browser reconnects and resumes with Last-Event-ID.",
       CORRECTED, "06", "9. Resume on another server", "only with ids and a store of the events that every worker reads: measured, a resume on another replica fails with a memory store and passes with SQLite and Redis; the source's handler sends no ids", planned=True),
    _c("timeout-event", Q3, "| **超时错误** | 生成时间过长 | 发送 error 事件,提示用户重试 |", "Timeouts: send an error event and suggest a retry.",
       CONFIRMED, "06", "3. Timeout", "a deadline per chunk, an error event, upstream cancelled", planned=True),
    _c("rate-limit-event", Q3, "| **限流错误** | API 调用频率过高 | 发送 error 事件,提示用户稍后重试 |", "Rate limits: send an error event and suggest retrying later.",
       CORRECTED, "06", "4. Rate limit", "before the first token nothing is committed: retry with Retry-After there", planned=True),
    _c("timeout-anecdote", Q3, "LLM API 偶尔会在生成到一半时超时", "The LLM API sometimes timed out halfway.",
       UNCHECKABLE, "11", "Question 3", "an anecdote; notebook 06 reproduces the situation"),
    _c("error-keep-open", Q3, "捕获超时异常,发送 error 事件,但不关闭连接", "Catch the timeout, send an error event, but keep the connection open.",
       CORRECTED, "06", "2. Model error mid-stream", "after an error event the stream should send done and end; an open, idle stream only invites a timeout", planned=True),
    _c("retry-button", Q3, "收到 error 事件后,保留已显示的内容,并显示\"生成未完成,是否重试?\"按钮", "Keep the content and offer a retry button.",
       CONFIRMED, "06", "8. The page, with errors and resume", "the relay's page keeps the text and offers Retry", planned=True),
    _c("retry-continues", Q3, "使用已生成的内容作为上下文,继续生成", "Retry continues from the generated content as context.",
       CONFIRMED, "06", "8. The page, with errors and resume", "Retry sends the kept text and the model continues it", planned=True),
    _c("satisfaction-q3", Q3, "用户满意度从 3.2 提升到 4.1(5分制)", "Satisfaction rose from 3.2 to 4.1 of 5.",
       UNCHECKABLE, "11", "Question 3", "an unnamed product's metric"),
    _c("only-notify", Q3, "流式输出的错误无法撤回,只能通知", "A streaming error cannot be withdrawn, only notified.",
       CONFIRMED, "06", "2. Model error mid-stream", "the partial text stays; the error comes after it", planned=True),
    _c("use-event-error", Q3, "使用 SSE 的 `event: error` 机制发送错误事件", "Use SSE's `event: error` mechanism.",
       CORRECTED, "11", "Question 3", "SSE has no error mechanism; `error` is the one name a server must not use"),
    _c("keep-dont-clear", Q3, "前端保留已生成的内容,不要因为错误而清空", "Keep the content; do not clear it on error.",
       CONFIRMED, "11", "Question 3", "Chromium test: the partial text stays after the server's error event"),
    _c("offer-retry", Q3, "提供重试机制,让用户可以继续生成", "Offer a retry that continues.",
       CONFIRMED, "06", "8. The page, with errors and resume", "Retry: continue from here", planned=True),
    _c("complex-errors", Q3, "流式输出的错误处理比普通响应复杂", "Error handling is harder for streams than for normal responses.",
       CONFIRMED, "11", "Question 3", "the status code is spent; errors, drops and cancellation each need their own path"),

    # ---- 问题4: performance, and when to stream --------------------------------------------------
    _c("weak-no-perf-cost", Q4, "流式输出不会影响性能,反而能提升用户体验", "Streaming does not affect performance (the weak answer).",
       CORRECTED, "09", "1. The grid", "more bytes and more server CPU, measured"),
    _c("weak-long-short", Q4, "长文本生成应该用流式输出,短文本不需要", "Stream long text, not short.",
       CONFIRMED, "09", "4. The decision table, generated", "by the wait saved, not by length alone"),
    _c("many-dimensions", Q4, "流式输出对性能的影响需要从多个维度分析", "The performance impact has several dimensions.",
       CONFIRMED, "09", "1. The grid", "first byte, total, bytes, CPU, memory, measured"),
    _c("perf-memory", Q4, "| **内存占用** | 需要缓存完整响应 | 边生成边发送 | ✅ 流式更优(理想情况) |", "Memory: streaming better (in the ideal case).",
       CORRECTED, "09", "1. The grid", "about equal for a chat answer; better for large bodies only"),
    _c("perf-network", Q4, "≈ 持平(总数据量相同)", "Network: about equal (the same total data).",
       CORRECTED, "09", "2. Framing overhead", "framing sends several times the text"),
    _c("perf-cpu", Q4, "| **CPU 占用** | 生成逻辑相同 | 生成逻辑相同 | ≈ 持平 |", "CPU: about equal.",
       CORRECTED, "09", "1. The grid", "more server CPU per streamed response, measured"),
    _c("perf-ttfb", Q4, "| **首字节时间(TTFB)** | 等待完整生成 | 立即开始发送 | ✅ 流式更优 |", "Time to first byte: streaming better.",
       CONFIRMED, "09", "1. The grid", "first byte after the first token, whatever the length"),
    _c("perf-perceived", Q4, "| **用户感知速度** | 等待完整响应 | 实时看到内容 | ✅ 流式更优 |", "Perceived speed: streaming better.",
       CONFIRMED, "09", "5. Move the sliders", "a model of the wait, from the measured overheads; not user research"),
    _c("perf-complexity", Q4, "| **代码复杂度** | 简单 | 复杂(错误处理、重连) | ❌ 流式更复杂 |", "Code complexity: streaming is more complex.",
       CONFIRMED, "06", "7. The source material's handler", "even the source's careful handler has four faults", planned=True),
    _c("ux-not-perf", Q4, "流式输出是用代码复杂度换用户体验,而不是性能优化", "Streaming trades code complexity for experience; it is not a performance optimisation.",
       CONFIRMED, "09", "1. The grid", "same total time, more bytes and CPU, an earlier first byte"),
    _c("long-100", Q4, "**长文本生成 (> 100字)**", "Stream long text (over 100 characters).",
       CORRECTED, "09", "4. The decision table, generated", "the wait saved decides: length divided by speed", also=('长文本生成(> 100字)应该用流式输出',)),
    _c("over-3s", Q4, "生成时间 > 3秒,用户需要实时反馈", "Generation over 3 seconds needs live feedback.",
       CORRECTED, "09", "4. The decision table, generated", "over about 1 s (Nielsen), measured as the wait saved"),
    _c("long-examples", Q4, "例如:文章生成、代码生成、长篇问答", "For example articles, code, long answers.",
       CONFIRMED, "09", "1. The grid", "the 300-token rows"),
    _c("dialogue", Q4, "需要打字机效果,模拟真人对话", "Dialogue: a typewriter effect imitating a person.",
       CONFIRMED, "01", "5. A token stream, live in a widget", "a widget typing a stream live"),
    _c("chatbots", Q4, "例如:聊天机器人、AI 助手", "For example chatbots and assistants.",
       CONFIRMED, "04", "5. The relay in the widget", "the relay typing into a widget", planned=True),
    _c("intermediate-steps", Q4, "用户需要看到处理进度", "Intermediate steps: users need to see progress.",
       CONFIRMED, "09", "All-or-nothing operations", "progress streamed, verdict last"),
    _c("tool-calls", Q4, "RAG 问答(先显示检索结果,再显示生成内容)、Agent 工具调用", "RAG retrieval results first, and an agent's tool calls.",
       CONFIRMED, "05", "tool calls", "an agent's tool calls, streamed as they happen (notebook 05)", planned=True),
    _c("unknown-time", Q4, "生成时间可能很长,需要避免超时", "Generation time may be long; avoid timeouts.",
       CORRECTED, "08", "timeout", "bytes keep an idle timeout at bay; a gateway's total-time cap is not avoided (09 §4 says so)", planned=True),
    _c("reasoning-examples", Q4, "例如:复杂推理任务、多步骤处理", "For example complex reasoning and multi-step processing.",
       UNCHECKABLE, "09", "4. The decision table, generated", "examples, not a claim that can be measured"),
    _c("short-50", Q4, "**短文本生成 (< 50字)**", "Do not stream short text (under 50 characters).",
       CORRECTED, "09", "Very short answers", "below about 0.1 s of wait saved, measured", also=('短文本生成(< 50字)不需要流式输出',)),
    _c("under-1s", Q4, "生成时间 < 1秒,流式输出反而增加复杂度", "Under 1 second, streaming only adds complexity.",
       CONFIRMED, "09", "Very short answers", "the 3-token rows save milliseconds"),
    _c("short-examples", Q4, "例如:翻译、摘要、关键词提取", "For example translation, summaries, keywords.",
       CORRECTED, "09", "Very short answers", "a long translation or summary is not short; the wait decides"),
    _c("structured", Q4, "需要完整的 JSON 才能解析", "Structured data needs the complete JSON to parse.",
       CORRECTED, "09", "Structured output", "true of json.loads; an incremental parser reads partial JSON in linear time"),
    _c("extraction-examples", Q4, "例如:信息提取、数据分析结果", "For example extraction and analysis results.",
       CONFIRMED, "09", "Structured output", "when the whole object is needed"),
    _c("transactional", Q4, "要么全部成功,要么全部失败", "Transactional operations: all succeed or all fail.",
       CORRECTED, "09", "All-or-nothing operations", "streaming does not force partial commits: stream progress, commit and report last"),
    _c("batch-examples", Q4, "例如:批量处理、数据库事务", "For example batch jobs and database transactions.",
       CONFIRMED, "09", "All-or-nothing operations", "a batch import in one SQLite transaction, with a real commit failure"),
    _c("post-processing", Q4, "需要对完整内容进行处理后再返回", "Content that must be processed whole before returning.",
       CONFIRMED, "09", "Post-processing that needs the whole text: moderation", "a check on the full text comes after the user saw it"),
    _c("moderation-conversion", Q4, "例如:内容审核、格式转换", "For example moderation and format conversion.",
       CONFIRMED, "09", "format conversion", "Markdown rendered per chunk shows raw syntax; a file conversion needs the whole"),
    _c("ab-test", Q4, "做过 A/B 测试对比流式输出和普通响应", "An A/B test compared streaming with normal responses.",
       UNCHECKABLE, "09", "09 · When not to stream", "an unnamed product's test; its figures are left out"),
    _c("ab-scene", Q4, "AI 生成 200-500 字的回答", "An A/B test on 200-500 character answers.",
       UNCHECKABLE, "09", "09 · When not to stream", "an unnamed product's test; not reproducible"),
    _c("ab-times", Q4, "平均响应时间:8.5秒", "Average response time 8.5 s against 8.3 s.",
       UNCHECKABLE, "09", "09 · When not to stream", "not reproducible", also=('平均响应时间:8.3秒(总时间相似)',)),
    _c("ab-bounce", Q4, "用户跳出率:45%", "Bounce rate 45% against 28%.",
       UNCHECKABLE, "09", "09 · When not to stream", "not reproducible", also=('用户跳出率:28%(降低37%)',)),
    _c("ab-satisfaction", Q4, "用户满意度:3.2/5", "Satisfaction 3.2 against 4.1 of 5.",
       UNCHECKABLE, "09", "09 · When not to stream", "not reproducible", also=('用户满意度:4.1/5(提升28%)',)),
    _c("ab-ttfb", Q4, "首字节时间:0.5秒(用户立即看到内容)", "First byte 0.5 s.",
       UNCHECKABLE, "09", "09 · When not to stream", "not reproducible; your own first byte is measured in 09 §1"),
    _c("ab-conclusion", Q4, "流式输出的总时间没有明显减少,但用户感知速度大幅提升", "Total time barely changes, perceived speed rises sharply.",
       CONFIRMED, "09", "1. The grid", "same total, earlier first byte; the perceived part is not measured here"),
    _c("translation-time", Q4, "翻译时间:0.3-0.8秒", "Translation took 0.3-0.8 s.",
       UNCHECKABLE, "09", "Very short answers", "a private figure"),
    _c("translation-no-gain", Q4, "用户体验没有明显提升", "Streaming the translation brought no visible gain.",
       UNCHECKABLE, "09", "Very short answers", "consistent with the measured wait saved for short answers, but a private result", also=('用流式输出反而增加了代码复杂度',)),
    _c("ux-optimisation", Q4, "流式输出不是性能优化,是用户体验优化", "Streaming is a UX optimisation, not a performance one.",
       CONFIRMED, "09", "1. The grid", "see the grid"),
    _c("decide-by-ab", Q4, "根据实际场景和 A/B 测试结果决策", "Decide by the scenario and A/B results.",
       CONFIRMED, "09", "4. The decision table, generated", "here: by measurements you can reproduce"),
)

# Lines of the source's answers that make no claim of their own: headings and connecting phrases.
STRUCTURE = frozenset({
    "流式输出集成的高频面试题及出彩回答", "**与普通响应的核心区别:**", "**在实际工作中的应用:**", "| 维度 | 普通响应 | 流式输出 |",
    "|------|----------|----------|", "**1. 协议层面:**", "**2. 通信方向:**", "**3. 浏览器支持:**", "**4. 重连机制:**",
    "**5. 防火墙和代理:**", "**使用场景决策树:**", "**但在另一个项目(实时协作白板)中,我们用了 WebSocket:**", "**核心挑战:**",
    "**三层错误处理策略:**", "**1. 后端错误捕获和通知:**", "**2. 前端错误处理:**", "**3. 错误分类和处理策略:**",
    "| 错误类型 | 发生时机 | 处理策略 |", "|---------|---------|---------|", "我的解决方案:", "**关键要点:**", "**性能影响分析:**",
    "| 维度 | 普通响应 | 流式输出 | 结论 |", "|------|----------|----------|------|", "**使用流式输出的决策标准:**",
    "**✅ 应该用流式输出的场景:**", "2. **对话式交互**", "3. **需要显示中间步骤**", "4. **不确定生成时间**",
    "**❌ 不应该用流式输出的场景:**", "2. **结构化数据返回**", "3. **需要事务性的操作**", "4. **需要后处理的内容**",
    "**A 组(普通响应):**", "**B 组(流式输出):**", "**总结:**", "**但在另一个场景(短文本翻译)中,我们没有用流式输出:**",
})


def by_id(claim_id: str) -> Claim:
    return next(claim for claim in CLAIMS if claim.id == claim_id)


def markdown_table(claims=CLAIMS) -> str:
    """The claims as a Markdown table: the source's words, English, verdict, and where."""
    rows = ["| | the source (原文) | in English | verdict | where |", "|---|---|---|---|---|"]
    for claim in claims:
        zh = claim.zh.replace("|", "\\|")
        where = f"{claim.notebook} · {claim.section}" + (" (planned)" if claim.planned else "")
        rows.append(f"| {claim.question} | 「{zh}」 | {claim.en.replace('|', '/')} | **{claim.status}**: {claim.note} | {where} |")
    return "\n".join(rows)
