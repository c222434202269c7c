"""Reading a Chat Completions request the way the real API does: every mistake is a 4xx with its error body.

Code that only ever ran offline must not fail on first contact with the real API, so the
embedded model refuses what the real API refuses, with the same status and the same body
`{"error": {"message", "type", "param", "code"}}`:

    401  no `Authorization: Bearer <key>` header, or a key other than OFFLINE_API_KEY
    404  a model other than MODEL_NAME
    400  an argument the API does not know (the list comes from the official `openai` SDK's
         request type); empty `messages`; a bad role; a `tool` message that answers no
         `tool_calls`, or `tool_calls` left unanswered; `stream_options` without `stream`;
         `tool_choice` without `tools`, or naming a tool that is not there; `n`,
         `temperature`, `top_p` or `max_tokens` out of range; a `response_format` of an
         unknown type, or `json_object` when no message mentions JSON; an unknown `lab` fault

Parameters the API knows but a deterministic model cannot honour (`temperature`, `seed`,
`logprobs`, ...) are accepted and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.responses import JSONResponse

__all__ = ["APIError", "ChatRequest", "parse_request", "check_key", "ROLES"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
FAULTS = ("error_after", "drop_after", "stall_after", "rate_limit", "server_error", "no_done")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class APIError(Exception):
    """A refusal in the real API's shape; `.response()` is the JSON answer."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code, self.headers = (
            status,
            message,
            type,
            param,
            code,
            headers or {},
        )

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self, headers: dict | None = None) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers={**(headers or {}), **self.headers})


@dataclass
class ChatRequest:
    """A validated request: what the model needs to decide its reply."""

    messages: list[dict]
    stream: bool = False
    include_usage: bool = False
    n: int = 1
    max_tokens: int | None = None
    tools: list[dict] = field(default_factory=list)  # the `function` objects
    tool_choice: str | dict = "auto"
    parallel_tool_calls: bool = True
    response_format: dict | None = None
    lab: dict = field(default_factory=dict)


def _known_arguments() -> frozenset[str]:
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming as Params

    return frozenset(Params.__required_keys__ | Params.__optional_keys__) | {"lab"}


def check_key(authorization: str | None, expected: str) -> None:
    if not authorization:
        raise APIError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise APIError(
            401, "Malformed Authorization header: expected 'Bearer YOUR_KEY'.", code="invalid_api_key"
        )
    if key.strip() != expected:
        shown = key.strip()[:3] + "*" * 4 + key.strip()[-4:] if len(key.strip()) > 8 else "****"
        raise APIError(
            401,
            f"Incorrect API key provided: {shown}. The embedded model accepts only the course's offline key, helpers.embedded_model.OFFLINE_API_KEY.",
            code="invalid_api_key",
        )


def text_of(content) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _bad(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def _number(body: dict, name: str, low: float, high: float, *, integer: bool = False) -> None:
    value = body.get(name)
    if value is None:
        return
    kind = "integer" if integer else "number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise _bad(
            f"Invalid type for '{name}': expected an {kind}, but got {type(value).__name__} instead.",
            name,
            "invalid_type",
        )
    if value < low:
        raise _bad(
            f"Invalid '{name}': {kind} below minimum value. Expected a value >= {low:g}, but got {value} instead.",
            name,
            "integer_below_min_value" if integer else "decimal_below_min_value",
        )
    if value > high:
        raise _bad(
            f"Invalid '{name}': {kind} above maximum value. Expected a value <= {high:g}, but got {value} instead.",
            name,
            "integer_above_max_value" if integer else "decimal_above_max_value",
        )


