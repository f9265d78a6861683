// AICC Simulator web console: plain ES module, no build step, talks only to this origin.
// Data comes from the live stream (/__admin/stream, server-sent events read with fetch so
// that the admin token can go in a header) and the admin API.
import { api, ApiError, authHeaders, ensureToken } from "./api.js";
import { buildChat, conversationKey, messagesOf, verdictClass } from "./model.js";

const $ = (id) => document.getElementById(id);
const MAX_ENTRIES = 5000;

/** h("div", {class: "x"}, "text", child) - a DOM element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    tag === "svg" || attrs.svg ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml",
    tag,
  );
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "svg" || value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
const s = (tag, attrs = {}, ...children) => h(tag, { ...attrs, svg: true }, ...children);
/** Replace container's children, keeping the keyboard focus on the element that has the same
 * ``attr`` value as the focused one had (live updates must not throw a keyboard user out). */
function replaceKeepingFocus(container, attr, children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute(attr) : null;
  container.replaceChildren(...children);
  if (key !== null) {
    const again = container.querySelector(`[${attr}="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

/** Replace el's children (null, undefined and false are left out, arrays flattened). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

// ---------------------------------------------------------------------------------------
// state fed by the stream

const state = {
  instance: null,
  cursor: null,
  requests: new Map(), // seq -> entry
  deliveries: new Map(),
  sessions: [],
  sessionsTotal: 0,
  runs: [],
  config: null,
  selected: null, // conversation key "channel/user"
  view: "conversations",
};

function trim(map) {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value);
}

function onEvent(name, data, id) {
  if (id) state.cursor = id;
  if (name === "hello") state.instance = data.instance;
  else if (name === "reset") {
    state.requests.clear();
    state.deliveries.clear();
  } else if (name === "request") {
    state.requests.set(data.seq, data);
    trim(state.requests);
  } else if (name === "delivery") {
    state.deliveries.set(data.seq, data);
    trim(state.deliveries);
  } else if (name === "state") {
    state.sessions = data.sessions;
    state.sessionsTotal = data.sessionsTotal;
    state.runs = data.runs;
  } else if (name === "gap") {
    showBanner(
      `Some entries were already dropped from the capped journals ` +
        `(${data.requests} requests, ${data.deliveries} deliveries) and cannot be shown.`,
      false,
    );
  }
  if (name === "request" || name === "delivery") journalSaw(name);
  if (name === "request" && data.fault) faultsSaw();
  scheduleRender();
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

// ---------------------------------------------------------------------------------------
// the stream: reconnects by itself and resumes from its cursor

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setConn(kind, text) {
  const el = $("conn");
  el.className = `conn conn-${kind}`;
  el.textContent = text;
}

function showBanner(text, isError = true) {
  const el = $("banner");
  el.textContent = text;
  el.hidden = !text;
  el.dataset.kind = isError ? "error" : "info";
}

async function runStream() {
  let delay = 500;
  for (;;) {
    try {
      await ensureToken();
      const query = state.cursor ? `?since=${encodeURIComponent(state.cursor)}` : "";
      const response = await fetch(`/__admin/stream${query}`, { headers: authHeaders() });
      if (!response.ok) throw new Error(`the stream answered HTTP ${response.status}`);
      setConn("live", "Live");
      if ($("banner").dataset.kind !== "info") showBanner("");
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      throw new Error("the simulator closed the stream");
    } catch (error) {
      const seconds = Math.round(delay / 100) / 10;
      setConn("down", "Disconnected");
      showBanner(
        `Lost the connection to the simulator (${error.message || error}). ` +
          `Reconnecting in ${seconds} s…`,
      );
      await sleep(delay);
      setConn("connecting", "Reconnecting…");
      delay = Math.min(delay * 2, 4000);
    }
  }
}

function parseBlock(block) {
  let name = "message";
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length) onEvent(name, JSON.parse(data.join("\n")), id);
}

// ---------------------------------------------------------------------------------------
// formatting helpers

const pad = (n, w = 2) => String(n).padStart(w, "0");
function clock(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function ago(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return clock(ms);
}
const ms = (v) => (v === null || v === undefined ? "" : `${Math.round(v * 10) / 10} ms`);
function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

// ---------------------------------------------------------------------------------------
// views

function render() {
  renderConversations();
  if (state.selected) renderChat();
  if (state.view === "scenarios") renderRuns();
}

function switchView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll(".tab")) {
    if (tab.dataset.view === view) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  for (const name of ["conversations", "scenarios", "journals", "faults", "config"]) {
    $(`view-${name}`).hidden = name !== view;
  }
  if (view === "config") loadConfig();
  if (view === "faults") loadFaults();
  if (view === "journals") loadJournal(true);
  if (view === "scenarios") {
    loadScenarios();
    renderRuns();
  }
}

// 1. conversations -------------------------------------------------------------------------

function conversationStats() {
  const stats = new Map();
  const get = (key) => {
    if (!stats.has(key)) stats.set(key, { last: 0, ok: 0, bad: 0, other: 0, final: new Map() });
    return stats.get(key);
  };
  for (const r of state.requests.values()) {
    const key = conversationKey(r);
    if (key) get(key).last = Math.max(get(key).last, r.at);
  }
  for (const d of state.deliveries.values()) {
    const st = get(d.conversation);
    st.last = Math.max(st.last, d.startedAt || d.queuedAt || 0);
    st.final.set(d.deliveryId || `poll-${d.seq}`, d.verdict);
  }
  for (const st of stats.values()) {
    for (const verdict of st.final.values()) st[verdictClass(verdict)] += 1;
  }
  return stats;
}

function renderConversations() {
  const stats = conversationStats();
  const filter = $("conv-filter").value.trim().toLowerCase();
  const rows = state.sessions
    .map((session) => {
      const key = `${session.channelId}/${session.userId}`;
      const st = stats.get(key) || { last: 0, ok: 0, bad: 0, other: 0 };
      return { session, key, st, last: Math.max(st.last, session.createdAt || 0) };
    })
    .filter((row) => !filter || row.key.toLowerCase().includes(filter))
    .sort((a, b) => b.last - a.last);
  const list = $("conv-list");
  const signature = JSON.stringify([state.selected, rows.map(({ session, st, last }) =>
    [session.channelId, session.userId, session.state, st.ok, st.bad, st.other, ago(last)])]);
  if (signature === list.dataset.signature) return;
  list.dataset.signature = signature;
  replaceKeepingFocus(
    list,
    "data-key",
    rows.map(({ session, key, st, last }) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "conv",
            "data-key": key,
            "data-user": session.userId,
            "data-state": session.state,
            "aria-current": key === state.selected ? "true" : "false",
            onclick: () => selectConversation(key),
          },
          h(
            "div",
            { class: "l1" },
            h("span", { class: "user" }, session.userId),
            h("span", { class: `badge ${session.state}` }, session.state),
          ),
          h(
            "div",
            { class: "l2" },
            h("span", {}, session.channelId),
            h(
              "span",
              { class: "counts", title: "pushes accepted / failed / other" },
              h("span", { class: "ok" }, `✓ ${st.ok}`),
              h("span", { class: "bad" }, `✗ ${st.bad}`),
              st.other ? h("span", { class: "other" }, `○ ${st.other}`) : null,
            ),
            h("span", { class: "when", title: new Date(last).toISOString() }, ago(last)),
          ),
        ),
      ),
    ),
  );
  $("conv-empty").hidden = rows.length > 0;
  const shown = state.sessionsTotal > state.sessions.length
    ? `${state.sessions.length} of ${state.sessionsTotal}` : `${rows.length}`;
  $("conv-count").textContent = rows.length ? shown : "";
}

function selectConversation(key) {
  state.selected = key;
  $("view-conversations").classList.add("show-chat");
  $("chat-none").hidden = true;
  $("chat-main").hidden = false;
  lastChatSignature = "";
  renderConversations();
  renderChat();
  $("agent-text").focus();
}

// 2. one conversation as a chat --------------------------------------------------------------

let lastChatSignature = "";

function currentSession() {
  return state.sessions.find((s) => `${s.channelId}/${s.userId}` === state.selected) || null;
}

function renderChat() {
  const key = state.selected;
  const session = currentSession();
  const [channelId, ...rest] = key.split("/");
  const userId = rest.join("/");
  $("chat-user").textContent = userId;
  $("chat-sub").textContent = `channel ${channelId}` +
    (session && session.endedReason ? ` · ended: ${session.endedReason}` : "");
  const badge = $("chat-state");
  badge.className = `badge ${session ? session.state : "ended"}`;
  badge.textContent = session ? session.state : "forgotten";
  renderChatRun(session);
  renderComposer(session, channelId);

  const chat = buildChat(key, state.requests.values(), state.deliveries.values());
  const signature = `${chat.items.length}:${chat.signature}`;
  if (signature === lastChatSignature) return;
  lastChatSignature = signature;
  renderTimeline(chat);
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...chat.items.map(renderItem));
  if (!chat.items.length) list.append(h("li", { class: "note" }, "Nothing yet in this conversation."));
  if (atBottom || !list.dataset.scrolled) {
    list.scrollTop = list.scrollHeight;
    list.dataset.scrolled = "1";
  }
}

function renderChatRun(session) {
  const box = $("chat-run");
  const run = session && session.runId ? state.runs.find((r) => r.runId === session.runId) : null;
  if (!run) {
    box.replaceChildren();
    return;
  }
  fill(
    box,
    h("span", { class: "muted" }, `${run.scenario} · ${run.status} · ${run.position}`),
    run.status === "running"
      ? h("button", { type: "button", onclick: () => stopRun(run.runId) }, "Stop run")
      : null,
  );
}

function verdictChip(push) {
  const cls = verdictClass(push.verdict);
  const attempts = push.attempts.length;
  return h(
    "span",
    { class: `verdict ${cls}`, "data-verdict": push.verdict, title: push.url || "poll queue" },
    push.verdict,
    attempts > 1 ? ` · ${attempts} attempts` : "",
    push.latencyMs !== null && push.latencyMs !== undefined ? ` · ${ms(push.latencyMs)}` : "",
  );
}

function violationList(violations) {
  if (!violations || !violations.length) return null;
  return h(
    "ul",
    { class: "violations" },
    violations.map((v) => h("li", {}, h("code", {}, v.pointer || "/"), " ", v.message)),
  );
}

function attemptsTable(push) {
  if (push.attempts.length < 2) return null;
  return h(
    "table",
    { class: "attempts" },
    push.attempts.map((a) =>
      h("tr", {}, h("td", {}, `#${a.attempt}`), h("td", {}, a.responseStatus ?? "—"),
        h("td", {}, a.verdict), h("td", {}, ms(a.latencyMs)), h("td", {}, a.error || "")),
    ),
  );
}

