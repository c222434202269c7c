"""Streaming Lab helpers: the code the notebooks show, explain and run.

Every module, grouped by role (tests/test_package_map.py checks that none is missing). A number in
brackets is the notebook that teaches with it.

The wire format
    sse                 the text/event-stream format: encode, comment, a spec-following Decoder
    counting_proxy      a byte-counting TCP proxy: what crosses the wire, in each direction (07)

Servers and apps
    kernel_server       serve an ASGI app from a background thread of the kernel, restartable by name
    local_service       child-process servers (Redis, nginx) on a free 127.0.0.1 port, or a one-line hint
    static_pages        serve the pages in helpers/pages/ with the script and style they share
    transports          one token stream over SSE and over WebSocket, from one app (07)
    chunk_reader        a model stream read chunk by chunk, each read raced against a stop
    chat_app            the relay: POST creates a stream, GET follows it; its pages (04, 06)
    stream_store        where a stream's events live: memory, SQLite or Redis, one interface
    model_retry         when the relay asks the model again: before the first token, after Retry-After
    redis_server        a private redis-server for the lessons, or one line saying how to install it
    replicas            the relay as separate uvicorn processes sharing (or not) a store (06)
    balancer            a TCP load balancer in front of replicas: round robin or sticky (06)
    agent               a small agent whose steps stream as typed SSE events, its relay and page (05)
    batch_import        an all-or-nothing import, streamed and buffered (09)
    nginx_proxy         Debian's nginx in front of a kernel server, as a child process (08)
    worker_process      one uvicorn worker in a process of its own, for clean memory and CPU (08)
    worker_concurrency  sync, async, blocking and offloaded generators on one worker (08)
    paced_streams       a paced token stream and a measurement of many open streams (08)
    backpressure        slow readers against flow control, unbounded and bounded queues (08)
    proxy_lab           a stream to put behind a proxy, and a client that times its events (08)
    auth_demo           one stream behind cookies, query tokens, one-time tickets and a header (08)
    capstone            the capstone's service folder, imported fresh, with a model the course steers (10)

The model
    embedded_model      an OpenAI-compatible model in the kernel; chat_model(), is_embedded(), LazyModel
    model_request       the embedded model's request checks: the real API's 400/401/404 bodies
    model_replies       what the embedded model says: last message, history, tool results
    model_tools         which tools the embedded model calls, and with what arguments
    schema_values       a deterministic value for a JSON Schema (structured output)
    stopping            stop a stream mid-answer; what the model generated, and how fast it stopped
    retrieval           a tiny keyword retriever for RAG-style streams

Clients, views and measurement
    measure             time a response chunk by chunk
    timeline            plot when the bytes arrived
    cost                what streaming costs the server: streamed against buffered, per request (09)
    load_client         many concurrent SSE readers from a separate process (08)
    widgets             TokenView, a live token widget
    partial_form        a form that fills in field by field from partial JSON
    chromium            ask Debian's Chromium, through Playwright, from a cell (08)
    decisions           small decision functions built from the notebooks' measurements (07)
    evidence            measurements the notebooks record for the interview drill; their names in KEYS

The source material (the Chinese interview notes the course corrects)
    source_material     the notes, verbatim, and the code quoted in them
    claims              every claim of those notes, with its verdict and the section that checks it
    pitfalls            the notes' handler and client, run as written
    error_collision     the notes' client in Chromium, case by case: where its `error` listener collides

Course mechanics
    course              the table of contents; `python -m helpers.course` regenerates navigation and tables
    glossary            the course's terms, English ↔ 中文, and where each is taught
    architecture        the course's architecture as a figure: one token's path, stage by stage (11)
    drill               the interview answers in 中文 and English, filled from the learner's evidence (11)
    fonts               Chinese figure labels with a CJK font, English labels without one
    exercises           the exercises' checks, one module per exercise, and what they serve
    grader              the capstone's behavioural checks, one line each (10)
    check_notebook      a teacher's check of students' notebooks: each exercise solved or not

Data folders: pages/ (HTML, JS and CSS served by static_pages), source/ (the notes' Markdown).
"""
