"""The course's table of contents, kept in one place.

The navigation cells at the top and bottom of every notebook, the table in
`00_contents.ipynb`, the table in README.md, and the table and glossary in README.zh-CN.md
are generated from `NOTEBOOKS` (and `helpers.glossary`):

    python -m helpers.course          rewrite them after adding or renaming a notebook
    python -m helpers.course --check  exit 1 if any of them is out of date (the tests run this)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Notebook",
    "NOTEBOOKS",
    "by_number",
    "nav_markdown",
    "contents_table",
    "contents_table_zh",
    "sync",
]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"


@dataclass(frozen=True)
class Notebook:
    number: str  # two digits; the order of the course
    slug: str
    title: str
    title_zh: str
    learn: str  # what you learn, one line for the tables
    learn_zh: str  # the same, in Chinese
    minutes: int  # reading and running time for a learner working alone

    @property
    def filename(self) -> str:
        return f"{self.number}_{self.slug}.ipynb"

    @property
    def path(self) -> Path:
        return NOTEBOOK_DIR / self.filename

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"


NOTEBOOKS: tuple[Notebook, ...] = (
    Notebook(
        "01",
        "generators",
        "Generators and async generators",
        "生成器与异步生成器",
        "lazy values and the memory they save, `yield` against `return`, `async for`, a token stream shown live in a widget",
        "惰性求值及其节省的内存、`yield` 与 `return` 的区别、`async for`、在小部件中实时显示的 token 流",
        25,
    ),
    Notebook(
        "02",
        "sse_format",
        "The SSE wire format",
        "SSE 传输格式",
        "`data`/`event`/`id`/`retry`, comments, UTF-8, framing by hand, a spec-following decoder, four framing pitfalls, `fastapi.sse` and `sse-starlette` bytes",
        "`data`/`event`/`id`/`retry` 字段、注释、UTF-8、手写分帧、遵循规范的解码器、四个分帧陷阱、`fastapi.sse` 与 `sse-starlette` 输出的字节",
        30,
    ),
    Notebook(
        "03",
        "kernel_server",
        "A FastAPI server inside the kernel",
        "在 Jupyter 内核里运行 FastAPI 服务器",
        "why `uvicorn.run` and `asyncio.run` fail in Jupyter and what `nest_asyncio` does, a server in a thread, `StreamingResponse` against `fastapi.sse`, an httpx client, time to first byte against total time, timeouts, memory",
        "为什么 `uvicorn.run` 和 `asyncio.run` 在 Jupyter 中会失败、`nest_asyncio` 做了什么、在线程中运行的服务器、`StreamingResponse` 与 `fastapi.sse`、httpx 客户端、首字节时间与总时间、超时、内存",
        40,
    ),
    Notebook(
        "04",
        "llm_streaming",
        "LLM streaming with LangChain",
        "用 LangChain 流式输出大模型回答",
        "`ChatOpenAI.astream` against `ainvoke`, the OpenAI wire format, a relay with retrieval steps, streams as resources (POST creates, GET follows, no prompt in a URL), `EventSource` and `fetch()` pages, three browser pitfalls",
        "`ChatOpenAI.astream` 与 `ainvoke`、OpenAI 的传输格式、带检索步骤的中继服务、把流当作资源（POST 创建、GET 跟随，URL 中不放提示词）、`EventSource` 与 `fetch()` 页面、三个浏览器陷阱",
        50,
    ),
    Notebook(
        "05",
        "streaming_agents",
        "Streaming agents: tool calls, structured output and multi-turn chat",
        "流式智能体：工具调用、结构化输出与多轮对话",
        "`bind_tools` + `astream` and `tool_call_chunks` merged by index, an agent loop relayed as typed SSE events to a `fetch()` page, the Vercel AI SDK protocol and `astream_events` v2, partial JSON into a form, history and usage in tokens, what a stopped stream costs",
        "`bind_tools` + `astream` 与按 index 合并的 `tool_call_chunks`、以类型化 SSE 事件转发到 `fetch()` 页面的智能体循环、Vercel AI SDK 流协议与 `astream_events` v2、把不完整的 JSON 流式填入表单、多轮对话的历史与以 token 计的用量、停止的流仍要付出的成本",
        50,
    ),
    Notebook(
        "06",
        "errors_and_resume",
        "When a stream fails",
        "流出错时：错误事件、断开与续传",
        "4xx before the stream, error events and `done`, timeouts, rate limits, stop against disconnect, `Last-Event-ID` resume on any replica through a shared stream store (SQLite, Redis), load balancers and sticky sessions, the faults of a common handler",
        "在流开始之前返回 4xx、错误事件与 `done`、超时、限流、停止与断开的区别、借助共享的流存储（SQLite、Redis）在任意副本上用 `Last-Event-ID` 续传、负载均衡与会话粘滞、一个常见处理函数的缺陷",
        60,
    ),
    Notebook(
        "07",
        "sse_vs_websocket",
        "SSE against WebSocket",
        "SSE 与 WebSocket 对比",
        "the five dimensions demonstrated on one stream: bytes on the wire, talking back, browser APIs, reconnection, proxies",
        "在同一个流上演示五个维度：线上字节数、反向通信、浏览器 API、重连、代理",
        35,
    ),
    Notebook(
        "08",
        "production",
        "Streaming in production: many clients, slow readers, real proxies, auth",
        "生产环境中的流式输出：大量客户端、慢读者、真实代理与鉴权",
        "a sync generator against the thread pool, a blocking call in async code, hundreds of streams on one worker, the open-file limit, slow readers and bounded buffers, nginx buffering, timeouts and gzip measured, authenticating `EventSource`, HTTP/2 and the six-connection limit",
        "同步生成器与线程池、异步代码中的阻塞调用、单个 worker 上的数百个流、打开文件数上限、慢读者与有界缓冲、实测 nginx 的缓冲、超时与 gzip、`EventSource` 的鉴权方式、HTTP/2 与每个源六个连接的限制",
        60,
    ),
    Notebook(
        "09",
        "when_not_to_stream",
        "When not to stream",
        "什么时候不该用流式输出",
        "a measured grid of lengths and speeds, framing overhead, partial JSON, moderation, transactions, a decision table generated from the measurements",
        "按长度和速度测量的网格、分帧开销、不完整的 JSON、内容审核、事务，以及由测量结果生成的决策表",
        35,
    ),
    Notebook(
        "10",
        "capstone",
        "Capstone: repair a streaming service until the grader passes",
        "综合项目：修复一个流式服务，直到评分器全部通过",
        "the source's service as written, against a grader of nine behavioural checks (framing, the `error` collision, `EventSource` on POST, `done` in `finally`, ids and resume, stop, validation, the prompt in the URL, leaks), repaired to the relay's contract",
        "原样运行的原文服务，面对九项行为检查的评分器（分帧、`error` 事件冲突、POST 路由上的 `EventSource`、`finally` 中的 `done`、事件 id 与续传、停止、输入校验、URL 中的提示词、内部信息泄露），按中继服务的契约修复",
        90,
    ),
    Notebook(
        "11",
        "interview_drill",
        "Interview drill",
        "面试演练",
        "the four classic interview questions answered with your own evidence, in 中文 and English, corrections to common answers, the architecture, a streaming example from memory",
        "用你自己的测量数据，以中文或英文回答四道经典面试题、纠正常见答案、架构图、凭记忆写出一个流式示例",
        30,
    ),
)

CONTENTS = "00_contents.ipynb"
README_ZH = ROOT / "README.zh-CN.md"
TABLE_START, TABLE_END = "<!-- notebooks -->", "<!-- /notebooks -->"
GLOSSARY_START, GLOSSARY_END = "<!-- glossary -->", "<!-- /glossary -->"


def by_number(number: str) -> Notebook:
    return next(nb for nb in NOTEBOOKS if nb.number == number)


def nav_markdown(notebook: Notebook) -> str:
    """`**Streaming Lab** · [← previous] · [Contents] · [next →]`, the first and last cell of a notebook."""
    index = NOTEBOOKS.index(notebook)
    parts = ["**Streaming Lab**"]
    if index > 0:
        previous = NOTEBOOKS[index - 1]
        parts.append(f"[← {previous.label}]({previous.filename})")
    parts.append(f"[Contents]({CONTENTS})")
    if index + 1 < len(NOTEBOOKS):
        following = NOTEBOOKS[index + 1]
        parts.append(f"[{following.label} →]({following.filename})")
    return " · ".join(parts)


def contents_table(link_prefix: str = "") -> str:
    """The markdown table of notebooks; `link_prefix` is "notebooks/" for the README."""
    return _table(
        "| # | notebook | 中文 | what you learn | time |",
        lambda nb: (
            f"[{nb.title}]({link_prefix}{nb.filename}) | {nb.title_zh} | {nb.learn} | {nb.minutes} min"
        ),
    )


def contents_table_zh(link_prefix: str = "") -> str:
    """The same table in Chinese, for README.zh-CN.md: the Chinese title links, the English one follows."""
    return _table(
        "| # | 笔记本 | English | 学习内容 | 时长 |",
        lambda nb: (
            f"[{nb.title_zh}]({link_prefix}{nb.filename}) | {nb.title} | {nb.learn_zh} | {nb.minutes} 分钟"
        ),
    )


def _table(header: str, cells) -> str:
    """A markdown table with a row per notebook: its number, then `cells(notebook)`."""
    rows = [header, "|---|---|---|---|---|"]
    rows += [f"| {nb.number} | {cells(nb)} |" for nb in NOTEBOOKS]
    return "\n".join(rows)


def _replace_table(text: str, table: str, start: str = TABLE_START, end: str = TABLE_END) -> str:
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"no {start} … {end} markers")
    return pattern.sub(lambda _: f"{start}\n{table}\n{end}", text)


def _expected_files() -> dict[Path, str]:
    """Every generated file's expected text (notebooks as JSON text, as nbformat writes it)."""
    import nbformat

    expected = {}
    for nb in NOTEBOOKS:
        notebook = nbformat.read(nb.path, as_version=4)
        for cell in (notebook.cells[0], notebook.cells[-1]):
            if "nav" in cell.metadata.get("tags", []):
                cell.source = nav_markdown(nb)
        expected[nb.path] = nbformat.writes(notebook) + "\n"
    contents = nbformat.read(NOTEBOOK_DIR / CONTENTS, as_version=4)
    for cell in contents.cells:
        if cell.cell_type == "markdown" and TABLE_START in cell.source:
            cell.source = _replace_table(cell.source, contents_table())
    expected[NOTEBOOK_DIR / CONTENTS] = nbformat.writes(contents) + "\n"
    readme = ROOT / "README.md"
    expected[readme] = _replace_table(readme.read_text(encoding="utf-8"), contents_table("notebooks/"))
    from . import glossary  # imports this module: import it here, not at the top

    readme_zh = _replace_table(README_ZH.read_text(encoding="utf-8"), contents_table_zh("notebooks/"))
    expected[README_ZH] = _replace_table(
        readme_zh,
        glossary.markdown_table(link_prefix="notebooks/", chinese_first=True),
        GLOSSARY_START,
        GLOSSARY_END,
    )
    return expected


def sync(check: bool = False) -> list[Path]:
    """Rewrite (or, with `check`, only list) the files whose generated parts are out of date."""
    stale = []
    for path, text in _expected_files().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return stale


def _main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = sync(check=check)
    for path in stale:
        print(f"{'out of date' if check else 'rewrote'}: {path.relative_to(ROOT)}")
    if check and stale:
        print("Run `python -m helpers.course` to regenerate them.")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
