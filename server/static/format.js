// How the page words a task: times, elapsed and ETA, parameters, outcome. Pure functions, no DOM: the
// desktop app words them the same way (desktop_client/timing.py), and tests/unit/test_task_words.py runs
// both on the same cases.
"use strict";

const FINAL = ["succeeded", "failed", "cancelled"];
const MAX_OUTCOME_CHARS = 300;

export function shortId(taskId) {
  return taskId.slice(0, 8);
}

export function isFinal(state) {
  return FINAL.includes(state);
}

// Seconds as m:ss, or h:mm:ss from an hour on.
export function formatDuration(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

// A Unix time as the local time of day, HH:MM:SS.
export function formatClock(unixSeconds) {
  const t = new Date(unixSeconds * 1000);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

// The parameters as "name=value, …", in the order the kind's schema declares them.
export function paramsSummary(params, schema) {
  if (!params || typeof params !== "object" || Array.isArray(params)) return "";
  const order = Object.keys((schema && schema.properties) || {});
  const names = [...order.filter((n) => n in params), ...Object.keys(params).filter((n) => !order.includes(n))];
  return names.map((n) => `${n}=${typeof params[n] === "string" ? params[n] : JSON.stringify(params[n])}`).join(", ");
}

// A result as the rows show it: an object as "name=value, …", anything else as JSON.
export function resultText(result) {
  if (result && typeof result === "object" && !Array.isArray(result)) return paramsSummary(result, null);
  return JSON.stringify(result);
}

// Elapsed, ETA and duration of a task, in seconds (null when not known), from its latest state:
// `record` holds state, percent, ts (the server's time of the latest event), created, started and
// finished; `sinceEvent` is how long ago (on this machine's clock) that event arrived. Only differences
// of the server's own times are used, so a skewed clock does not matter. The ETA is the observed rate
// (percent done since the attempt started) carried on to 100 %.
export function timing(record, sinceEvent) {
  const start = record.started ?? null;
  const since = Math.max(0, sinceEvent || 0);
  const result = { waiting: null, elapsed: null, eta: null, duration: null };
  if (isFinal(record.state)) {
    const from = start ?? record.created;
    if (record.finished != null && from != null) result.duration = Math.max(0, record.finished - from);
  } else if (record.state === "running" && start != null) {
    const ran = Math.max(0, record.ts - start);
    result.elapsed = ran + since;
    if (record.percent > 0 && record.percent < 100 && ran > 0) {
      result.eta = Math.max(0, ((100 - record.percent) * ran) / record.percent - since);
    }
  } else if (record.state === "queued" && record.created != null) {
    result.waiting = Math.max(0, record.ts - record.created) + since;
  }
  return result;
}

// The times line of a task's row.
export function timesText(record, sinceEvent) {
  const t = timing(record, sinceEvent);
  const parts = [];
  if (record.started != null) parts.push("started " + formatClock(record.started));
  else if (record.created != null) parts.push("queued " + formatClock(record.created));
  if (t.waiting != null) parts.push("waiting " + formatDuration(t.waiting));
  if (t.elapsed != null) parts.push("elapsed " + formatDuration(t.elapsed));
  if (record.state === "running") parts.push("ETA " + (t.eta == null ? "…" : formatDuration(t.eta)));
  if (t.duration != null) parts.push((record.started != null ? "took " : "ended after ") + formatDuration(t.duration));
  return parts.join(" · ");
}

// What a row says below its bar: the result, the failure reason, or the latest message.
export function outcome(record) {
  if (record.state === "succeeded" && record.result != null) {
    return { kind: "result", text: "Result: " + clip(resultText(record.result)) };
  }
  if (record.state === "failed" && record.error && typeof record.error === "object") {
    return { kind: "failure", text: "Failed: " + clip(`${record.error.type}: ${record.error.message}`) };
  }
  return { kind: record.state === "failed" ? "failure" : "message", text: String(record.message ?? "") };
}

// Whether a client holding `record` (or null) should ask for the task's record again now that it sees
// `event`: the rule of shared/protocol.py's record_outdated.
export function recordOutdated(record, event) {
  if (!record) return true;
  if (isFinal(event.state)) return !isFinal(record.state);
  if (event.state === "running") return record.started == null || (record.attempt ?? 1) !== (event.attempt ?? 1);
  return false;
}

function clip(text) {
  return text.length <= MAX_OUTCOME_CHARS ? text : text.slice(0, MAX_OUTCOME_CHARS) + "…";
}
