"""The course's glossary, English ↔ 中文: one term per row, with where it is taught.

The source material and the interviewers speak Chinese (流式输出, 首字节时间, 断点续传 …);
the notebooks speak English. This table maps one onto the other. The notebooks, the contents
notebook and README.zh-CN.md render it from here, and a test checks that every term appears
in the notebook it points to.

    markdown_table()        a markdown table (links relative to notebooks/, or `link_prefix`)
    html_table()            the same as HTML
    GlossaryView()          a widget with a filter box, for a notebook cell
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = [
    "Term",
    "TERMS",
    "PLANNED",
    "taught",
    "pending",
    "markdown_table",
    "html_table",
    "inline_html",
    "GlossaryView",
]

# Notebooks in the course plan that are not written yet: their terms are kept here with the planned
# number, left out of the rendered tables, and skipped (and listed) by the test until the notebook exists.
# Every notebook of the plan exists now (05, 08 and 10 were the last), so nothing waits.
PLANNED: dict[str, str] = {}


@dataclass(frozen=True)
class Term:
    en: str
    zh: str
    notebook: str  # two digits: where the term is taught
    definition: str
    definition_zh: str
    # How the notebook spells it, if not as `en` (matched case-insensitively): an abbreviation,
    # the header or field name, or the word the notebook's prose uses.
    spellings: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.en, *self.spellings)


def _t(en, zh, notebook, definition, definition_zh, *spellings) -> Term:
    return Term(en, zh, notebook, definition, definition_zh, spellings)


TERMS: tuple[Term, ...] = (
    # 01 generators
    _t(
        "streaming",
        "流式输出",
        "01",
        "Sending a response while it is still being produced, so the reader sees the start before the end exists.",
        "边生成边发送响应，读者在结尾生成之前就能看到开头。",
    ),
    _t(
        "generator",
        "生成器",
        "01",
        "A function with `yield`: it hands out one value at a time, when asked, instead of building a whole list.",
        "带 `yield` 的函数：按需一次交出一个值，而不是先构建整个列表。",
    ),
    _t(
        "async generator",
        "异步生成器",
        "01",
        "An `async def` with `yield`, read with `async for`; it can wait for a model or a socket between values.",
        "带 `yield` 的 `async def` 函数，用 `async for` 读取；两次产出之间可以等待模型或网络。",
    ),
    _t(
        "typewriter effect",
        "打字机效果",
        "01",
        "Text appearing token by token as the model writes it, as in ChatGPT.",
        "像 ChatGPT 那样，文字随模型生成逐个 token 出现。",
        "typing",
    ),
    # 02 sse_format
    _t(
        "Server-Sent Events (SSE)",
        "服务器发送事件",
        "02",
        "The WHATWG format for a stream of text events over one HTTP response, read in browsers by `EventSource`.",
        "WHATWG 定义的格式：在一个 HTTP 响应里发送一串文本事件，浏览器用 `EventSource` 读取。",
        "Server-Sent Events",
        "SSE",
    ),
    _t(
        "server push",
        "服务端推送",
        "02",
        "The server sending data the moment it has it, without the client asking again; SSE is the browser's standard form of it.",
        "服务端一有数据就发给客户端，客户端不必再次请求；SSE 是浏览器里的标准做法。",
        "server-sent",
    ),
    _t(
        "event stream",
        "事件流",
        "02",
        "A response of content type `text/event-stream`: events separated by blank lines.",
        "内容类型为 `text/event-stream` 的响应：由空行分隔的一个个事件。",
        "text/event-stream",
    ),
    _t(
        "event ID",
        "事件 ID",
        "02",
        "The `id:` field; the browser remembers the last one and sends it back as `Last-Event-ID` when it reconnects.",
        "`id:` 字段；浏览器记住最后一个 ID，重连时通过 `Last-Event-ID` 发回服务端。",
        "id:",
    ),
    _t(
        "framing",
        "分帧",
        "02",
        "Turning each message into bytes that the reader can split again: for SSE, field lines ended by a blank line.",
        "把每条消息编码成读取方能重新切分的字节：对 SSE 来说，就是若干字段行加一个空行。",
    ),
    # 03 kernel_server
    _t(
        "time to first byte (TTFB)",
        "首字节时间",
        "03",
        "Time from sending the request to receiving the first byte of the response.",
        "从发出请求到收到响应第一个字节的时间。",
        "time to first byte",
        "TTFB",
    ),
    _t(
        "buffered response",
        "普通响应",
        "03",
        "A response built whole and then sent at once; the source material calls it a normal response.",
        "先完整生成、再一次性发送的响应；本课程称为缓冲响应（buffered response）。",
        "buffered",
    ),
    _t(
        "event loop",
        "事件循环",
        "03",
        "The asyncio scheduler that runs coroutines; Jupyter's kernel already runs one, which is why `asyncio.run` fails there.",
        "运行协程的 asyncio 调度器；Jupyter 内核本身已经在运行一个，所以在里面调用 `asyncio.run` 会失败。",
    ),
    _t(
        "heartbeat",
        "心跳",
        "03",
        "A small message sent on an idle stream (an SSE comment, a WebSocket ping) so that timeouts and proxies keep it open.",
        "在空闲的流上定期发送的小消息（SSE 注释、WebSocket ping），防止超时或代理把连接断掉。",
        "keep-alive",
    ),
    _t(
        "peak memory",
        "内存峰值",
        "03",
        "The most memory a request held at once; streaming keeps it flat for large responses.",
        "处理一个请求时同一时刻占用内存的最大值；对大响应来说，流式输出能让它保持平稳。",
        "memory",
    ),
    # 04 llm_streaming
    _t(
        "token",
        "词元",
        "04",
        "The unit a language model reads and writes: a word, part of a word, or punctuation; a stream sends one or a few at a time.",
        "语言模型读写的基本单位：一个词、词的一部分或标点；流式输出一次发送一个或几个。",
    ),
    _t(
        "time to first token",
        "首 token 时延",
        "04",
        "Time from the request to the first piece of generated text: what the user feels as the wait.",
        "从请求到第一段生成文本出现的时间：也就是用户感受到的等待。",
        "first token",
    ),
    _t(
        "chunk",
        "数据块",
        "04",
        "One piece of a streamed response; in the OpenAI API, one `chat.completion.chunk` event with a small delta.",
        "流式响应中的一段；在 OpenAI API 中是一个携带少量增量内容的 `chat.completion.chunk` 事件。",
    ),
    _t(
        "relay",
        "中继服务",
        "04",
        "A server between the model and the browser that forwards tokens as events and adds its own (retrieval, done).",
        "位于模型和浏览器之间的服务：把 token 作为事件转发出去，并加上自己的事件（检索结果、结束）。",
    ),
    _t(
        "retrieval-augmented generation (RAG)",
        "检索增强生成",
        "04",
        "Retrieving documents first and giving them to the model with the question; a stream can show the retrieval step before the answer.",
        "先检索文档，再和问题一起交给模型；流式输出可以在回答之前先展示检索步骤。",
        "RAG",
        "retrieval",
    ),
    _t(
        "stream resource",
        "流资源",
        "04",
        "An answer with a URL of its own: `POST /streams` creates it with the prompt in the body, `GET /streams/{id}` follows it, so the prompt stays out of URLs and the answer can be followed again.",
        "拥有自己 URL 的回答：`POST /streams` 用请求体里的提示词创建它，`GET /streams/{id}` 跟随它；提示词不进 URL，回答也可以再次跟随。",
        "resource",
    ),
    # 05 streaming_agents
    _t(
        "tool call",
        "工具调用",
        "05",
        "The model asking the application to run a function, with JSON arguments that stream in pieces.",
        "模型请求应用执行一个函数，函数参数是分段流式到达的 JSON。",
    ),
    _t(
        "structured output",
        "结构化输出",
        "05",
        "Model output as JSON that fits a schema (given to the API, or written into the prompt with JSON mode), parsed and validated into an object.",
        "符合某个 JSON Schema 的模型输出（Schema 交给 API，或在 JSON 模式下写进提示词），解析并校验后得到一个对象。",
    ),
    _t(
        "agent",
        "智能体",
        "05",
        "A loop of model and tools: the model plans, calls tools, reads their results and answers.",
        "模型与工具组成的循环：模型规划、调用工具、读取结果，再给出回答。",
    ),
    _t(
        "multi-turn chat",
        "多轮对话",
        "05",
        "A conversation whose history is sent again with every new question.",
        "每次提新问题都要把历史消息一起重新发送的对话。",
    ),
    # 06 errors_and_resume
    _t(
        "validation",
        "参数验证",
        "06",
        "Checking a request before the stream starts, so a bad one gets a 4xx status instead of a broken stream.",
        "在流开始之前检查请求，不合法的请求得到 4xx 状态码，而不是一个中途断掉的流。",
        "422",
    ),
    _t(
        "error event",
        "错误事件",
        "06",
        "An event in the stream that reports a failure after the 200 status has gone out: a code and a request id, no internals.",
        "在 200 状态码已经发出之后报告失败的事件：带错误码和请求 ID，不暴露内部细节。",
    ),
    _t(
        "partial answer",
        "部分结果",
        "06",
        "The text that reached the user before a failure; it is kept, shown, and used to continue.",
        "出错前已经发到用户那里的文本；要保留、展示，并用来继续生成。",
        "partial",
    ),
    _t(
        "timeout",
        "超时",
        "06",
        "A limit on how long a step may take; for streams, between chunks rather than for the whole response.",
        "对一个步骤耗时的限制；对流来说，限制的是两个数据块之间的间隔，而不是整个响应。",
    ),
    _t(
        "rate limiting",
        "限流",
        "06",
        "An API refusing requests over a quota with status 429 and a `Retry-After` header.",
        "API 对超出配额的请求返回 429 状态码和 `Retry-After` 响应头。",
        "rate limit",
    ),
    _t(
        "resume",
        "断点续传",
        "06",
        "Continuing a dropped stream from the last event received, using `Last-Event-ID`, without repeating or losing tokens.",
        "用 `Last-Event-ID` 从最后收到的事件继续一个断开的流，token 不重复也不丢失。",
        "Last-Event-ID",
    ),
    _t(
        "stream store",
        "流存储",
        "06",
        "Where the server keeps each stream's events, so that a reconnecting client can be sent what it missed; with several workers, a store they all read (SQLite, Redis).",
        "服务端保存每个流的事件的地方，重连的客户端可以补收错过的部分；有多个进程时，要用它们都能读取的存储（SQLite、Redis）。",
        "stream store",
    ),
    _t(
        "client disconnect",
        "客户端断开",
        "06",
        "The reader going away mid-stream: on a resumable stream perhaps only a reload, so the answer goes on; where nobody can come back for it, a reason to stop the model.",
        "读取方在流的中途离开：对可续传的流，可能只是刷新页面，回答继续生成；没有人会回来取的流，就该停止模型调用。",
        "disconnect",
    ),
    _t(
        "cancellation",
        "取消",
        "06",
        "Stopping upstream work (the model call): on a user's explicit stop, a timeout, or when nobody can read the result any more.",
        "停止上游的工作（模型调用）：用户明确要求停止、超时，或者再也没人能读取结果时。",
        "cancel",
    ),
    _t(
        "sticky session",
        "会话保持",
        "06",
        "A load balancer sending every connection of one client to the same replica: it makes a resume from one replica's memory work, until that replica leaves; a shared stream store needs none.",
        "负载均衡器把同一客户端的每个连接都发到同一个副本：这样，只存在一个副本内存里的流也能续传，但只到这个副本下线为止；用共享的流存储就不需要它。",
    ),
    # 07 sse_vs_websocket
    _t(
        "protocol upgrade",
        "协议升级",
        "07",
        "The WebSocket handshake: an HTTP request answered with `101 Switching Protocols`, after which the bytes are frames.",
        "WebSocket 的握手：HTTP 请求得到 `101 Switching Protocols` 响应，之后传输的就是帧。",
        "upgrade",
        "handshake",
    ),
    _t(
        "two-way communication",
        "双向通信",
        "07",
        "Both sides sending during the same exchange; SSE clients do it with separate requests, WebSocket on one connection.",
        "通信双方在同一次交互中都发送数据；SSE 客户端靠另发请求实现，WebSocket 在同一条连接上实现。",
        "talking back",
        "talks back",
    ),
    _t(
        "reconnection",
        "重连",
        "07",
        "Opening a new connection after one dropped; `EventSource` does it by itself (until an answer other than 200, such as 204 or 404, tells it to stop), a WebSocket does not.",
        "连接断开后重新建立连接；`EventSource` 会自动重连（直到收到 204、404 这类非 200 的响应才停止），WebSocket 不会。",
        "reconnect",
    ),
    # 08 production
    _t(
        "backpressure",
        "背压",
        "08",
        "A slow reader slowing the writer down (flow control), instead of the writer queueing without limit.",
        "读取慢的一方让写入方也慢下来（流量控制），而不是让写入方无限制地排队。",
    ),
    _t(
        "slow reader",
        "慢读者",
        "08",
        "A client that reads a stream more slowly than the server writes it; also called a slow consumer.",
        "读取速度跟不上服务端写入速度的客户端，也叫慢消费者（slow consumer）。",
    ),
    _t(
        "reverse proxy",
        "反向代理",
        "08",
        "A server in front of the application (nginx) that forwards requests to it, and may buffer, compress or time out streams.",
        "位于应用前面、把请求转发给它的服务器（如 nginx），可能会缓冲、压缩流或让流超时。",
    ),
    _t(
        "authentication",
        "鉴权",
        "08",
        "Proving who is asking; `EventSource` cannot send an `Authorization` header, so streams use cookies, one-time tickets in the URL, or `fetch()` with a header.",
        "证明请求者的身份；`EventSource` 不能发送 `Authorization` 请求头，所以流式接口要用 cookie、URL 里的一次性票据，或者带请求头的 `fetch()`。",
    ),
    _t(
        "proxy buffering",
        "代理缓冲",
        "08",
        "A proxy holding a response back until its buffers fill or it ends, which turns a stream into bursts; `X-Accel-Buffering: no` or `proxy_buffering off` turns it off in nginx.",
        "代理把响应攒到缓冲区满或响应结束才转发，流就变成一阵一阵地到达；在 nginx 中用 `X-Accel-Buffering: no` 或 `proxy_buffering off` 关闭。",
        "X-Accel-Buffering",
    ),
    _t(
        "thread pool",
        "线程池",
        "08",
        "A fixed set of threads for blocking work; Starlette runs each `next()` of a sync generator in anyio's pool (40 threads by default), so the streams beyond it wait for a free thread.",
        "专门执行阻塞操作的一组数量固定的线程；Starlette 把同步生成器的每次 `next()` 放进 anyio 的线程池（默认 40 个线程），超出的流只能等线程空出来。",
    ),
    _t(
        "open-file limit",
        "打开文件数上限",
        "08",
        "The most file descriptors a process may hold (`ulimit -n`); each open stream holds a socket, and at the limit new connections get no answer at all, unless a concurrency limit answers 503 first.",
        "一个进程最多能持有的文件描述符数量（`ulimit -n`）；每个打开的流都占一个套接字，到了上限，新连接完全得不到响应，除非先用并发上限返回 503。",
        "ulimit",
    ),
    _t(
        "one-time ticket",
        "一次性票据",
        "08",
        "A short-lived token, fetched with the real credential in a header, that opens one stream once: `EventSource` authenticates without a long-lived token in the URL.",
        "用请求头里的真实凭证换来的短期凭据，只能打开一个流一次：`EventSource` 靠它鉴权，URL 里不会出现长期有效的令牌。",
    ),
    _t(
        "HTTP/2 multiplexing",
        "HTTP/2 多路复用",
        "08",
        "HTTP/2 carrying many requests as streams over one connection; browsers speak it only over TLS, and it lifts the six-connections-per-origin limit that open `EventSource`s meet over HTTP/1.1.",
        "HTTP/2 在一条连接上同时承载多个请求；浏览器只在 TLS 上使用它，它解除了 HTTP/1.1 下每个源最多六个连接的限制，打开多个 `EventSource` 时不再排队。",
        "HTTP/2",
    ),
    # 09 when_not_to_stream
    _t(
        "perceived speed",
        "用户感知速度",
        "09",
        "How fast a reply feels: set by the wait before the first words, not by the total time.",
        "用户感觉到的快慢：取决于看到第一个字之前的等待，而不是总耗时。",
        "perceived",
    ),
    _t(
        "partial JSON",
        "不完整的 JSON",
        "09",
        "A JSON document cut mid-way, as it is while it streams: `json.loads` rejects it until the end, a parser that closes what is still open reads every prefix; sound for display, not for acting on.",
        "流式传输途中被截断的 JSON 文档：结束之前 `json.loads` 解析不了，能补全未闭合部分的解析器则能读出每个前缀；可以用来显示，不能据此执行操作。",
    ),
    _t(
        "content moderation",
        "内容审核",
        "09",
        "Checking text before users see it; a stream shows words before the check can see the whole.",
        "在用户看到之前检查文本；而流式输出会在检查看到全文之前就把文字展示出去。",
        "moderation",
    ),
    _t(
        "transaction",
        "事务",
        "09",
        "An all-or-nothing operation; its result must not be shown as final before it commits.",
        "要么全部成功、要么全部失败的操作；提交之前不能把结果当作最终结果展示。",
    ),
    # 10 capstone
    _t(
        "grader",
        "评分器",
        "10",
        "A program that checks a service by its behaviour: it talks to it over real HTTP as a browser would, injects faults, and reports each check as passed or failed.",
        "按行为检查服务的程序：像浏览器一样通过真实的 HTTP 访问服务、注入故障，逐项报告通过或失败。",
    ),
    _t(
        "fault injection",
        "故障注入",
        "10",
        "Making a failure happen on purpose where it would really happen (here the model erring mid-answer or failing with HTTP 500, on request), to see what the service does about it.",
        "在真实会出故障的地方故意制造故障（这里是让模型按要求在回答中途出错，或返回 HTTP 500），看服务如何应对。",
        "faults injected",
    ),
    # 11 interview_drill
    _t(
        "long-lived connection",
        "长连接",
        "11",
        "A connection kept open across or during responses; HTTP/1.1 keeps normal responses' connections open too, so what streaming makes long-lived is the response.",
        "跨多个响应或在响应期间一直保持打开的连接；HTTP/1.1 对普通响应也会保持连接，流式输出真正拉长的是响应本身。",
        "long-lived",
        "long connection",
    ),
)


def _existing_numbers() -> set[str]:
    from . import course

    return {nb.number for nb in course.NOTEBOOKS if nb.path.exists()}


def taught(terms: tuple[Term, ...] = TERMS) -> list[Term]:
    """The terms whose notebook exists, in the course's order."""
    existing = _existing_numbers()
    return sorted((t for t in terms if t.notebook in existing), key=lambda t: t.notebook)


