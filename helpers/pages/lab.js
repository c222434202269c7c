// Shared by the pages: page state, coalesced rendering, and a record of what arrived
// (window.lab) that the notebooks' browser tests read.
const lab = (window.lab = {
  state: "idle", text: "", docs: [], errors: [], arrivals: [], opens: 0, reconnects: 0, lastEventId: "", done: null,
});
const $ = (id) => document.getElementById(id);

// The chat controls both pages share, placed where the page has <div id="chat">.
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
  lab.text += data.text;
  lab.arrivals.push(performance.now());
  render();
}

function onRetrieval(doc) {
  lab.docs.push(doc);
  const item = document.createElement("li");
  item.textContent = `${doc.title}: ${doc.text}`;
  $("docs").append(item);
}

function onStreamError(err) {
  // Keep the partial text: it is the user's, and a retry continues from it.
  lab.errors.push(err);
  const wait = err.retry_after ? ` Retry after ${err.retry_after} s.` : "";
  $("error").textContent = `${err.code}: ${err.message}${wait}`;
  $("retry").hidden = false;
}

function onDone(done) {
  lab.done = done;
  lab.text = done.text; // the server's copy is the exact final text
  render();
  setState(done.complete ? "done" : "error", done.complete ? `done: ${lab.arrivals.length} tokens (this request took ${done.elapsed} s)` : "stopped early: partial text kept");
}

// The prompt and the lab controls come from this page's own URL (?prompt=...&fault=...).
function chatQuery(continueFrom) {
  const page = new URLSearchParams(location.search);
  const query = { prompt: $("prompt").value };
  for (const key of ["fault", "fault_at", "tokens", "token_delay", "timeout"]) {
    if (page.get(key) && !continueFrom) query[key] = page.get(key);
  }
  if (continueFrom) query.continue_from = continueFrom;
  return query;
}

function setupPage(start) {
  const page = new URLSearchParams(location.search);
  if (page.get("prompt")) $("prompt").value = page.get("prompt");
  $("send").onclick = () => { lab.text = ""; $("error").textContent = ""; $("docs").textContent = ""; start(""); };
  $("retry").onclick = () => { $("retry").hidden = true; $("error").textContent = ""; start(lab.text); };
  if (page.get("autostart")) start("");
}