def _check_messages(messages) -> None:
    if not isinstance(messages, list):
        raise _bad("Invalid type for 'messages': expected an array of objects.", "messages", "invalid_type")
    if not messages:
        raise _bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    waiting: dict[str, int] = {}  # tool_call_id -> index of the assistant message that made it
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(
                f"Invalid type for 'messages[{i}]': expected an object.", f"messages[{i}]", "invalid_type"
            )
        role = message.get("role")
        if role not in ROLES:
            raise _bad(
                f"Invalid value: '{role}'. Supported values are: {', '.join(repr(r) for r in ROLES)}.",
                f"messages[{i}].role",
                "invalid_value",
            )
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in waiting:
                raise _bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            del waiting[call_id]
            continue
        if waiting:  # the real API insists that every call is answered before anything else
            raise _bad(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
                f"The following tool_call_ids did not have response messages: {', '.join(waiting)}",
                f"messages.[{min(waiting.values())}].role",
            )
        if role == "assistant":
            waiting = {
                call.get("id"): i for call in message.get("tool_calls") or [] if isinstance(call, dict)
            }
        elif message.get("content") is None:
            raise _bad(
                f"Missing required parameter: 'messages[{i}].content'.",
                f"messages[{i}].content",
                "missing_required_parameter",
            )
    if waiting:
        raise _bad(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
            f"The following tool_call_ids did not have response messages: {', '.join(waiting)}",
            f"messages.[{min(waiting.values())}].role",
        )


def _check_tools(body: dict) -> tuple[list[dict], str | dict]:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise _bad("Invalid type for 'tools': expected an array of objects.", "tools", "invalid_type")
    functions = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(function, dict):
            raise _bad(
                f"Invalid value for 'tools[{i}]': only tools of type 'function' with a 'function' object are supported.",
                f"tools[{i}]",
                "invalid_value",
            )
        if not _TOOL_NAME.match(str(function.get("name", ""))):
            raise _bad(
                f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"tools[{i}].function.name",
                "invalid_value",
            )
        functions.append(function)
    choice = body.get("tool_choice")
    if choice is not None and not functions:
        raise _bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    if choice is None:
        return functions, "auto"
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise _bad(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
                "invalid_value",
            )
        return functions, choice
    name = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    if name not in {f["name"] for f in functions}:
        raise _bad(
            f"Invalid value for 'tool_choice': no function named '{name}' was specified in the 'tools' parameter.",
            "tool_choice",
        )
    return functions, choice


def _check_response_format(body: dict, messages: list[dict]) -> dict | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _bad(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    if kind == "json_object" and not any("json" in text_of(m.get("content")).lower() for m in messages):
        raise _bad(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not spec.get("name"):
            raise _bad(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        if not isinstance(spec.get("schema", {}), dict):
            raise _bad(
                "Invalid type for 'response_format.json_schema.schema': expected an object.",
                "response_format.json_schema.schema",
                "invalid_type",
            )
    return None if kind == "text" else fmt


def parse_request(body, model_name: str) -> ChatRequest:
    """A ChatRequest, or the APIError the real API would answer with."""
    if not isinstance(body, dict):
        raise _bad("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
    unknown = sorted(set(body) - _known_arguments())
    if unknown:
        raise _bad(f"Unrecognized request argument supplied: {unknown[0]}")
    if not body.get("model"):
        raise _bad("you must provide a model parameter", "model", "missing_required_parameter")
    if body["model"] != model_name:
        raise APIError(
            404,
            f"The model `{body['model']}` does not exist or you do not have access to it. The embedded model is called `{model_name}`.",
            code="model_not_found",
        )
    if "messages" not in body:
        raise _bad("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    _check_messages(body["messages"])
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad(
            f"Invalid type for 'stream': expected a boolean, but got {type(stream).__name__} instead.",
            "stream",
            "invalid_type",
        )
    if body.get("stream_options") is not None and not stream:
        raise _bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
        )
    _number(body, "n", 1, 128, integer=True)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    for name in ("max_tokens", "max_completion_tokens"):
        _number(body, name, 1, 1_000_000, integer=True)
    tools, tool_choice = _check_tools(body)
    response_format = _check_response_format(body, body["messages"])
    lab = body.get("lab") or {}
    if not isinstance(lab, dict):
        raise _bad("Invalid type for 'lab': expected an object.", "lab", "invalid_type")
    if lab.get("fault") is not None and lab["fault"] not in FAULTS:
        raise _bad(
            f"Unknown fault {lab['fault']!r}; choose one of {', '.join(FAULTS)}.",
            "lab.fault",
            "invalid_value",
        )
    return ChatRequest(
        messages=body["messages"],
        stream=bool(stream),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        n=body.get("n") or 1,
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=body.get("parallel_tool_calls", True) is not False,
        response_format=response_format,
        lab=lab,
    )