def pending(terms: tuple[Term, ...] = TERMS) -> dict[str, list[Term]]:
    """The terms whose notebook does not exist yet, by planned notebook number."""
    existing = _existing_numbers()
    waiting: dict[str, list[Term]] = {}
    for term in terms:
        if term.notebook not in existing:
            waiting.setdefault(term.notebook, []).append(term)
    return waiting


def _notebook_file(number: str) -> str | None:
    from . import course

    return next((nb.filename for nb in course.NOTEBOOKS if nb.number == number and nb.path.exists()), None)


def _notebook_link(number: str, link_prefix: str) -> str:
    filename = _notebook_file(number)
    return f"[{number}]({link_prefix}{filename})" if filename else f"{number} (planned)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    terms: list[Term] | None = None, link_prefix: str = "", chinese_first: bool = False
) -> str:
    """A markdown table of `terms` (default: every taught term); notebook links get `link_prefix`.

    `chinese_first` puts the Chinese columns first, for a Chinese page (README.zh-CN.md).
    """
    if chinese_first:
        rows = ["| 中文 | English | 释义 | definition | 笔记本 |", "|---|---|---|---|---|"]
    else:
        rows = ["| English | 中文 | definition | 释义 | notebook |", "|---|---|---|---|---|"]
    for t in taught() if terms is None else terms:
        cells = [_cell(t.en), _cell(t.zh), _cell(t.definition), _cell(t.definition_zh)]
        if chinese_first:
            cells = [cells[1], cells[0], cells[3], cells[2]]
        rows.append(f"| {' | '.join(cells)} | {_notebook_link(t.notebook, link_prefix)} |")
    return "\n".join(rows)


