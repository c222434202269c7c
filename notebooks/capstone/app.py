"""The service you repair in notebook 10: the source material's backend (问题3), as written.

The code between the two `----` markers is the source's, character for character (a test
compares it with helpers/source/interview_notes.zh.md). Everything outside them is glue the
course added so that the code runs here, and says so. Change anything you like: the grader
checks behaviour, not text.

How it runs. `helpers.capstone.load_service("capstone")` imports this file fresh each time.
While it imports it, it sets OPENAI_API_KEY and OPENAI_BASE_URL, so that the source's
`ChatOpenAI()` talks to the course's offline model (or, when you set a real key and are not
grading, to the real API). Keep creating the model with `ChatOpenAI(...)` when this file is
imported: that is how the grader gives your service a model whose faults it controls.
"""

# ---- the source material, 问题3, as written ----
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from langchain_openai import ChatOpenAI
import json

app = FastAPI()
llm = ChatOpenAI()

@app.post("/chat-stream")
async def chat_stream(message: str):
    async def generate():
        try:
            # 流式生成
            async for chunk in llm.astream(message):
                if chunk.content:
                    # 正常数据事件
                    yield f"data: {json.dumps({'type': 'content', 'data': chunk.content})}\n\n"

        except Exception as e:
            # ✅ 关键: 发送错误事件,而不是抛出异常
            error_data = {
                'type': 'error',
                'message': str(e),
                'code': 'GENERATION_ERROR'
            }
            yield f"event: error\ndata: {json.dumps(error_data)}\n\n"

        finally:
            # ✅ 发送结束事件
            yield f"event: done\ndata: {json.dumps({'type': 'done'})}\n\n"

    return StreamingResponse(generate(), media_type="text/event-stream")
# ---- end of the source material ----


# ---- glue, not from the source: serve the page in static/ at "/", so a browser can open it ----
from pathlib import Path  # noqa: E402  (glue comes after the quoted code on purpose)

from fastapi.responses import FileResponse  # noqa: E402

PAGE = Path(__file__).with_name("static") / "index.html"


@app.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")