function mediaBody(message, outgoing) {
  const type = message.mediaType;
  const content = message.content ?? "";
  if (!type || type === "TEXT") return content;
  if (type === "LOCATE") return `📍 ${content}`;
  // downlink media carry a resource id served by /__files; an uplink may carry a fileUrl
  const local = /^https?:\/\//.test(content) ? null : `/__files/${encodeURIComponent(content)}`;
  const href = local || content;
  if (type === "IMAGE" && local) {
    return h("a", { href, target: "_blank", rel: "noopener" },
      h("img", { src: local, alt: `image ${content}`, loading: "lazy" }));
  }
  const label = { VIDEO: "🎬 video", AUDIO: "🔊 audio", DOCUMENT: "📄 document", IMAGE: "🖼 image" }[type] || type;
  return h("a", { href, target: "_blank", rel: "noopener", "data-outgoing": outgoing ? "1" : "0" }, `${label}: ${content}`);
}

function renderItem(item) {
  if (item.kind === "divider") {
    return h(
      "li",
      { class: "divider", id: item.anchor, "data-kind": item.label },
      h("span", {}, h("b", {}, item.label), ` · ${clock(item.at)}`),
      item.push ? verdictChip(item.push) : null,
      item.push ? violationList(item.push.violations) : null,
    );
  }
  if (item.kind === "note") {
    return h("li", { class: "note", id: item.anchor }, `${item.text} · ${clock(item.at)}`,
      item.push ? [" ", verdictChip(item.push)] : null);
  }
  if (item.kind === "uplink") {
    const m = item.message;
    const result = item.request.response && item.request.response.resultCode;
    return h(
      "li",
      { class: "msg in", id: item.anchor, "data-message-id": m.messageId || "" },
      h("div", { class: "bubble" }, mediaBody(m, false)),
      h(
        "div",
        { class: "meta" },
        h("span", {}, clock(item.at)),
        h("span", {}, `${m.controlType}/${m.mediaType || "—"}`),
        h("span", {}, "customer"),
        h("span", { class: item.request.status >= 400 ? "error" : "" },
          `HTTP ${item.request.status}${result !== undefined && result !== null ? ` · resultCode ${result}` : ""}`),
        h("span", {}, ms(item.request.latencyMs)),
        m.messageId
          ? h("span", { class: `ticks ${item.read ? "" : "unread"}`, title: item.read ? "read by the agent" : "not read yet" }, item.read ? "✓✓" : "✓")
          : null,
      ),
      violationList(item.request.response && item.request.response.violations),
    );
  }
  // a downlink message
  const m = item.message;
  const source = (m.sourceType || "").toLowerCase();
  return h(
    "li",
    { class: `msg out ${source}`, id: item.anchor },
    h("div", { class: "bubble" }, mediaBody(m, true)),
    h(
      "div",
      { class: "meta" },
      h("span", {}, m.senderNickname || m.sourceType || ""),
      h("span", {}, `${m.controlType}/${m.mediaType || "—"}`),
      h("span", {}, m.sourceType || ""),
      h("span", {}, clock(item.at)),
      verdictChip(item.push),
    ),
    attemptsTable(item.push),
    violationList(item.push.violations),
  );
}

