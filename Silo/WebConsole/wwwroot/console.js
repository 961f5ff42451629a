// The Floodgate console: polls the silo's HTTP API (/api/...) once a second and renders limiters, one batch, the batch
// list and breakers. The browser sends the key it was asked for when it opened /console (Basic, the key as the password)
// with every call. No build step: plain JavaScript and SVG.
"use strict";

const PollMs = 1000;
const HistoryLength = 120; // samples kept per chart: two minutes at one a second
const LatestShown = 10;
const PageSize = 20;

const state = {
  role: "open",
  history: new Map(),       // limiter name -> [{inUse, limit, grantsPerSecond}]
  lastGrants: new Map(),    // limiter name -> {grants, at}
  batch: null,              // {id, progress, history: [...], outcomes: {latest, errors, count}, stream: AbortController}
  listPage: null,           // the cursor of the batch list page shown (null: the first page; then the API's next)
  listPrevious: [],         // pages before it, for "previous"
  editing: new Set(),       // limiters whose limit field has focus: not re-rendered under the user's typing
};

const $ = (id) => document.getElementById(id);

function escape(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" }, ...options });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      message = (problem.errors && problem.errors.join(" ")) || problem.detail || problem.title || message;
    } catch { /* not problem+json */ }
    throw new ApiError(response.status, message);
  }
  return response.json();
}

// ISO 8601 durations as the API writes them (PT1M30.5S, P1DT2H) -> seconds.
function seconds(duration) {
  if (!duration) return null;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(duration);
  if (!m) return null;
  return (+m[1] || 0) * 86400 + (+m[2] || 0) * 3600 + (+m[3] || 0) * 60 + (+m[4] || 0);
}

function humanSeconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function ago(timestamp) {
  if (!timestamp) return "–";
  return `${humanSeconds(Math.max(0, (Date.now() - Date.parse(timestamp)) / 1000))} ago`;
}

function figure(label, value, testid, extra = "") {
  return `<div><b${testid ? ` data-testid="${testid}"` : ""}${extra}>${escape(value)}</b><span>${escape(label)}</span></div>`;
}

// A line chart of several series over the last HistoryLength samples, scaled to the largest value shown.
function chart(series, label) {
  const width = 300, height = 60;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const span = Math.max(30, ...series.map((s) => s.values.length)); // a short history fills the chart from 30 samples on
  const lines = series.map((s) => {
    const offset = span - s.values.length;
    const points = s.values.map((v, i) => `${(((offset + i) / (span - 1)) * width).toFixed(1)},${(height - 2 - (v / max) * (height - 6)).toFixed(1)}`);
    return points.length > 1
      ? `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" ${s.dashed ? 'stroke-dasharray="4 3"' : ""} points="${points.join(" ")}"/>`
      : "";
  }).join("");
  const legend = series.map((s) => `<i style="background:${s.color}"></i>${escape(s.label)}`).join("");
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${escape(label)}">${lines}</svg>
    <div class="legend">${legend} <span>(max ${max.toFixed(max < 10 ? 1 : 0)}, last ${span} s)</span></div>`;
}

function push(list, value) {
  list.push(value);
  if (list.length > HistoryLength) list.shift();
}

// ---------------------------------------------------------------------------------------------------------- limiters

function record(status) {
  const now = Date.now();
  const last = state.lastGrants.get(status.name);
  const perSecond = last && now > last.at ? Math.max(0, (status.grants - last.grants) * 1000 / (now - last.at)) : 0;
  state.lastGrants.set(status.name, { grants: status.grants, at: now });
  if (!state.history.has(status.name)) state.history.set(status.name, []);
  push(state.history.get(status.name), { inUse: status.inUse, limit: status.maxConcurrency, grantsPerSecond: perSecond });
}

function limiterCard(status) {
  const history = state.history.get(status.name) || [];
  const name = escape(status.name);
  const rate = status.rateBudget != null ? `${status.rateAvailable} / ${status.rateBudget}` : "no budget";
  const holders = status.holders.length
    ? status.holders.map((h) => `<li><code>${escape(h.holder)}</code>: ${h.permits} permit(s), ${h.leases} lease(s), oldest ${humanSeconds(seconds(h.oldestLeaseAge))}</li>`).join("")
    : `<li class="muted">none</li>`;
  const waiters = status.waiters.length
    ? status.waiters.map((w) => `<li>#${w.position} <code>${escape(w.holder)}</code> ×${w.weight}</li>`).join("")
    : `<li class="muted">none</li>`;
  const admin = state.role === "admin"
    ? `<form class="row set-limit" data-limiter="${name}">
         <label>Limit <input type="number" min="1" name="max" value="${status.maxConcurrency}" style="width:6rem"></label>
         <button type="submit">Set limit</button></form>`
    : "";
  return `<div class="card" data-testid="limiter" data-limiter="${name}">
    <h3>${name}</h3>
    <div class="figures">
      ${figure(`limit (${status.limitSource})`, status.maxConcurrency, "limiter-limit")}
      ${figure("in use", status.inUse, "limiter-in-use")}
      ${figure("waiting", status.waiting, "limiter-waiting")}
      ${figure("rate left", rate, "limiter-rate")}
      ${figure("grants", status.grants)}
      ${figure("timeouts", status.timeouts)}
    </div>
    ${chart([
      { label: "in use", color: "#2458c6", values: history.map((h) => h.inUse) },
      { label: "limit", color: "#c2410c", dashed: true, values: history.map((h) => h.limit) },
    ], `in use and limit of ${status.name}`)}
    ${chart([{ label: "grants/s", color: "#15803d", values: history.map((h) => h.grantsPerSecond) }], `grants per second of ${status.name}`)}
    <div class="list">Holders<ul>${holders}</ul></div>
    <div class="list">Waiters, in grant order<ul>${waiters}</ul></div>
    ${admin}
  </div>`;
}

