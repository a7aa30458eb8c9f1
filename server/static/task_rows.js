// The task list: one row per task, newest first, with its kind and parameters, a state badge, a bar in
// the state's colour, its times (elapsed and ETA while it runs), its result or failure reason, and Copy
// id, Cancel and History (a panel of its own). Rows are filtered by state and searched by id or kind.
// Server text is always set with textContent.
"use strict";

import { formatClock, isFinal, outcome, paramsSummary, recordOutdated, shortId, timesText } from "./format.js";

export class TaskRows {
  constructor({ list, empty, noMatch, stateFilter, search, actions }) {
    Object.assign(this, { list, empty, noMatch, stateFilter, search, actions });
    this.tasks = new Map(); // task_id -> task (see row())
    this.kinds = new Map(); // name -> kind, for titles and the order of parameters
    stateFilter.addEventListener("change", () => this.filter());
    search.addEventListener("input", () => this.filter());
    setInterval(() => this.tick(), 1000);
  }

  setKinds(kinds) {
    this.kinds = new Map(kinds.map((kind) => [kind.name, kind]));
    for (const task of this.tasks.values()) this.render(task);
  }

  has(taskId) {
    return this.tasks.has(taskId);
  }

  // Show a `task progress` event (or a list entry); return false if it was stale or repeated.
  show(event) {
    if (!event || typeof event.task_id !== "string") return false;
    const task = this.row(event.task_id);
    if (typeof event.seq === "number" && event.seq <= task.seq) return false;
    task.seq = event.seq;
    task.latest = event;
    task.receivedAt = performance.now();
    if (event.kind !== undefined) this.takeRecord(task, event);
    this.render(task);
    if (task.history) this.historyEvent(task, event);
    return true;
  }

  // Take the record of a `task records` or `task list` entry: its kind, params, times, result or error.
  // Only the record: a task's state moves on through its events alone.
  takeRecord(task, record) {
    if (task.record && task.record.seq > record.seq) return;
    task.record = record;
    this.render(task);
  }

  applyRecord(record) {
    const task = record && typeof record.task_id === "string" && this.tasks.get(record.task_id);
    if (task) this.takeRecord(task, record);
  }

  // The tasks whose record is missing or has moved on, each asked for once per change of its life.
  outdated() {
    const ids = [];
    for (const [taskId, task] of this.tasks) {
      if (!task.latest || !recordOutdated(task.record, task.latest)) continue;
      const key = `${task.latest.state}:${task.latest.attempt}`;
      if (task.recordAsked === key) continue;
      task.recordAsked = key;
      ids.push(taskId);
    }
    return ids;
  }

  forgetRecordRequests() {
    for (const task of this.tasks.values()) task.recordAsked = null;
  }

  row(taskId) {
    let task = this.tasks.get(taskId);
    if (task) return task;
    const row = element("li");
    row.dataset.taskId = taskId;
    const short = shortId(taskId);
    const head = element("div", "task-head");
    const kind = element("span", "task-kind", "Task");
    const params = element("span", "task-params");
    const id = element("code", "task-id", short);
    id.title = taskId;
    head.append(kind, params, id);
    const progress = element("div", "task-progress");
    const bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Task " + short + " progress");
    const percent = element("span", "task-percent", "0%");
    progress.append(bar, percent);
    const state = element("span", "task-state", "starting");
    const times = element("div", "task-times");
    const message = element("p", "task-message");
    const actions = element("div", "task-actions");
    // Accessible names start with the visible text (WCAG 2.5.3), then say which task.
    const copy = button("Copy id", "Copy id of task " + short, () => this.actions.copyId(taskId));
    const cancel = button("Cancel", "Cancel task " + short, () => this.actions.cancel(taskId));
    cancel.className = "cancel";
    const history = button("History", "History: show every event of task " + short,
                           () => this.actions.toggleHistory(task));
    history.className = "history-button";
    history.setAttribute("aria-expanded", "false");
    history.setAttribute("aria-controls", "history-" + taskId);
    actions.append(copy, cancel, history);
    row.append(head, progress, state, actions, times, message);
    this.list.prepend(row); // newest first
    this.empty.hidden = true;
    task = { taskId, row, kind, params, bar, percent, state, times, message, cancel, historyButton: history,
             seq: -1, latest: null, record: null, receivedAt: 0, recordAsked: null, history: null };
    this.tasks.set(taskId, task);
    this.filterRow(task);
    return task;
  }

