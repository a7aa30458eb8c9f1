// The browser client. Names of events come from the server (shared/protocol.py), never spelled here.
// Every piece of server text is inserted with textContent: it is shown, never parsed as HTML.
"use strict";

(function () {
  const P = JSON.parse(document.getElementById("protocol").textContent);
  const E = P.events;
  const MAX_LOG_LINES = 500;
  const $ = (id) => document.getElementById(id);
  const logEl = $("log"), messageEl = $("message"), sendEl = $("send"), startEl = $("start");
  const tasks = new Map(); // task_id -> {row, bar, state, message, seq}

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

  function setConnection(state, text) {
    const el = $("connection");
    el.dataset.state = state;
    el.textContent = text;
    const online = state === "connected";
    for (const button of [sendEl, startEl]) {
      button.disabled = !online;
      button.title = online ? "" : "Not connected to the server: " + text;
    }
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
    row.append(id, bar, state, message);
    row.dataset.taskId = taskId;
    $("tasks").prepend(row);
    $("no-tasks").hidden = true;
    task = { row, bar, state, message, seq: -1 };
    tasks.set(taskId, task);
    return task;
  }

  function showProgress(event) {
    if (!event || typeof event.task_id !== "string") return;
    const task = taskRow(event.task_id);
    if (typeof event.seq === "number" && event.seq <= task.seq) return; // stale or repeated
    task.seq = event.seq;
    task.bar.value = Number(event.percent) || 0;
    task.state.textContent = String(event.state) + " " + task.bar.value + "%";
    task.message.textContent = String(event.message ?? "");
    task.row.dataset.state = String(event.state);
    if (P.finalStates.includes(event.state)) {
      log("Task " + event.task_id.slice(0, 8) + " " + event.state + ": " + String(event.message ?? ""),
          event.state === "succeeded" ? "" : "error");
    }
  }

  if (typeof io !== "function") {
    setConnection("offline", "offline: socket.io client library missing");
    return;
  }

  const socket = io(P.namespace);
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
  socket.on(E.taskProgress, showProgress);
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
