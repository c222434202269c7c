"""Authenticating a stream when `EventSource` cannot send an `Authorization` header.

One small API, one stream behind four kinds of credential:

    POST /login                  sets a session cookie (HttpOnly, SameSite=Lax) for a user
    GET  /token                  the session's bearer token (what a single-page app keeps after login)
    POST /tickets                with `Authorization: Bearer`: a one-time ticket that expires in 30 s
    GET  /stream/cookie          needs the cookie: EventSource sends it (cross-origin: withCredentials + CORS)
    GET  /stream/query?token=    the token in the URL: works everywhere, and lands in every access log
    GET  /stream/ticket?ticket=  a one-time, short-lived ticket in the URL: logged too, but spent
    GET  /stream/header          needs `Authorization: Bearer`: only fetch() can send it
    GET  /auth.html              a page that tries each way (window.lab.results, for the browser tests)

A missing or wrong credential gets 401 with a JSON error before any byte of the stream.
The stream itself is a stand-in: the embedded model's reply to the prompt, paced by a
timer, because what this app teaches is who may read it. `allowed_origins` lists the
other origins (scheme, host and port) whose pages may read the stream with credentials.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field

from fastapi import Cookie, FastAPI, Header, HTTPException, Query
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from .embedded_model import reply_for
from .sse import encode
from .static_pages import add_pages

__all__ = ["create_app", "SESSION_COOKIE", "TICKET_SECONDS"]

SESSION_COOKIE = "lab_session"
TICKET_SECONDS = 30.0


class Login(BaseModel):
    user: str = Field(pattern=r"^[A-Za-z0-9]{1,32}$")


@dataclass
class _Accounts:
    sessions: dict[str, str] = field(default_factory=dict)  # cookie value -> user
    tokens: dict[str, str] = field(default_factory=dict)  # bearer token -> user
    tickets: dict[str, tuple[str, float]] = field(default_factory=dict)  # ticket -> (user, expires at)

    def new_secret(self) -> str:
        return "lab_" + secrets.token_urlsafe(18)  # 144 random bits: unguessable


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        401, {"code": "unauthorized", "message": message}, headers={"WWW-Authenticate": "Bearer"}
    )


def create_app(*, allowed_origins: tuple[str, ...] = (), token_delay: float = 0.03) -> FastAPI:
    app = FastAPI(title="Streaming Lab: authenticated streams")
    if allowed_origins:
        # Credentials across origins need an exact origin (never "*") and Allow-Credentials.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(allowed_origins),
            allow_credentials=True,
            allow_headers=["Authorization"],
            allow_methods=["GET", "POST"],
        )
    accounts = app.state.accounts = _Accounts()

    @app.post("/login")
    async def login(body: Login):
        session, token = accounts.new_secret(), accounts.new_secret()
        accounts.sessions[session], accounts.tokens[token] = body.user, body.user
        response = JSONResponse({"user": body.user})
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax", path="/")
        return response

    def session_user(session: str | None) -> str:
        if not session or session not in accounts.sessions:
            raise _unauthorized("log in first: no valid session cookie came with the request")
        return accounts.sessions[session]

    def bearer_user(authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token not in accounts.tokens:
            raise _unauthorized("send `Authorization: Bearer <token>`")
        return accounts.tokens[token]

    @app.get("/token")
    async def token(lab_session: str | None = Cookie(None)):
        user = session_user(lab_session)
        return {"token": next(t for t, u in accounts.tokens.items() if u == user)}

    @app.post("/tickets", status_code=201)
    async def ticket(authorization: str | None = Header(None)):
        user = bearer_user(authorization)
        value = accounts.new_secret()
        accounts.tickets[value] = (user, time.monotonic() + TICKET_SECONDS)
        return {"ticket": value, "expires_in": TICKET_SECONDS}

    def stream(user: str, how: str, prompt: str) -> StreamingResponse:
        async def events():
            yield encode(json.dumps({"user": user, "auth": how}), event="start")
            for piece in reply_for(prompt):
                await asyncio.sleep(token_delay)
                yield encode(json.dumps({"text": piece}), event="token")
            yield encode(json.dumps({"user": user, "text": "".join(reply_for(prompt))}), event="done")

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/stream/cookie")
    async def by_cookie(prompt: str = "What is SSE?", lab_session: str | None = Cookie(None)):
        return stream(session_user(lab_session), "cookie", prompt)

    @app.get("/stream/query")
    async def by_query(prompt: str = "What is SSE?", token: str = Query("")):
        if token not in accounts.tokens:
            raise _unauthorized("add ?token=<token> to the URL")
        return stream(accounts.tokens[token], "query token", prompt)

    @app.get("/stream/ticket")
    async def by_ticket(prompt: str = "What is SSE?", ticket: str = Query("")):
        user, expires = accounts.tickets.pop(ticket, ("", 0.0))  # pop: a ticket opens one stream, once
        if not user or time.monotonic() > expires:
            raise _unauthorized("the ticket is unknown, used or expired: ask POST /tickets for a new one")
        return stream(user, "one-time ticket", prompt)

    @app.get("/stream/header")
    async def by_header(prompt: str = "What is SSE?", authorization: str | None = Header(None)):
        return stream(bearer_user(authorization), "Authorization header", prompt)

    add_pages(app, {"/auth.html": "auth.html"})
    return app
