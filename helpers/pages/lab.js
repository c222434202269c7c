// Shared by the relay's pages: page state, coalesced rendering, and a record of what arrived
// (window.lab) that the browser tests read.
const lab = (window.lab = {
  state: "idle", text: "", docs: [], errors: [], arrivals: [], opens: 0, reconnects: 0,
  lastEventId: "", streamId: "", done: null, httpErrors: [],
});
const $ = (id) => document.getElementById(id);

// The chat controls the pages share, placed where the page has <div id="chat">.
$("chat").innerHTML = `
  <input id="prompt" size="50" value="What is SSE?"> <button id="send">Send</button>
  <button id="retry" hidden>Retry: continue from here</button>
  <p id="status">idle</p>
  <ul id="docs"></ul>
  <div id="output"></div>
  <p id="error"></p>`;
let renderQueued = false;

function setState(state, message) {
  lab.state = state;
  document.body.dataset.state = state;
  $("status").textContent = message || state;
}

// Draw at most once per frame, however fast tokens come.
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    $("output").textContent = lab.text;
    $("counter").textContent = `${lab.arrivals.length} tokens`;
  });
}

function onToken(data) {
  if (lab.state === "waiting") setState("streaming");
  lab.text += data.text;
  lab.arrivals.push(performance.now());
  render();
}

function onStep(step) {
  if (step.step === "retry") return setState("waiting", step.title); // the model refused before the first token: the relay asks again
  if (step.step !== "retrieval") return;
  lab.docs.push(step);
  const item = document.createElement("li");
  item.textContent = `${step.title}: ${step.text}`;
  $("docs").append(item);
}

function onStreamError(err) {
  // Keep the partial text: it is the user's, and a retry continues from it.
  lab.errors.push(err);
  const wait = err.retry_after ? ` Retry after ${err.retry_after} s.` : "";
  $("error").textContent = `${err.code}: ${err.message}${wait} (request ${err.request_id})`;
  if (err.code !== "gap") $("retry").hidden = false; // after a gap the stream goes on, and done brings the whole text
}

function onDone(done) {
  lab.done = done;
  lab.text = done.text; // the server's copy is the exact final text
  render();
  const messages = {
    complete: `done: ${lab.arrivals.length} tokens (this answer took ${done.elapsed} s)`,
    stopped: "stopped: partial text kept",
    error: "stopped early: partial text kept",
    interrupted: "the server restarted: partial text kept",
  };
  setState(done.complete ? "done" : done.reason === "stopped" ? "stopped" : "error", messages[done.reason] || done.reason);
}

// setting(key) comes from settings.js, which every page loads before this script.

// The JSON body of POST streams (and POST chat).
function chatQuery(continueFrom) {
  const body = { prompt: $("prompt").value };
  for (const key of ["fault", "fault_at", "tokens", "token_delay", "timeout", "hold"]) {
    if (setting(key) !== null && !continueFrom) body[key] = Number.isNaN(Number(setting(key))) ? setting(key) : Number(setting(key));
  }
  if (continueFrom) body.continue_from = continueFrom;
  return body;
}

async function refused(response) {
  let detail = "";
  try { detail = JSON.stringify((await response.json()).detail); } catch (e) { /* not JSON */ }
  lab.httpErrors.push(response.status);
  setState("error", `HTTP ${response.status}: ${detail}`);
}

function clearPage() {
  lab.text = ""; lab.docs = []; lab.arrivals = []; lab.errors = []; lab.done = null;
  $("error").textContent = ""; $("docs").textContent = ""; $("output").textContent = "";
}

// `start(continueFrom)` begins a new answer; `resume()`, if the page has one, picks up an answer
// the page was showing before a reload. Either runs at load with ?autostart=1.
function setupPage(start, resume) {
  if (setting("prompt")) $("prompt").value = setting("prompt");
  $("send").onclick = () => { clearPage(); start(""); };
  $("retry").onclick = () => { $("retry").hidden = true; $("error").textContent = ""; start(lab.text); };
  if (resume && resume()) return;
  if (setting("autostart")) start("");
}
