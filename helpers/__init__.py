"""Streaming Lab helpers: the code the notebooks show, explain and run.

    sse             the text/event-stream format: encode, comment, Decoder
    kernel_server   serve an ASGI app from a background thread of the kernel
    embedded_model  an OpenAI-compatible model in the kernel; chat_model(), LazyModel
    model_request   the embedded model's request checks: the real API's 400/401/404 bodies
    model_replies   what the embedded model says: last message, history, tool results
    model_tools     which tools the embedded model calls, and with what arguments
    schema_values   a deterministic value for a JSON Schema (structured output)
    widgets         TokenView, a live token widget
    measure         time a response chunk by chunk
    timeline        plot when the bytes arrived
    retrieval       a tiny keyword retriever for RAG-style streams
    replay          replay buffers for Last-Event-ID resume
    chat_app        the relay: model tokens as SSE events, with pages
"""