  render(task) {
    const latest = task.latest;
    // The latest event's progress, with the record's kind, params, times, result and error.
    const record = { ...(task.record || {}), ...(latest || {}) };
    const kind = this.kinds.get(record.kind);
    task.kind.textContent = kind ? String(kind.title || kind.name) : record.kind ? String(record.kind) : "Task";
    task.params.textContent = paramsSummary(record.params, kind && kind.params);
    task.params.title = task.params.textContent;
    if (!latest) return;
    const state = String(latest.state);
    task.row.dataset.state = state;
    task.row.dataset.kind = record.kind ? String(record.kind) : "";
    task.bar.value = Number(latest.percent) || 0;
    task.percent.textContent = task.bar.value + "%";
    task.state.textContent = state;
    const said = outcome(record);
    task.message.textContent = said.text;
    task.message.className = "task-message " + said.kind;
    task.cancel.hidden = isFinal(state);
    this.renderTimes(task);
    this.filterRow(task);
  }

  renderTimes(task) {
    if (!task.latest) return;
    const record = { ...(task.record || {}), ...task.latest };
    task.times.textContent = timesText(record, (performance.now() - task.receivedAt) / 1000);
  }

  tick() {
    for (const task of this.tasks.values()) {
      if (task.latest && !isFinal(task.latest.state)) this.renderTimes(task);
    }
  }

  filter() {
    for (const task of this.tasks.values()) this.filterRow(task);
  }

  filterRow(task) {
    const wanted = this.stateFilter.value;
    const query = this.search.value.trim().toLowerCase();
    const state = task.latest ? String(task.latest.state) : "";
    const kindName = (task.record && task.record.kind) || "";
    const kind = this.kinds.get(kindName);
    const words = [task.taskId, kindName, kind ? String(kind.title || "") : ""].join(" ").toLowerCase();
    task.row.hidden = Boolean((wanted && state !== wanted) || (query && !words.includes(query)));
    if (!this.countPending) { // once per frame, however many rows changed
      this.countPending = true;
      requestAnimationFrame(() => {
        this.countPending = false;
        const shown = [...this.tasks.values()].some((t) => !t.row.hidden);
        this.noMatch.hidden = shown || this.tasks.size === 0;
      });
    }
  }

  // The history panel of a task: every event in a table, kept up to date while open.
  openHistory(task, events) {
    const short = shortId(task.taskId);
    const panel = element("section", "task-history");
    panel.id = "history-" + task.taskId;
    panel.setAttribute("aria-label", "History of task " + short);
    const heading = element("h3", null, `History of task ${short} (${events.length} events)`);
    const table = element("table");
    const columns = element("colgroup");
    for (const name of ["seq", "time", "state", "percent", "message"]) columns.append(element("col", name));
    const head = element("thead");
    const titles = element("tr");
    for (const title of ["#", "Time", "State", "%", "Message"]) {
      const th = element("th", null, title);
      th.scope = "col";
      titles.append(th);
    }
    head.append(titles);
    const body = element("tbody");
    table.append(columns, head, body);
    const close = button("Close", "Close history of task " + short, () => {
      this.closeHistory(task);
      task.historyButton.focus();
    });
    close.className = "link";
    panel.append(heading, table, close);
    this.closeHistory(task);
    task.history = { panel, heading, body, count: 0, lastSeq: 0 };
    for (const event of events) this.historyEvent(task, event);
    task.row.append(panel);
    task.historyButton.setAttribute("aria-expanded", "true");
  }

  historyEvent(task, event) {
    const history = task.history;
    if (!history || typeof event.seq !== "number" || event.seq <= history.lastSeq) return;
    history.lastSeq = event.seq;
    history.count += 1;
    const row = element("tr");
    row.dataset.seq = String(event.seq);
    for (const text of [String(event.seq), formatClock(Number(event.ts)), String(event.state), String(event.percent),
                        String(event.message ?? "")]) {
      row.append(element("td", null, text));
    }
    history.body.append(row);
    history.heading.textContent = `History of task ${shortId(task.taskId)} (${history.count} events)`;
  }

  closeHistory(task) {
    if (!task.history) return;
    task.history.panel.remove();
    task.history = null;
    task.historyButton.setAttribute("aria-expanded", "false");
  }
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(text, label, onClick) {
  const el = document.createElement("button");
  el.type = "button";
  el.textContent = text;
  el.setAttribute("aria-label", label);
  el.addEventListener("click", onClick);
  return el;
}