function renderTimeline(chat) {
  const svg = $("timeline");
  const width = svg.clientWidth || 600;
  const points = chat.items.filter((i) => i.at);
  svg.setAttribute("viewBox", `0 0 ${width} 46`);
  if (!points.length) {
    svg.replaceChildren();
    return;
  }
  const first = Math.min(...points.map((p) => p.at));
  const last = Math.max(...points.map((p) => p.at));
  const span = Math.max(last - first, 5000);
  const x = (t) => 8 + ((t - first) / span) * (width - 16);
  const marks = [];
  for (const item of points) {
    const up = item.kind === "uplink" || (item.kind !== "note" && item.fromCustomer);
    const cls = up ? "up" : item.push ? verdictClass(item.push.verdict) : "other";
    const title = s("title", {}, `${clock(item.at)} ${item.summary || item.label || ""}`);
    const goto = () => {
      const target = document.getElementById(item.anchor);
      if (!target) return;
      target.scrollIntoView({ block: "center", behavior: "smooth" });
      target.classList.add("flash");
      setTimeout(() => target.classList.remove("flash"), 1200);
    };
    marks.push(
      up
        ? s("circle", { class: `mark ${cls}`, cx: x(item.at), cy: 12, r: 5, onclick: goto }, title)
        : s("rect", { class: `mark ${cls}`, x: x(item.at) - 4, y: 25, width: 8, height: 11, rx: 2, onclick: goto }, title),
    );
  }
  svg.replaceChildren(
    s("line", { class: "lane", x1: 0, x2: width, y1: 12, y2: 12 }),
    s("line", { class: "lane", x1: 0, x2: width, y1: 30.5, y2: 30.5 }),
    s("text", { x: 2, y: 45 }, clock(first)),
    s("text", { x: width - 2, y: 45, "text-anchor": "end" }, `${clock(last)} (${Math.round(span / 100) / 10} s)`),
    ...marks,
  );
}

