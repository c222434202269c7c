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
    glossary        the course's terms, English ↔ 中文, and where each is taught
    drill           the interview answers in 中文 and English, filled from the learner's evidence
    fonts           Chinese figure labels with a CJK font, English labels without one
    source_material the Chinese interview notes the course started from, verbatim, and their code
    claims          every claim of those notes, with its verdict and the section that checks it
    pitfalls        the notes' handler and client, run as written
    batch_import    an all-or-nothing import, streamed and buffered
"""