_BOLD, _CODE = re.compile(r"\*\*(.+?)\*\*"), re.compile(r"`([^`]+)`")


def inline_html(text: str) -> str:
    """Escape, then the only markup the glossary and the drill use: **bold** and `code`."""
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<b>\1</b>", html.escape(text)))


def html_table(terms: list[Term] | None = None, link_prefix: str = "") -> str:
    rows = []
    for t in taught() if terms is None else terms:
        filename = _notebook_file(t.notebook)
        where = (
            f"<a href='{html.escape(link_prefix + filename)}'>{t.notebook}</a>"
            if filename
            else f"{t.notebook} (planned)"
        )
        rows.append(
            f"<tr><td><b>{html.escape(t.en)}</b></td><td lang='zh-CN' style='white-space: nowrap'><b>{html.escape(t.zh)}</b></td>"
            f"<td>{inline_html(t.definition)}</td><td lang='zh-CN'>{inline_html(t.definition_zh)}</td><td>{where}</td></tr>"
        )
    head = "<tr><th>English</th><th>中文</th><th>definition</th><th>释义</th><th>notebook</th></tr>"
    return f"<table class='lab-glossary'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _matches(term: Term, query: str) -> bool:
    query = query.strip().lower()
    return not query or any(
        query in field.lower()
        for field in (term.en, term.zh, term.definition, term.definition_zh, *term.spellings)
    )


class GlossaryView:
    """The glossary as a widget: a filter box (English or 中文) over the table.

    Its plain-text form is fixed, so a saved notebook does not change with what was typed, nor with
    the number of terms (which grows as notebooks are added, and would make a stored output stale).
    """

    def __init__(self, terms: list[Term] | None = None) -> None:
        import ipywidgets as widgets

        self.terms = taught() if terms is None else list(terms)
        # No emoji or icon in the label: a machine without an emoji font would draw a box.
        self.search = widgets.Text(
            placeholder="filter: English or 中文 / 筛选", layout=widgets.Layout(width="24em")
        )
        self.table = widgets.HTML()
        self.widget = widgets.VBox([self.search, self.table])
        self.widget.add_class("lab-glossary-view")
        self.search.observe(lambda _: self.show(), names="value")
        self.show()

    def show(self) -> None:
        shown = [t for t in self.terms if _matches(t, self.search.value)]
        self.table.value = html_table(shown) if shown else "<i>no term matches / 没有匹配的术语</i>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (
            "Glossary, English ↔ 中文, with a filter box (a widget: open in JupyterLab to see it)"
        )
        return bundle