// 3. be the agent ---------------------------------------------------------------------------

let media = [];

function renderComposer(session, channelId) {
  const live = Boolean(session && session.state !== "ended");
  $("composer-set").disabled = !live;
  const unread = session ? session.unreadMessageIds.length : 0;
  $("btn-read").textContent = unread ? `Read receipt (${unread})` : "Read receipt";
  // nothing to acknowledge: the scenario would send the vendor sample's placeholder ids
  $("btn-read").disabled = !unread;
  $("btn-read").title = unread ? session.unreadMessageIds.join(",") : "no unread customer message";
  const channel = state.config && state.config.channels.find((c) => c.id === channelId);
  if (channel) {
    $("async-switch").checked = channel.async_switch;
    const scenario = channel.async_switch
      ? channel.timeout_scenarios.async_on : channel.timeout_scenarios.async_off;
    $("async-label").textContent = `(${channel.async_switch ? "on" : "off"}: ${scenario || "no push"})`;
  }
}

const MEDIA_TYPES = {
  IMAGE: ["png", "jpg", "jpeg", "gif", "bmp", "webp"],
  VIDEO: ["mp4", "3gp", "avi", "mov"],
  AUDIO: ["mp3", "amr", "wav", "aac", "m4a"],
  DOCUMENT: ["pdf", "doc", "docx", "xls", "xlsx", "txt", "ppt", "pptx"],
};

function onMediaType() {
  const type = $("media-type").value;
  const fileKind = MEDIA_TYPES[type];
  $("agent-text").hidden = Boolean(fileKind);
  $("media-file").hidden = !fileKind;
  $("agent-text").placeholder = type === "LOCATE"
    ? "latitude/longitude/description" : "Type a message and press Enter";
  if (fileKind) {
    const files = media.filter((f) => fileKind.includes(f.fileType.toLowerCase()));
    $("media-file").replaceChildren(
      ...(files.length
        ? files.map((f) => h("option", { value: f.fileId }, `${f.fileType} · ${f.fileId.slice(0, 13)}… (${f.scenario})`))
        : [h("option", { value: "" }, "no such file in the scenarios' media")]),
    );
  }
}

function composeStatus(text, isError = false) {
  const el = $("compose-status");
  el.textContent = text;
  el.className = isError ? "error" : "muted";
}

function target() {
  const [channelId, ...rest] = state.selected.split("/");
  return { channelId, userId: rest.join("/") };
}

async function sendAgentMessage(event) {
  event.preventDefault();
  const type = $("media-type").value;
  const content = MEDIA_TYPES[type] ? $("media-file").value : $("agent-text").value.trim();
  if (!content) {
    composeStatus(MEDIA_TYPES[type] ? "Pick a file." : "Type a message first.", true);
    return;
  }
  const { channelId, userId } = target();
  const message = {
    controlType: "CHAT",
    mediaType: type,
    content,
    sourceType: "AGENT",
    senderNickname: $("agent-name").value.trim() || "agent",
  };
  try {
    const result = await api("POST", `/__admin/sessions/${encodeURIComponent(userId)}/messages`, {
      channelId,
      messages: [message],
    });
    if (!MEDIA_TYPES[type]) $("agent-text").value = "";
    composeStatus(`Sent (${result.delivery}).`);
  } catch (error) {
    composeStatus(errorText(error), true);
  }
  $("agent-text").focus();
}

async function sendEvent(name) {
  const { channelId, userId } = target();
  try {
    const result = await api(
      "POST",
      `/__admin/sessions/${encodeURIComponent(userId)}/events/${name}`,
      { channelId },
    );
    const count = result.pushes.reduce((n, p) => n + p.length, 0);
    composeStatus(`${name}: ${count} message${count === 1 ? "" : "s"} from ${result.scenario}.`);
  } catch (error) {
    composeStatus(errorText(error), true);
  }
}

