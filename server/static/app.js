// The browser client. Names of events come from the server (shared/protocol.py), never spelled here, and so
// do the kinds of task (GET /task-kinds). Every piece of server text is inserted with textContent: it is
// shown, never parsed as HTML. Rows: task_rows.js; the start form: start_form.js; words: format.js.
"use strict";

import { isFinal, shortId } from "./format.js";
import { StartForm } from "./start_form.js";
import { TaskRows } from "./task_rows.js";

const P = JSON.parse(document.getElementById("protocol").textContent);
const E = P.events;
const MAX_LOG_LINES = 500;
const REQUEST_MS = 10000;
const RECORDS_DELAY_MS = 100; // records asked for within this are asked for in one request
const STEPS_KEY = "taskprogress.logSteps";
const $ = (id) => document.getElementById(id);
const logEl = $("log"), linesEl = $("log-lines"), messageEl = $("message"), sendEl = $("send"), startEl = $("start");
let lastCursor = null; // sent on every (re)connect: the server replays what came after it
let socket = null;

// Opened once with ?token=…: the server keeps it in an HttpOnly cookie, so it leaves the address bar
// (and the history) now.
const query = new URLSearchParams(location.search);
if (query.has(P.tokenParameter)) {
  query.delete(P.tokenParameter);
  const rest = query.toString();
  history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
}

function log(text, kind) {
  const line = document.createElement("li");
  if (kind) line.className = kind;
  const stamp = document.createElement("time");
  const now = new Date();
  stamp.dateTime = now.toISOString();
  stamp.textContent = now.toLocaleTimeString();
  line.append(stamp, document.createTextNode(text));
  const atBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 20;
  linesEl.append(line);
  while (linesEl.childElementCount > MAX_LOG_LINES) linesEl.firstElementChild.remove();
  if (atBottom) logEl.scrollTop = logEl.scrollHeight;
}

// The log shows sends, replies and final states; every progress step only when asked (remembered).
const stepsEl = $("log-steps");
try { stepsEl.checked = localStorage.getItem(STEPS_KEY) === "1"; } catch (e) { /* not remembered */ }
stepsEl.addEventListener("change", () => {
  try { localStorage.setItem(STEPS_KEY, stepsEl.checked ? "1" : "0"); } catch (e) { /* not remembered */ }
});

function announce(text) {
  $("announce").textContent = text;
}

let health = null; // the last `system health` from the server; forgotten while not connected

function setConnection(state, text) {
  const el = $("connection");
  if (state !== "connected") showHealth(null);
  else if (health && health.problem) {
    state = "degraded";
    text = health.redis ? "connected: tasks will wait" : "connected: tasks cannot start";
  }
  el.dataset.state = state;
  el.textContent = text;
  const online = state === "connected" || state === "degraded";
  for (const button of [sendEl, startEl]) {
    button.disabled = !online;
    button.title = online ? "" : "Not connected to the server: " + text;
  }
  startForm.setOnline(online);
}

function showHealth(next) {
  const changed = (next && next.problem) !== (health && health.problem);
  health = next;
  const banner = $("health");
  banner.hidden = !(health && health.problem);
  banner.textContent = health && health.problem ? String(health.problem) : "";
  if (changed && health) log(health.problem ? String(health.problem) : "The system is healthy again",
                             health.problem ? "error" : "");
}

function request(event, payload, onReply, what) {
  socket.timeout(REQUEST_MS).emit(event, payload, (timeoutError, reply) => {
    if (timeoutError) log("The server did not answer: " + what, "error");
    else onReply(reply || {});
  });
}