async function refreshLimiters() {
  const { names } = await api("/api/limiters");
  const statuses = await Promise.all(names.map((n) => api(`/api/limiters/${encodeURIComponent(n)}`)));
  statuses.forEach(record);
  const host = $("limiters");
  if (host.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return; // the user is typing a limit
  host.innerHTML = statuses.length
    ? `<div class="cards">${statuses.map(limiterCard).join("")}</div>`
    : `<p class="muted">No limiter has been used yet.</p>`;
}

async function setLimit(form) {
  const name = form.dataset.limiter;
  const max = Number(form.elements.max.value);
  const current = await api(`/api/limiters/${encodeURIComponent(name)}`);
  // A change replaces the limits in force: keep the rate budget as it is.
  const body = { maxConcurrency: max };
  if (current.requestsPerMinute != null) {
    body.requestsPerMinute = current.requestsPerMinute;
    body.rateSafetyFactor = current.rateSafetyFactor;
  }
  await api(`/api/limiters/${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  form.elements.max.blur();
}

// ----------------------------------------------------------------------------------------------------------- batches

function openBatch(id) {
  if (state.batch && state.batch.id === id) return;
  if (state.batch && state.batch.stream) state.batch.stream.abort();
  state.batch = id ? { id, progress: null, history: [], lastDone: null, outcomes: { latest: [], errors: [], count: 0 }, stream: null } : null;
  $("batch-id").value = id || "";
  if (id) readOutcomes(state.batch);
}

// Outcomes arrive in input order as the completed prefix grows (NDJSON, streamed); keep the latest and the failures.
async function readOutcomes(batch) {
  batch.stream = new AbortController();
  try {
    const response = await fetch(`/api/batches/${encodeURIComponent(batch.id)}/results`, { credentials: "same-origin", signal: batch.stream.signal });
    if (!response.ok) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const outcome = JSON.parse(line);
        batch.outcomes.count++;
        batch.outcomes.latest.push(outcome);
        if (batch.outcomes.latest.length > LatestShown) batch.outcomes.latest.shift();
        if (outcome.status === "failed") {
          batch.outcomes.errors.push(outcome);
          if (batch.outcomes.errors.length > LatestShown) batch.outcomes.errors.shift();
        }
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") batch.outcomes.problem = e.message;
  }
}

function outcomeLine(o) {
  const text = o.status === "failed" ? o.error : o.status === "succeeded" ? o.result : o.status;
  const shown = String(text ?? "").length > 120 ? `${String(text).slice(0, 120)}…` : text;
  return `<li><b>#${o.position}</b> <span class="${escape(o.status)}">${escape(o.status)}</span> <code>${escape(shown)}</code> <span class="muted">(${o.attempts} attempt(s))</span></li>`;
}

function batchCard(batch) {
  const p = batch.progress;
  const done = p.succeeded + p.failed + p.cancelled;
  const percent = p.total ? Math.round((done / p.total) * 100) : 100;
  const cancel = state.role === "admin" && (p.state === "running")
    ? `<button class="danger" id="cancel-batch" type="button">Cancel batch</button>` : "";
  const latest = batch.outcomes.latest.length ? batch.outcomes.latest.map(outcomeLine).join("") : `<li class="muted">none yet</li>`;
  const errors = batch.outcomes.errors.length ? batch.outcomes.errors.map(outcomeLine).join("") : `<li class="muted">none</li>`;
  return `<div class="card" data-testid="batch-card" data-batch="${escape(p.batchId)}">
    <h3>Batch ${escape(p.batchId)} <span class="badge" data-testid="batch-state">${escape(p.state)}</span></h3>
    <div class="bar"><div style="width:${percent}%"></div></div>
    <div class="figures">
      ${figure("done / total", `${done} / ${p.total}`, "batch-progress")}
      ${figure("in flight", p.inFlight)}
      ${figure("succeeded", p.succeeded)}
      ${figure("failed", p.failed, "batch-failed")}
      ${figure("cancelled", p.cancelled)}
      ${figure("items/s", p.itemsPerSecond.toFixed(1), "batch-rate")}
      ${figure("ETA", p.state === "running" ? humanSeconds(seconds(p.eta)) : "–")}
      ${figure("local limit", `${p.effectiveLocalLimit} / ${p.localLimit}`)}
      ${figure("retries", p.retries)}
      ${figure("429s", p.rateLimitHits)}
    </div>
    <p class="muted">limiter <code>${escape(p.limiter)}</code> · submitted ${ago(p.submittedAt)} · p95 ${humanSeconds(seconds(p.p95Latency))}
      ${p.warnings.length ? ` · ${p.warnings.map(escape).join(" · ")}` : ""}</p>
    ${chart([{ label: "items/s", color: "#15803d", values: batch.history }], `throughput of batch ${p.batchId}`)}
    <div class="list">Latest outcomes of the completed prefix (${batch.outcomes.count} read)<ul>${latest}</ul></div>
    <div class="list">Latest failures<ul>${errors}</ul></div>
    ${batch.outcomes.problem ? `<p class="problem">${escape(batch.outcomes.problem)}</p>` : ""}
    ${cancel}
  </div>`;
}

async function refreshBatch() {
  const host = $("batch");
  const batch = state.batch;
  if (!batch) { host.innerHTML = ""; return; }
  try {
    const progress = await api(`/api/batches/${encodeURIComponent(batch.id)}`);
    if (state.batch !== batch) return;
    const done = progress.succeeded + progress.failed + progress.cancelled;
    const now = Date.now();
    if (batch.lastDone) push(batch.history, Math.max(0, (done - batch.lastDone.done) * 1000 / Math.max(1, now - batch.lastDone.at)));
    batch.lastDone = { done, at: now };
    batch.progress = progress;
    host.innerHTML = batchCard(batch);
  } catch (e) {
    host.innerHTML = `<p class="problem" data-testid="batch-problem">${escape(e.status === 404 ? `No batch '${batch.id}'.` : e.message)}</p>`;
  }
}

// GET /api/batches?state=&limit=&after= -> {batches: [{batchId, state, total, succeeded, failed, cancelled, ...}], next}
// (newest first; "next" is the cursor of the following page). A silo without that endpoint answers 404 or 405.
async function refreshBatchList() {
  const host = $("batch-list");
  const filter = $("batch-state").value;
  const query = new URLSearchParams({ limit: String(PageSize) });
  if (state.listPage != null) query.set("after", String(state.listPage));
  if (filter) query.set("state", filter);
  let page;
  try {
    page = await api(`/api/batches?${query}`);
  } catch (e) {
    host.innerHTML = e.status === 404 || e.status === 405
      ? `<p class="muted" data-testid="batch-list-unavailable">Batch list unavailable on this silo: open a batch by its id.</p>`
      : `<p class="problem">${escape(e.message)}</p>`;
    return;
  }
  const rows = (page.batches || []).map((b) => {
    const done = b.done ?? (b.succeeded + b.failed + b.cancelled);
    return `<tr data-batch="${escape(b.batchId)}"><td><a href="#batch=${encodeURIComponent(b.batchId)}">${escape(b.batchId)}</a></td>
      <td>${escape(b.state)}</td><td>${done} / ${b.total}</td><td>${b.failed ?? "–"}</td>
      <td>${b.itemsPerSecond != null ? b.itemsPerSecond.toFixed(1) : "–"}</td><td>${b.eta ? humanSeconds(seconds(b.eta)) : "–"}</td></tr>`;
  }).join("");
  const pager = `<div class="row">
      ${state.listPrevious.length ? `<button type="button" id="page-prev">← previous</button>` : ""}
      <span class="muted">page ${state.listPrevious.length + 1}</span>
      ${page.next != null ? `<button type="button" id="page-next" data-page="${escape(page.next)}">next →</button>` : ""}</div>`;
  host.innerHTML = rows
    ? `<table><thead><tr><th>batch</th><th>state</th><th>progress</th><th>failed</th><th>items/s</th><th>ETA</th></tr></thead><tbody>${rows}</tbody></table>${pager}`
    : `<p class="muted">No batches${filter ? ` in state ${escape(filter)}` : ""}.</p>`;
}

// ---------------------------------------------------------------------------------------------------------- breakers

async function refreshBreakers() {
  const { names } = await api("/api/breakers");
  const statuses = await Promise.all(names.map((n) => api(`/api/breakers/${encodeURIComponent(n)}`)));
  $("breakers").innerHTML = statuses.length
    ? `<table><thead><tr><th>breaker</th><th>state</th><th>since</th><th>failures in a row</th><th>trips</th><th>rejections</th><th>open until</th></tr></thead><tbody>
      ${statuses.map((b) => `<tr data-testid="breaker" data-breaker="${escape(b.name)}"><td><code>${escape(b.name)}</code></td>
        <td class="state-${escape(b.state)}">${escape(b.state)}</td><td title="${escape(b.stateSince)}">${ago(b.stateSince)}</td>
        <td>${b.consecutiveFailures} / ${b.failureThreshold}</td><td>${b.trips}</td><td>${b.rejections}</td>
        <td>${b.openUntil ? escape(new Date(b.openUntil).toLocaleTimeString()) : "–"}</td></tr>`).join("")}
      </tbody></table>`
    : `<p class="muted">No breaker has been used yet.</p>`;
}

// -------------------------------------------------------------------------------------------------------------- loop

function batchFromHash() {
  const match = /(?:^|[#&])batch=([^&]+)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function tick() {
  const results = await Promise.allSettled([refreshLimiters(), refreshBatch(), refreshBatchList(), refreshBreakers()]);
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  $("problem").hidden = failed.length === 0;
  $("problem").textContent = [...new Set(failed)].join(" ");
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  setTimeout(tick, PollMs);
}

async function start() {
  try {
    state.role = (await api("/console/session")).role;
  } catch { /* shown by the first tick */ }
  $("role").textContent = state.role === "open" ? "no keys configured" : `${state.role} key`;
  $("role").classList.toggle("admin", state.role === "admin");

  $("open-batch").addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `batch=${encodeURIComponent($("batch-id").value.trim())}`;
  });
  $("batch-state").addEventListener("change", () => { state.listPage = null; state.listPrevious = []; refreshBatchList(); });
  window.addEventListener("hashchange", () => { openBatch(batchFromHash()); refreshBatch(); });
  document.addEventListener("click", async (e) => {
    if (e.target.id === "page-next") { state.listPrevious.push(state.listPage); state.listPage = e.target.dataset.page; refreshBatchList(); }
    if (e.target.id === "page-prev") { state.listPage = state.listPrevious.pop() ?? null; refreshBatchList(); }
    if (e.target.id === "cancel-batch" && state.batch && confirm(`Cancel batch ${state.batch.id}?`)) {
      try { await api(`/api/batches/${encodeURIComponent(state.batch.id)}`, { method: "DELETE" }); }
      catch (err) { alert(err.message); }
      refreshBatch();
    }
  });
  document.addEventListener("submit", async (e) => {
    if (!e.target.classList.contains("set-limit")) return;
    e.preventDefault();
    try { await setLimit(e.target); } catch (err) { alert(err.message); }
    refreshLimiters();
  });

  openBatch(batchFromHash());
  tick();
}

start();