async function setAsyncSwitch(on) {
  const { channelId } = target();
  try {
    const result = await api("PUT", `/__admin/channels/${encodeURIComponent(channelId)}/async-switch`, { asyncSwitch: on });
    composeStatus(`Async switch ${result.asyncSwitch ? "on" : "off"}: timeout sends ${result.timeoutScenario || "no push"}.`);
    await loadConfig();
    scheduleRender();
  } catch (error) {
    composeStatus(errorText(error), true);
  }
}

function errorText(error) {
  if (error instanceof ApiError) {
    const body = error.body || {};
    const first = body.violations && body.violations[0];
    return `HTTP ${error.status}: ${body.detail || body.exceptionInfo || ""}` +
      (first ? ` (${first.pointer}: ${first.message})` : "");
  }
  return String(error.message || error);
}

// 4. scenarios ------------------------------------------------------------------------------

let scenarios = [];
let watchedRun = null;

async function loadScenarios() {
  if (scenarios.length) return;
  try {
    scenarios = (await api("GET", "/__admin/scenarios")).scenarios;
  } catch (error) {
    $("run-status").textContent = errorText(error);
    return;
  }
  $("run-scenario").replaceChildren(...scenarios.map((sc) => h("option", { value: sc.name }, sc.name)));
  if (scenarios.some((sc) => sc.name === "full-conversation")) $("run-scenario").value = "full-conversation";
  const channels = state.config ? state.config.channels : [];
  $("run-channel").replaceChildren(...channels.map((c) => h("option", { value: c.id }, `${c.id} (${c.delivery})`)));
  if (!$("run-user").value) $("run-user").value = `console-${Math.random().toString(36).slice(2, 8)}`;
  await onScenario();
}

async function onScenario() {
  const name = $("run-scenario").value;
  const found = scenarios.find((sc) => sc.name === name);
  $("run-description").textContent = found ? found.description : "";
  let detail;
  try {
    detail = await api("GET", `/__admin/scenarios/${encodeURIComponent(name)}`);
  } catch (error) {
    $("run-status").textContent = errorText(error);
    return;
  }
  $("run-vars").replaceChildren(
    ...Object.entries(detail.vars).map(([key, value]) =>
      h("label", {}, `var ${key}`,
        h("input", { "data-var": key, value: typeof value === "string" ? value : JSON.stringify(value) })),
    ),
  );
}