const rows = new TaskRows({
  list: $("tasks"), empty: $("no-tasks"), noMatch: $("no-match"), stateFilter: $("state-filter"),
  search: $("search"),
  actions: {
    cancel(taskId) {
      request(E.cancelTask, { task_id: taskId }, (reply) => {
        if (reply.ok) log("Cancel requested for task " + shortId(taskId));
      }, "cancel task " + shortId(taskId));
    },
    toggleHistory(task) {
      if (task.history) {
        rows.closeHistory(task);
        return;
      }
      request(E.taskHistory, { task_id: task.taskId }, (reply) => {
        if (!Array.isArray(reply.events)) return;
        for (const event of reply.events) rows.show(event); // what the row had not shown yet
        rows.openHistory(task, reply.events);
      }, "history of task " + shortId(task.taskId));
    },
    copyId(taskId) {
      copyText(taskId).then(() => announce("Copied the id of task " + shortId(taskId)),
                            () => log("Could not copy the id; it is " + taskId, "error"));
    },
  },
});
for (const state of P.states) {
  const option = document.createElement("option");
  option.value = option.textContent = state;
  $("state-filter").append(option);
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // A page served over plain HTTP beyond loopback has no clipboard API: the old way.
  const area = document.createElement("textarea");
  area.value = text;
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

const startForm = new StartForm({
  form: $("start-form"), kindSelect: $("kind"), fields: $("kind-fields"), description: $("kind-description"),
  error: $("start-error"), submit: $("start-kind"),
  onStart(kind, params) {
    log(`Start ${kind.title || kind.name} (${Object.keys(params).map((n) => n + "=" + params[n]).join(", ")})`, "sent");
    startTask({ kind: kind.name, params });
  },
});

function startTask(payload) {
  request(E.startTask, payload, (reply) => {
    if (reply.task_id) {
      startForm.showError(null);
      rows.row(reply.task_id);
      log("Started task " + shortId(reply.task_id));
    } else if (reply.error && payload.kind) startForm.showError(reply.error);
  }, "start a task");
}

async function loadKinds() {
  try {
    const reply = await fetch(P.taskKindsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!reply.ok) throw new Error("HTTP " + reply.status);
    const kinds = (await reply.json()).kinds;
    if (!Array.isArray(kinds)) throw new Error("no list of kinds");
    startForm.setKinds(kinds);
    rows.setKinds(kinds);
  } catch (error) {
    log("Could not load the kinds of task: " + String(error.message || error), "error");
  }
}

// Records (kind, params, times, result) are asked for when an event shows a task whose record is
// missing or has moved on; those wanted within RECORDS_DELAY_MS go in one request.
let recordsTimer = null;

function askForRecords() {
  if (recordsTimer === null) recordsTimer = setTimeout(fetchRecords, RECORDS_DELAY_MS);
}

function fetchRecords() {
  recordsTimer = null;
  if (!socket || !socket.connected) return;
  const ids = rows.outdated();
  for (let start = 0; start < ids.length; start += P.maxRecordsPerRequest) {
    request(E.taskRecords, { task_ids: ids.slice(start, start + P.maxRecordsPerRequest) }, (reply) => {
      if (Array.isArray(reply.tasks)) reply.tasks.forEach((record) => rows.applyRecord(record));
    }, "task records");
  }
}

function showProgress(event, { quiet = false } = {}) {
  if (!rows.show(event)) return;
  askForRecords();
  if (quiet) return;
  const line = "Task " + shortId(event.task_id) + " " + event.state;
  if (isFinal(event.state)) log(line + ": " + String(event.message ?? ""), event.state === "succeeded" ? "" : "error");
  else if (stepsEl.checked) log(line + " " + event.percent + "%: " + String(event.message ?? ""), "step");
}

function showTaskList(list) {
  if (!list || !Array.isArray(list.tasks)) return;
  // Newest first from the server; rows are prepended, so add the oldest first.
  for (const entry of [...list.tasks].reverse()) showProgress(entry, { quiet: true });
  if (list.reset) log("Some events were too old to replay: showing the latest state of recent tasks", "error");
  else if (list.tasks.length) log("Loaded " + list.tasks.length + " recent tasks");
}

function connect() {
  if (typeof io !== "function") {
    setConnection("offline", "offline: socket.io client library missing");
    return;
  }
  // batch: task events come as `task progress batch`, many per message when they come fast.
  socket = io(P.namespace, { auth: (cb) => cb({ cursor: lastCursor, batch: true }) });
  socket.on("connect", () => {
    setConnection("connected", "connected");
    socket.emit(E.myEvent, { data: P.connectedGreeting });
    log("Connected");
    loadKinds();
    rows.forgetRecordRequests(); // those lost with the last connection are asked for again
    askForRecords();
  });
  socket.on("disconnect", (reason) => {
    if (socket.active) setConnection("reconnecting", "reconnecting…");
    else setConnection("offline", "offline (" + reason + ")");
    log("Disconnected: " + reason, "error");
  });
  socket.io.on("reconnect_attempt", (n) => setConnection("reconnecting", "reconnecting (attempt " + n + ")"));
  socket.on("connect_error", () => {
    if (!socket.active) setConnection("offline", "offline: the server refused the connection");
  });
  window.addEventListener("offline", () => setConnection("offline", "offline (no network)"));

  socket.on(E.myResponse, (msg) => log("Received: " + String(msg && msg.data)));
  function takeProgress(event) {
    if (event && typeof event.cursor === "string") lastCursor = event.cursor;
    showProgress(event);
  }
  socket.on(E.taskProgress, takeProgress);
  socket.on(E.taskProgressBatch, (batch) => {
    if (batch && Array.isArray(batch.events)) batch.events.forEach((event) => takeProgress(event));
  });
  socket.on(E.taskList, (list) => {
    if (list && typeof list.cursor === "string") lastCursor = list.cursor;
    showTaskList(list);
    $("tasks").dataset.synced = "true";
  });
  socket.on(E.systemHealth, (next) => {
    if (!next || typeof next !== "object") return;
    showHealth(next);
    if (socket.connected) setConnection("connected", "connected");
  });
  socket.on(E.protocolError, (err) => log("Server error: " + String(err && err.message), "error"));
}

$("message-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const data = messageEl.value;
  if (!data || !socket || !socket.connected) return;
  socket.emit(E.myEvent, { data });
  log("Sent: " + data, "sent");
  messageEl.value = "";
});

startEl.addEventListener("click", () => {
  log("Start a background task", "sent");
  startTask({});
});

$("clear-log").addEventListener("click", () => linesEl.replaceChildren());

// Module scripts run after the deferred socket.io client, so `io` is there if it was installed.
connect();
