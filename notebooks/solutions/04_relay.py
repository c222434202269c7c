import json

from helpers.sse import encode


async def relay(llm, prompt):
    """Token events as the model's chunks arrive, then `done` with the text, the chunks and the model's token count."""
    text, chunks, tokens = "", 0, None
    async for chunk in llm.astream(prompt):
        if chunk.content:  # the role, finish and usage chunks carry no text
            text += chunk.content
            chunks += 1
            yield encode(json.dumps({"text": chunk.content}), event="token")
        if chunk.usage_metadata:  # the last chunk: what the model counted
            tokens = chunk.usage_metadata["output_tokens"]
    yield encode(json.dumps({"text": text, "chunks": chunks, "tokens": tokens}), event="done")