async function startRun(event) {
  event.preventDefault();
  const vars = {};
  for (const input of document.querySelectorAll("#run-vars input")) {
    const raw = input.value;
    try {
      vars[input.dataset.var] = /^[\d.[{"]|^(true|false|null)$/.test(raw) ? JSON.parse(raw) : raw;
    } catch {
      vars[input.dataset.var] = raw;
    }
  }
  const body = { userId: $("run-user").value.trim(), vars };
  if ($("run-channel").value) body.channelId = $("run-channel").value;
  if ($("run-callback").value.trim()) body.callbackUrl = $("run-callback").value.trim();
  const speed = Number($("run-speed").value);
  if (speed && speed !== 1) body.speed = speed;
  try {
    const run = await api("POST", `/__admin/scenarios/${encodeURIComponent($("run-scenario").value)}/runs`, body);
    watchedRun = run.runId;
    $("run-status").textContent = `Started ${run.runId} for ${run.userId}.`;
    renderRuns();
  } catch (error) {
    $("run-status").textContent = errorText(error);
  }
}

async function stopRun(runId) {
  try {
    const run = await api("POST", `/__admin/runs/${encodeURIComponent(runId)}/stop`);
    $("run-status").textContent = `${run.runId}: ${run.status}.`;
  } catch (error) {
    $("run-status").textContent = errorText(error);
  }
}

function renderRuns() {
  const runs = [...state.runs].reverse();
  $("runs-empty").hidden = runs.length > 0;
  replaceKeepingFocus(
    $("runs-body"),
    "data-focus",
    runs.slice(0, 200).map((run) =>
      h(
        "tr",
        { "data-run": run.runId, "aria-selected": run.runId === watchedRun ? "true" : "false" },
        h("td", {}, h("button", { type: "button", "data-focus": `show-${run.runId}`, onclick: () => { watchedRun = run.runId; renderRuns(); } }, run.runId)),
        h("td", {}, run.scenario),
        h("td", {}, run.userId),
        h("td", { class: "run-status" }, run.status, run.error ? h("div", { class: "error" }, run.error) : null),
        h("td", { class: "mono" }, run.position),
        h("td", {}, String(run.pushes)),
        h("td", {}, run.status === "running"
          ? h("button", { type: "button", class: "danger", "data-focus": `stop-${run.runId}`, onclick: () => stopRun(run.runId) }, "Stop") : ""),
      ),
    ),
  );
  const pushes = watchedRun
    ? [...state.deliveries.values()].filter((d) => d.runId === watchedRun) : [];
  $("run-pushes-title").hidden = !watchedRun;
  $("run-pushes-title").textContent = `Pushes of ${watchedRun}`;
  $("run-pushes").replaceChildren(
    ...pushes.map((d) =>
      h("li", {}, `${clock(d.startedAt || d.queuedAt)} `,
        messagesOf(d).map((m) => `${m.controlType}${m.content ? ` “${String(m.content).slice(0, 60)}”` : ""}`).join(", "),
        " ", h("span", { class: `verdict ${verdictClass(d.verdict)}` }, d.verdict)),
    ),
  );
}

// 5. journals -------------------------------------------------------------------------------

const journal = { kind: "requests", rows: [], lastSeq: null, selected: null, loading: false, stale: false };

function journalFilters() {
  const params = new URLSearchParams();
  const form = $("j-filter");
  const names = journal.kind === "requests"
    ? ["path", "method", "status", "userId"] : ["userId", "runId", "verdict"];
  for (const name of names) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

async function loadJournal(fresh) {
  if (journal.loading) {
    journal.stale = true;
    return;
  }
  journal.loading = true;
  try {
    if (fresh) {
      journal.rows = [];
      journal.lastSeq = null;
    }
    const params = journalFilters();
    if (journal.lastSeq !== null) params.set("since", journal.lastSeq);
    params.set("limit", "1000");
    const page = await api("GET", `/__admin/${journal.kind}?${params}`);
    const rows = page[journal.kind];
    journal.rows.push(...rows);
    if (journal.rows.length > 500) journal.rows.splice(0, journal.rows.length - 500);
    journal.lastSeq = rows.length ? rows[rows.length - 1].seq : Math.max(journal.lastSeq || 0, 0);
    if (!rows.length && journal.lastSeq === 0) journal.lastSeq = null;
    renderJournal();
  } catch (error) {
    $("j-empty").hidden = false;
    $("j-empty").textContent = errorText(error);
  } finally {
    journal.loading = false;
    if (journal.stale) {
      journal.stale = false;
      loadJournal(false);
    }
  }
}

let journalTimer = null;
function journalSaw(name) {
  const kind = name === "request" ? "requests" : "deliveries";
  if (state.view !== "journals" || kind !== journal.kind || !$("j-follow").checked) return;
  clearTimeout(journalTimer);
  journalTimer = setTimeout(() => loadJournal(false), 150);
}

function renderJournal() {
  const requests = journal.kind === "requests";
  $("j-head").replaceChildren(
    h("tr", {}, (requests
      ? ["seq", "time", "method", "path", "status", "user", "latency"]
      : ["seq", "time", "conversation", "attempt", "verdict", "status", "latency"]).map((t) => h("th", {}, t))),
  );
  const rows = [...journal.rows].reverse();
  $("j-empty").hidden = rows.length > 0;
  $("j-empty").textContent = "Nothing journaled matches.";
  replaceKeepingFocus(
    $("j-body"),
    "data-seq",
    rows.map((e) => {
      const bad = requests ? e.status >= 400 : verdictClass(e.verdict) === "bad";
      const cells = requests
        ? [e.seq, clock(e.at), e.method, e.path, e.status, e.userId || "", ms(e.latencyMs)]
        : [e.seq, clock(e.startedAt || e.queuedAt), e.conversation, e.attempt ?? "poll", e.verdict, e.responseStatus ?? "", ms(e.latencyMs)];
      return h(
        "tr",
        {
          class: bad ? "bad" : "",
          tabindex: 0,
          "data-seq": e.seq,
          "aria-selected": journal.selected === e ? "true" : "false",
          onclick: () => selectEntry(e),
          onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); selectEntry(e); } },
        },
        cells.map((c) => h("td", {}, String(c))),
      );
    }),
  );
}

function curlOf(e) {
  const quote = (v) => `'${String(v).replace(/'/g, "'\\''")}'`;
  const parts = [`curl -X ${e.method} ${quote(`${location.origin}${e.path}${e.query ? `?${e.query}` : ""}`)}`];
  for (const [name, value] of Object.entries(e.headers || {})) {
    if (["host", "content-length", "connection", "accept-encoding"].includes(name.toLowerCase())) continue;
    parts.push(`-H ${quote(`${name}: ${value}`)}`);
  }
  if (e.body !== null && e.body !== undefined) {
    parts.push(`--data-raw ${quote(typeof e.body === "string" ? e.body : JSON.stringify(e.body))}`);
  }
  return parts.join(" \\\n  ");
}

function dl(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

function selectEntry(e) {
  journal.selected = e;
  renderJournal();
  const box = $("j-detail");
  if (journal.kind === "requests") {
    const curl = curlOf(e);
    const copy = h("button", { type: "button", id: "copy-curl" }, "Copy as curl");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(curl);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select the command below";
      }
    });
    fill(
      box,
      h("h2", {}, `${e.method} ${e.path}`),
      dl([["seq", e.seq], ["time", new Date(e.at).toISOString()], ["status", e.status],
        ["latency", ms(e.latencyMs)], ["userId", e.userId], ["query", e.query]]),
      violationList(e.response && e.response.violations),
      h("h3", {}, "Request headers (secrets masked)"),
      h("pre", { class: "code" }, pretty(e.headers)),
      h("h3", {}, "Request body"),
      h("pre", { class: "code" }, e.body === null ? "(none)" : pretty(e.body)),
      h("h3", {}, "Response"),
      h("pre", { class: "code" }, e.response === null ? "(none)" : pretty(e.response)),
      h("div", { class: "row" }, copy, h("span", { class: "muted" }, "masked values stay masked")),
      h("pre", { class: "code", id: "curl" }, curl),
    );
  } else {
    fill(
      box,
      h("h2", {}, `${e.verdict} · ${e.conversation}`),
      dl([["seq", e.seq], ["delivery", e.deliveryId], ["run", e.runId], ["step", e.step],
        ["url", e.url], ["mode", e.mode], ["attempt", e.attempt], ["status", e.responseStatus],
        ["latency", ms(e.latencyMs)], ["error", e.error]]),
      violationList(e.violations),
      e.requestHeaders ? [h("h3", {}, "Request headers (secrets masked)"), h("pre", { class: "code" }, pretty(e.requestHeaders))] : null,
      h("h3", {}, "Messages"),
      h("pre", { class: "code" }, e.requestBody ? pretty(e.requestBody) : pretty(e.messages)),
      e.responseBody !== undefined ? [h("h3", {}, "Receiver's answer"), h("pre", { class: "code" }, e.responseBody === null ? "(none)" : pretty(e.responseBody))] : null,
    );
  }
}

