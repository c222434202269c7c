"""Streaming Lab helpers: the code the notebooks show, explain and run.

    sse             the text/event-stream format: encode, comment, Decoder
    kernel_server   serve an ASGI app from a background thread of the kernel
    embedded_model  an OpenAI-compatible model in the kernel; chat_model()
    widgets         TokenView, a live token widget
    measure         time a response chunk by chunk
    timeline        plot when the bytes arrived
    retrieval       a tiny keyword retriever for RAG-style streams
    replay          replay buffers for Last-Event-ID resume
    chat_app        the relay: model tokens as SSE events, with pages
"""
