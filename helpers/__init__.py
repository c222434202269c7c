"""Streaming Lab helpers: the code the notebooks show, explain and run.

    sse             the text/event-stream format: encode, comment, Decoder
    kernel_server   serve an ASGI app from a background thread of the kernel
    embedded_model  an OpenAI-compatible model in the kernel; chat_model()
    widgets         TokenView, a live token widget
    measure         time a response chunk by chunk
    timeline        plot when the bytes arrived
    retrieval       a tiny keyword retriever for RAG-style streams
    stream_store    where a stream's events live: memory, SQLite or Redis, one interface
    chat_app        the relay: POST creates a stream, GET follows it; its pages
    redis_server    a private redis-server for the lessons, or one line saying how to install it
    replicas        the relay as separate uvicorn processes sharing (or not) a store
    balancer        a TCP load balancer in front of replicas: round robin or sticky
"""