function setJournalKind(kind) {
  journal.kind = kind;
  journal.selected = null;
  $("j-requests").setAttribute("aria-pressed", String(kind === "requests"));
  $("j-deliveries").setAttribute("aria-pressed", String(kind === "deliveries"));
  for (const el of document.querySelectorAll(".f-req")) el.hidden = kind !== "requests";
  for (const el of document.querySelectorAll(".f-del")) el.hidden = kind === "requests";
  $("j-detail").replaceChildren(h("p", { class: "empty" }, "Select an entry to see it whole."));
  loadJournal(true);
}

// 6. faults --------------------------------------------------------------------------------
// Everything goes through /__admin/faults: the page checks nothing itself, so a rule meets
// exactly the admin API's checks and the page shows its words (each violation's pointer).

function faultStatus(text, error = null) {
  $("fault-status").textContent = text;
  $("fault-status").className = error ? "error" : "muted";
  const violations = error instanceof ApiError && error.body ? error.body.violations || [] : [];
  const list = $("fault-violations");
  list.hidden = violations.length === 0;
  list.replaceChildren(
    ...violations.map((v) => h("li", {}, h("code", {}, v.pointer || "/"), " ", v.message)),
  );
}

/** The value of a number field: a number when it reads as one, else the text as typed (the
 * API then says what is wrong with it, as it would to any client). */
function numberOrText(raw) {
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
}

function faultFromForm() {
  const form = $("fault-form");
  const value = (name) => form.elements[name].value.trim();
  const match = {};
  const action = {};
  const rule = {};
  for (const name of ["endpoint", "method", "userId", "controlType"]) {
    if (value(name)) match[name] = value(name);
  }
  for (const name of ["status", "delay_ms"]) {
    if (value(name)) action[name] = numberOrText(value(name));
  }
  for (const name of ["connection", "token"]) {
    if (value(name)) action[name] = value(name);
  }
  const body = form.elements.body.value;
  if (body.trim()) {
    try {
      action.body = JSON.parse(body);
    } catch {
      action.body = body;
    }
  }
  if (value("id")) rule.id = value("id");
  for (const name of ["times", "priority"]) {
    if (value(name)) rule[name] = numberOrText(value(name));
  }
  if (Object.keys(match).length) rule.match = match;
  rule.action = action;
  return rule;
}

async function postFault(rule) {
  try {
    const created = await api("POST", "/__admin/faults", rule);
    faultStatus(`Rule ${created.id} is in force.`);
  } catch (error) {
    faultStatus(errorText(error), error);
  }
  await loadFaults();
}

async function addFault(event) {
  event.preventDefault();
  await postFault(faultFromForm());
}

async function addJsonFault(event) {
  event.preventDefault();
  let rule;
  try {
    rule = JSON.parse($("fault-json").value);
  } catch (error) {
    faultStatus(`Not JSON: ${error.message}`, error);
    return;
  }
  await postFault(rule);
}

async function removeFault(id) {
  try {
    await api("DELETE", `/__admin/faults/${encodeURIComponent(id)}`);
    faultStatus(`Rule ${id} removed.`);
  } catch (error) {
    faultStatus(errorText(error), error);
  }
  await loadFaults();
}

async function clearFaults() {
  try {
    const result = await api("DELETE", "/__admin/faults");
    faultStatus(`${result.removed} rule${result.removed === 1 ? "" : "s"} removed.`);
  } catch (error) {
    faultStatus(errorText(error), error);
  }
  await loadFaults();
}

