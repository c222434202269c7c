// The agent page: POST the question, read the typed SSE events from the response with fetch(),
// and render each kind as it arrives. window.agent records what arrived, for the browser tests.
const agent = (window.agent = {
  state: "idle", text: "", steps: [], tools: {}, usage: { input_tokens: 0, output_tokens: 0 },
  errors: [], done: null, events: 0, frames: [],
});
const $ = (id) => document.getElementById(id);
let controller = null;
let drawQueued = false;

function setState(state, message) {
  agent.state = state;
  document.body.dataset.state = state;
  $("status").textContent = message || state;
}

// Read a text/event-stream body and call onEvent(type, data) for each event. A line ends at
// "\n", "\r\n" or "\r"; an event ends at a blank line; lines starting with ":" are comments.
async function readEventStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader(); // keeps split UTF-8 intact
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const heldCR = buffer.endsWith("\r") ? "\r" : ""; // it may be half of a "\r\n" split across chunks
    buffer = buffer.slice(0, buffer.length - heldCR.length).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "event") type = text;
        else if (name === "data") data.push(text);
      }
      if (data.length) onEvent(type, data.join("\n"));
    }
    buffer += heldCR;
  }
}

const step = () => agent.steps[agent.steps.length - 1];
const handlers = {
  "step-start": (d) => agent.steps.push({ step: d.step, tools: [], finish: null }),
  "tool-input-start": (d) => {
    agent.tools[d.id] = { id: d.id, name: d.name, input: "", parsed: null, output: null, state: "streaming" };
    step().tools.push(d.id);
  },
  "tool-input-delta": (d) => { agent.tools[d.id].input += d.delta; },
  "tool-input-available": (d) => Object.assign(agent.tools[d.id], { parsed: d.input, state: "running" }),
  "tool-output": (d) => Object.assign(agent.tools[d.id], { output: d.output, state: "done" }),
  token: (d) => { agent.text += d.text; },
  usage: (d) => {
    agent.usage.input_tokens += d.input_tokens;
    agent.usage.output_tokens += d.output_tokens;
  },
  "step-finish": (d) => { step().finish = d.finish_reason; },
  stream_error: (d) => agent.errors.push(d),
  done: (d) => {
    agent.done = d;
    agent.text = d.text; // the server's copy is the exact final text
    setState(d.complete ? "done" : "error", d.complete ? `done: ${d.steps} steps` : "stopped early: the text so far is kept");
  },
};

// Draw at most once per frame, however fast the events come.
function render() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(draw);
}

function element(id, tag, parent, className) {
  let node = document.getElementById(id);
  if (!node) {
    node = document.createElement(tag);
    node.id = id;
    if (className) node.className = className;
    parent.append(node);
  }
  return node;
}

function draw() {
  drawQueued = false;
  for (const s of agent.steps) {
    const item = element(`step-${s.step}`, "li", $("steps"), "step");
    element(`step-${s.step}-title`, "b", item).textContent = `Step ${s.step}${s.finish ? ` (${s.finish})` : ""}`;
    for (const id of s.tools) {
      const tool = agent.tools[id];
      const card = element(`tool-${id}`, "div", item, "tool");
      card.dataset.state = tool.state;
      element(`tool-${id}-name`, "b", card).textContent = `${tool.name} `;
      element(`tool-${id}-input`, "span", card, "input").textContent = tool.input;
      element(`tool-${id}-output`, "div", card, "output").textContent = tool.output === null ? (tool.state === "running" ? "running…" : "") : `→ ${tool.output}`;
    }
  }
  $("output").textContent = agent.text;
  $("usage").textContent = `usage so far: ${agent.usage.input_tokens} input + ${agent.usage.output_tokens} output tokens`;
  $("counter").textContent = `${agent.events} events`;
  const inputs = Object.values(agent.tools).reduce((n, t) => n + t.input.length, 0);
  agent.frames.push({ at: performance.now(), inputs, text: agent.text.length, outputs: Object.values(agent.tools).filter((t) => t.output !== null).length });
}

async function start() {
  if (controller) controller.abort();
  controller = new AbortController();
  Object.assign(agent, { text: "", steps: [], tools: {}, usage: { input_tokens: 0, output_tokens: 0 }, errors: [], done: null, events: 0, frames: [] });
  $("steps").textContent = "";
  $("error").textContent = "";
  const request = { question: $("question").value };
  if (setting("token_delay")) request.token_delay = Number(setting("token_delay"));
  if (setting("max_steps")) request.max_steps = Number(setting("max_steps"));
  if (setting("parallel")) request.parallel = setting("parallel") !== "false";
  setState("connecting");
  try {
    const response = await fetch("agent", {
      method: "POST",
      // Exactly this Accept: jupyter-server-proxy streams only text/event-stream responses to it.
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    if (!response.ok) {
      setState("error", `HTTP ${response.status}: ${await response.text()}`);
      return;
    }
    setState("streaming");
    await readEventStream(response.body, (type, data) => {
      agent.events += 1;
      if (handlers[type]) handlers[type](JSON.parse(data));
      if (type === "stream_error") {
        const err = agent.errors[agent.errors.length - 1];
        $("error").textContent = `${err.code}: ${err.message} (request id ${err.request_id})`;
      }
      render();
    });
    if (!agent.done) setState("error", "the stream ended without a done event");
  } catch (err) {
    if (err.name === "AbortError") setState("stopped", "stopped by the user: the text so far is kept");
    else setState("error", "connection lost: " + err.message);
  }
  render();
}

$("send").onclick = start;
$("stop").onclick = () => controller && controller.abort();
if (setting("question")) $("question").value = setting("question");
if (setting("autostart")) start();
