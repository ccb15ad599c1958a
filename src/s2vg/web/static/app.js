// The s2vg page: upload or open a video, choose options, preview a frame, queue jobs,
// follow their progress by polling, download the results. Talks only to /api/*.
"use strict";

const $ = (id) => document.getElementById(id);
let source = null;      // the current video: {id, name, width, height, frames, ...}
let pollTimer = null;

function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error-text").textContent = "";
}

// fetch that turns a non-2xx answer into an Error carrying the server's one-line message.
async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Error(`the server did not answer (${err.message})`);
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  if (!response.ok) {
    const why = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    throw new Error(why);
  }
  return body;
}

function fillSelect(select, choices, chosen) {
  select.innerHTML = "";
  for (const choice of choices) {
    const item = typeof choice === "string" ? { name: choice, available: true } : choice;
    const option = document.createElement("option");
    option.value = item.name;
    option.textContent = item.available ? item.name : `${item.name} (${item.note})`;
    option.disabled = !item.available;
    select.appendChild(option);
  }
  select.value = chosen;
}

function options() {
  const value = (id) => $(id).value.trim();
  return {
    depth: value("depth"),
    inpainter: value("inpainter"),
    layout: value("layout"),
    divergence: value("divergence"),
    convergence: value("convergence"),
    views: value("views"),
    max_frames: value("max-frames"),
    evaluate: $("evaluate").checked,
  };
}

function setSource(info) {
  source = info;
  const where = info.origin === "root" ? "server file" : "uploaded";
  $("source-info").textContent =
    `${info.name} (${where}): ${info.width}×${info.height}, ${info.frames} frame${info.frames === 1 ? "" : "s"} at ${info.fps} fps`;
  $("source-info").dataset.source = info.id;
  $("preview-frame").max = Math.max(0, info.frames - 1);
  $("preview-btn").disabled = false;
  $("convert").disabled = false;
}