const SOURCES = {
  "start-up": "the config file's faults: or serve --fault",
  scenario: "a scenario's fault: step",
  admin: "POST /__admin/faults (this page, the pytest handle, curl)",
};
const compact = (value) => (value === undefined ? "" : JSON.stringify(value));

async function loadFaults() {
  let rules;
  try {
    rules = (await api("GET", "/__admin/faults")).faults;
  } catch (error) {
    faultStatus(errorText(error), error);
    return;
  }
  $("faults-empty").hidden = rules.length > 0;
  $("faults-clear").disabled = rules.length === 0;
  replaceKeepingFocus(
    $("faults-body"),
    "data-focus",
    rules.map((rule) => {
      const lifetime = [
        rule.times !== undefined ? `${rule.times} time${rule.times === 1 ? "" : "s"}` : "until removed",
        rule.until !== undefined ? `until ${rule.until}` : null,
        rule.priority ? `priority ${rule.priority}` : null,
      ].filter(Boolean).join(", ");
      return h(
        "tr",
        { "data-rule": rule.id },
        h("td", { class: "mono" }, rule.id),
        h("td", { class: "source", title: SOURCES[rule.source] || "" }, rule.source),
        h("td", {}, h("code", {}, rule.match ? compact(rule.match) : "every call")),
        h("td", {}, h("code", {}, compact(rule.action))),
        h("td", {}, lifetime),
        h("td", { class: "seen" }, String(rule.seen)),
        h("td", { class: "fired" }, String(rule.fired)),
        h("td", {}, h("button", {
          type: "button", class: "danger", "data-focus": `remove-${rule.id}`,
          "aria-label": `Remove rule ${rule.id}`, onclick: () => removeFault(rule.id),
        }, "Remove")),
      );
    }),
  );
}

let faultsTimer = null;
/** A request a rule acted on: the counters moved (and a rule with ``times`` may be gone). */
function faultsSaw() {
  if (state.view !== "faults") return;
  clearTimeout(faultsTimer);
  faultsTimer = setTimeout(loadFaults, 150);
}

// 7. config ---------------------------------------------------------------------------------

async function loadConfig() {
  try {
    state.config = await api("GET", "/__admin/config");
  } catch (error) {
    $("config-json").textContent = errorText(error);
    return;
  }
  $("config-json").textContent = JSON.stringify(state.config, null, 2);
  $("channels-body").replaceChildren(
    ...state.config.channels.map((c) => {
      const box = h("input", { type: "checkbox", "aria-label": `async switch of ${c.id}` });
      box.checked = c.async_switch;
      box.addEventListener("change", async () => {
        try {
          await api("PUT", `/__admin/channels/${encodeURIComponent(c.id)}/async-switch`, { asyncSwitch: box.checked });
        } catch (error) {
          showBanner(errorText(error));
        }
        loadConfig();
      });
      return h("tr", {}, h("td", { class: "mono" }, c.id), h("td", {}, `${c.delivery} (${c.push_mode})`),
        h("td", { class: "mono" }, c.callback_url), h("td", {}, c.idle_timeout === null ? "off" : `${c.idle_timeout} s`),
        h("td", {}, h("label", { class: "switch" }, box, c.async_switch ? "on" : "off")));
    }),
  );
  if (state.selected) renderChat();
}

// ---------------------------------------------------------------------------------------
// start

function wire() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => switchView(tab.dataset.view));
  }
  $("conv-filter").addEventListener("input", renderConversations);
  $("chat-back").addEventListener("click", () => {
    $("view-conversations").classList.remove("show-chat");
    const current = document.querySelector(`.conv[data-key="${CSS.escape(state.selected)}"]`);
    if (current) current.focus();
  });
  $("composer").addEventListener("submit", sendAgentMessage);
  $("media-type").addEventListener("change", onMediaType);
  for (const button of document.querySelectorAll("[data-event]")) {
    button.addEventListener("click", () => sendEvent(button.dataset.event));
  }
  $("async-switch").addEventListener("change", (event) => setAsyncSwitch(event.target.checked));
  $("run-scenario").addEventListener("change", onScenario);
  $("run-form").addEventListener("submit", startRun);
  $("fault-form").addEventListener("submit", addFault);
  $("fault-json-form").addEventListener("submit", addJsonFault);
  $("faults-refresh").addEventListener("click", loadFaults);
  $("faults-clear").addEventListener("click", clearFaults);
  $("j-requests").addEventListener("click", () => setJournalKind("requests"));
  $("j-deliveries").addEventListener("click", () => setJournalKind("deliveries"));
  $("j-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    loadJournal(true);
  });
  window.addEventListener("resize", () => {
    lastChatSignature = "";
    scheduleRender();
  });
  // relative times ("5 s ago") move on
  setInterval(renderConversations, 5000);
}

async function start() {
  wire();
  await ensureToken();
  await loadConfig();
  try {
    media = (await api("GET", "/__admin/media")).media;
  } catch {
    media = [];
  }
  onMediaType();
  runStream();
}

start();
