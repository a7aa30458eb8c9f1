// The browser client. Names of events come from the server (shared/protocol.py), never spelled here.
// Every piece of server text is inserted with textContent: it is shown, never parsed as HTML.
"use strict";

(function () {
  const P = JSON.parse(document.getElementById("protocol").textContent);
  const E = P.events;
  const MAX_LOG_LINES = 500;
  const $ = (id) => document.getElementById(id);
  const logEl = $("log"), messageEl = $("message"), sendEl = $("send"), startEl = $("start");
  const tasks = new Map(); // task_id -> {row, bar, state, message, cancel, seq}
  let lastCursor = null; // sent on every (re)connect: the server replays what came after it

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
    logEl.append(line);
    while (logEl.childElementCount > MAX_LOG_LINES) logEl.firstElementChild.remove();
    if (atBottom) logEl.scrollTop = logEl.scrollHeight;
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

  function taskRow(taskId) {
    let task = tasks.get(taskId);
    if (task) return task;
    const row = document.createElement("li");
    const id = document.createElement("span");
    id.className = "task-id";
    id.textContent = taskId.slice(0, 8);
    id.title = taskId;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Task " + taskId.slice(0, 8) + " progress");
    const state = document.createElement("span");
    state.className = "task-state";
    const message = document.createElement("span");
    message.className = "task-message";
    const actions = document.createElement("span");
    actions.className = "task-actions";
    const cancel = button("Cancel", "Cancel task " + taskId.slice(0, 8), () => cancelTask(taskId));
    cancel.className = "cancel";
    const history = button("History", "Show every event of task " + taskId.slice(0, 8),
                           () => showHistory(taskId));
    history.className = "link";
    actions.append(cancel, history);
    row.append(id, bar, state, actions, message);
    row.dataset.taskId = taskId;
    $("tasks").prepend(row);
    $("no-tasks").hidden = true;
    task = { row, bar, state, message, cancel, seq: -1 };
    tasks.set(taskId, task);
    return task;
  }

  function button(text, label, onClick) {
    const el = document.createElement("button");
    el.type = "button";
    el.textContent = text;
    el.setAttribute("aria-label", label);
    el.addEventListener("click", onClick);
    return el;
  }

  function cancelTask(taskId) {
    socket.timeout(10000).emit(E.cancelTask, { task_id: taskId }, (timeoutError, reply) => {
      if (timeoutError) log("The server did not answer the cancel request", "error");
      else if (reply && reply.ok) log("Cancel requested for task " + taskId.slice(0, 8));
    });
  }

  function showHistory(taskId) {
    socket.timeout(10000).emit(E.taskHistory, { task_id: taskId }, (timeoutError, reply) => {
      if (timeoutError || !reply || !Array.isArray(reply.events)) return;
      log("History of task " + taskId.slice(0, 8) + " (" + reply.events.length + " events):");
      for (const e of reply.events) {
        log("  #" + e.seq + " " + e.state + " " + e.percent + "% " + String(e.message ?? ""));
        showProgress(e, { quiet: true });
      }
    });
  }

  function showProgress(event, { quiet = false } = {}) {
    if (!event || typeof event.task_id !== "string") return;
    const task = taskRow(event.task_id);
    if (typeof event.seq === "number" && event.seq <= task.seq) return; // stale or repeated
    task.seq = event.seq;
    task.bar.value = Number(event.percent) || 0;
    task.state.textContent = String(event.state) + " " + task.bar.value + "%";
    task.message.textContent = String(event.message ?? "");
    task.row.dataset.state = String(event.state);
    const final = P.finalStates.includes(event.state);
    task.cancel.hidden = final;
    if (final && !quiet) {
      log("Task " + event.task_id.slice(0, 8) + " " + event.state + ": " + String(event.message ?? ""),
          event.state === "succeeded" ? "" : "error");
    }
  }

  function showTaskList(list) {
    if (!list || !Array.isArray(list.tasks)) return;
    // Newest first from the server; rows are prepended, so add the oldest first.
    for (const event of [...list.tasks].reverse()) showProgress(event, { quiet: true });
    if (list.reset) log("Some events were too old to replay: showing the latest state of recent tasks", "error");
    else if (list.tasks.length) log("Loaded " + list.tasks.length + " recent tasks");
  }

  if (typeof io !== "function") {
    setConnection("offline", "offline: socket.io client library missing");
    return;
  }

  // batch: task events come as `task progress batch`, many per message when they come fast.
  const socket = io(P.namespace, { auth: (cb) => cb({ cursor: lastCursor, batch: true }) });
  socket.on("connect", () => {
    setConnection("connected", "connected");
    socket.emit(E.myEvent, { data: P.connectedGreeting });
    log("Connected");
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

  $("message-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = messageEl.value;
    if (!data || !socket.connected) return;
    socket.emit(E.myEvent, { data });
    log("Sent: " + data, "sent");
    messageEl.value = "";
  });

  startEl.addEventListener("click", () => {
    socket.timeout(10000).emit(E.startTask, {}, (timeoutError, reply) => {
      if (timeoutError) log("The server did not answer the start request", "error");
      else if (reply && reply.task_id) {
        taskRow(reply.task_id);
        log("Started task " + reply.task_id.slice(0, 8));
      }
    });
  });

  $("clear-log").addEventListener("click", () => logEl.replaceChildren());
})();