async function upload(file) {
  clearError();
  $("source-info").textContent = `Uploading ${file.name} (${(file.size / 1048576).toFixed(1)} MiB)…`;
  try {
    const info = await api(`/api/upload?name=${encodeURIComponent(file.name)}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: file,
    });
    setSource(info);
  } catch (err) {
    $("source-info").textContent = source ? `Still using ${source.name}.` : "No video yet.";
    showError(`Upload refused: ${err.message}`);
  } finally {
    $("file").value = "";
  }
}

async function openPath(path) {
  clearError();
  try {
    setSource(await api("/api/open", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path }),
    }));
  } catch (err) {
    showError(`Cannot open ${path}: ${err.message}`);
  }
}

async function browse(path) {
  clearError();
  try {
    const listing = await api(`/api/browse?path=${encodeURIComponent(path)}`);
    const list = $("browser");
    list.innerHTML = "";
    const entries = listing.path ? [{ name: "..", dir: true }, ...listing.entries] : listing.entries;
    for (const entry of entries) {
      const item = document.createElement("li");
      const target = entry.name === ".." ? listing.path.split("/").slice(0, -1).join("/")
        : (listing.path ? `${listing.path}/${entry.name}` : entry.name);
      item.textContent = entry.dir ? `${entry.name}/` : entry.name;
      item.onclick = () => {
        $("path").value = target;
        if (entry.dir) browse(target); else openPath(target);
      };
      list.appendChild(item);
    }
  } catch (err) {
    showError(`Cannot list ${path || "the served folder"}: ${err.message}`);
  }
}

async function preview() {
  if (!source) return;
  clearError();
  $("preview-btn").disabled = true;
  $("preview-status").textContent = "Converting one frame…";
  try {
    const result = await api("/api/preview", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ source: source.id, frame: $("preview-frame").value, options: options() }),
    });
    $("preview-sbs").src = result.images.sbs;
    $("preview-anaglyph").src = result.images.anaglyph;
    $("preview-status").textContent = `Frame ${result.frame}`;
  } catch (err) {
    $("preview-status").textContent = "";
    showError(`Preview failed: ${err.message}`);
  } finally {
    $("preview-btn").disabled = false;
  }
}

async function convert() {
  if (!source) return;
  clearError();
  try {
    await api("/api/jobs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ source: source.id, options: options() }),
    });
    await refreshJobs();
  } catch (err) {
    showError(`Not queued: ${err.message}`);
  }
}

function formatSeconds(s) {
  if (s === null || s === undefined) return "…";
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function jobRow(job) {
  const row = document.createElement("tr");
  row.id = `job-${job.id}`;
  row.dataset.status = job.status;
  const p = job.progress;
  const cell = (content) => { const td = document.createElement("td"); td.append(...content); row.appendChild(td); return td; };
  cell([job.name]);
  cell([job.options.layout]);
  const status = document.createElement("span");
  status.className = `status-${job.status} job-status`;
  status.textContent = job.status;
  const statusCell = cell([status]);
  if (job.error) {
    const why = document.createElement("div");
    why.className = "job-error";
    why.textContent = job.error;
    statusCell.appendChild(why);
  }
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = p.percent;
  const label = document.createElement("span");
  label.className = "job-percent";
  label.textContent = ` ${Math.round(p.percent)} %`;
  const stage = document.createElement("div");
  stage.className = "hint job-stage";
  if (job.status === "running" && p.stage) {
    stage.textContent = p.total ? `${p.stage}: ${p.count}/${p.total} frames` : p.stage;
  } else if (job.status === "done") {
    stage.textContent = `done in ${formatSeconds(p.elapsed_s)}`;
  }
  cell([bar, label, stage]);
  cell([job.status === "running" ? formatSeconds(p.eta_s) : ""]);
  const files = [];
  for (const file of [...job.outputs, ...job.extras]) {
    const link = document.createElement("a");
    link.href = `/api/jobs/${job.id}/files/${file.index}`;
    link.textContent = file.name;
    link.className = job.extras.includes(file) ? "extra" : "download";
    link.setAttribute("download", file.name);
    files.push(link);
  }
  for (const file of job.extras.filter((f) => f.name.endsWith(".png"))) {
    const figure = document.createElement("img");
    figure.src = `/api/jobs/${job.id}/files/${file.index}`;
    figure.alt = file.name;
    figure.className = "report";
    files.push(figure);
  }
  if (job.status === "queued") {
    const cancel = document.createElement("button");
    cancel.className = "secondary";
    cancel.textContent = "Cancel";
    cancel.onclick = async () => {
      try { await api(`/api/jobs/${job.id}`, { method: "DELETE" }); } catch (err) { showError(err.message); }
      refreshJobs();
    };
    files.push(cancel);
  }
  for (const note of job.notes) {
    const n = document.createElement("div");
    n.className = "hint";
    n.textContent = note;
    files.push(n);
  }
  cell(files);
  return row;
}

async function refreshJobs() {
  let listing;
  try {
    listing = await api("/api/jobs");
  } catch (err) {
    showError(`Lost the server: ${err.message}`);
    return;
  }
  const body = $("jobs").querySelector("tbody");
  body.replaceChildren(...listing.jobs.slice().reverse().map(jobRow));
  const active = listing.jobs.some((j) => j.status === "queued" || j.status === "running");
  clearTimeout(pollTimer);
  if (active) pollTimer = setTimeout(refreshJobs, 500);
}

async function start() {
  $("error-close").onclick = clearError;
  $("file").addEventListener("change", (event) => {
    if (event.target.files.length) upload(event.target.files[0]);
  });
  $("open-path").onclick = () => openPath($("path").value);
  $("path").addEventListener("keydown", (event) => { if (event.key === "Enter") openPath($("path").value); });
  $("browse-btn").onclick = () => browse($("path").value.includes(".") ? "" : $("path").value);
  $("preview-btn").onclick = preview;
  $("convert").onclick = convert;
  try {
    const choices = await api("/api/options");
    fillSelect($("depth"), choices.depth, choices.defaults.depth);
    fillSelect($("inpainter"), choices.inpainter, choices.defaults.inpainter);
    fillSelect($("layout"), choices.layout, choices.defaults.layout);
    $("divergence").value = choices.defaults.divergence;
    $("upload-limit").textContent = `Up to ${choices.max_upload_mb} MiB; the content must be a video or image.`;
    $("picker").hidden = !choices.root;
    $("evaluate-label").hidden = !choices.features.eval_report;
    document.body.dataset.ready = "1";
  } catch (err) {
    showError(`Cannot load the options: ${err.message}`);
  }
  refreshJobs();
}

document.addEventListener("DOMContentLoaded", start);
