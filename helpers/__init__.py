"""Streaming Lab helpers: the code the notebooks show, explain and run.

sse             the text/event-stream format: encode, comment, Decoder
kernel_server   serve an ASGI app from a background thread of the kernel
embedded_model  an OpenAI-compatible model in the kernel; chat_model(), LazyModel
model_request   the embedded model's request checks: the real API's 400/401/404 bodies
model_replies   what the embedded model says: last message, history, tool results
model_tools     which tools the embedded model calls, and with what arguments
schema_values   a deterministic value for a JSON Schema (structured output)
stopping        stop a stream mid-answer; what the model generated, and how fast it stopped
agent           a small agent whose steps stream as typed SSE events, its relay and page
widgets         TokenView, a live token widget
partial_form    a form that fills in field by field from partial JSON
measure         time a response chunk by chunk
timeline        plot when the bytes arrived
retrieval       a tiny keyword retriever for RAG-style streams
stream_store    where a stream's events live: memory, SQLite or Redis, one interface
chat_app        the relay: POST creates a stream, GET follows it; its pages
model_retry     when the relay asks the model again: before the first token, after Retry-After
redis_server    a private redis-server for the lessons, or one line saying how to install it
replicas        the relay as separate uvicorn processes sharing (or not) a store
balancer        a TCP load balancer in front of replicas: round robin or sticky
glossary        the course's terms, English ↔ 中文, and where each is taught
drill           the interview answers in 中文 and English, filled from the learner's evidence
fonts           Chinese figure labels with a CJK font, English labels without one
source_material the Chinese interview notes the course started from, verbatim, and their code
claims          every claim of those notes, with its verdict and the section that checks it
pitfalls        the notes' handler and client, run as written
error_collision the notes' client in Chromium, case by case: where its `error` listener collides
batch_import    an all-or-nothing import, streamed and buffered
capstone        the capstone's service folder, imported fresh, with a model the course steers
grader          the capstone's behavioural checks, one line each
exercises       the exercises' checks, one module per exercise, and what they serve (second_model, products)
nginx_proxy     Debian's nginx in front of a kernel server, as a child process (08)
worker_process  one uvicorn worker in a process of its own, for clean memory and CPU (08)
load_client     many concurrent SSE readers from a separate process (08)
paced_streams   a paced token stream and a measurement of many open streams (08)
worker_concurrency  sync, async, blocking and offloaded generators on one worker (08)
backpressure    slow readers against flow control, unbounded and bounded queues (08)
proxy_lab       a stream to put behind a proxy, and a client that times its events (08)
auth_demo       one stream behind cookies, query tokens, one-time tickets and a header (08)
chromium        ask Debian's Chromium, through Playwright, from a cell (08)
"""
