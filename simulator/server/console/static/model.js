// What the console shows, derived from journal entries: one conversation as chat items.
const QUEUING = new Set(["Queuing..."]);
const CONNECTED = new Set(["The call is connected to an agent.", "已接通座席。"]);
const OK = new Set(["accepted", "queued-for-poll"]);
const OTHER = new Set(["dropped"]);

/** "ok", "bad" or "other": the colour of a verdict. */
export function verdictClass(verdict) {
  if (OK.has(verdict)) return "ok";
  if (OTHER.has(verdict)) return "other";
  return "bad";
}

function uplinkBody(request) {
  const body = request.body;
  return body && typeof body === "object" && !Array.isArray(body) ? body : null;
}

/** "channel/user" of a journaled request, when it names both. */
export function conversationKey(request) {
  const body = uplinkBody(request);
  if (!request.userId || !body) return null;
  const channel = body.to || body.channelId || body.channelConfigId;
  return channel ? `${channel}/${request.userId}` : null;
}

/** The DownLinkMsg list a delivery journal entry carried. */
export function messagesOf(delivery) {
  if (Array.isArray(delivery.messages)) return delivery.messages;
  try {
    const body = JSON.parse(delivery.requestBody);
    return Array.isArray(body.messages) ? body.messages : [];
  } catch {
    return [];
  }
}

function groupPushes(key, deliveries) {
  const pushes = new Map();
  for (const d of deliveries) {
    if (d.conversation !== key) continue;
    const id = d.deliveryId || `poll-${d.seq}`;
    let push = pushes.get(id);
    if (!push) {
      push = { id, at: d.startedAt || d.queuedAt, attempts: [], violations: [], messages: messagesOf(d), seq: d.seq };
      pushes.set(id, push);
    }
    push.attempts.push(d);
    push.seq = Math.max(push.seq, d.seq);
    if (!d.duplicate) {
      push.verdict = d.verdict;
      push.latencyMs = d.latencyMs;
      push.url = d.url;
    }
    for (const v of d.violations || []) push.violations.push(v);
  }
  for (const push of pushes.values()) {
    if (!push.verdict) push.verdict = push.attempts[push.attempts.length - 1].verdict;
    push.attempts = push.attempts.filter((a) => !a.duplicate);
  }
  return [...pushes.values()];
}

/** The items of one conversation's chat, oldest first, and a signature that changes when
 * anything shown changes. */
export function buildChat(key, requests, deliveries) {
  const items = [];
  const readIds = new Set();
  let n = 0;
  let signature = "";
  const anchor = () => `item-${n++}`;
  for (const request of requests) {
    if (conversationKey(request) !== key || !/\/send(Async)?$/.test(request.path)) continue;
    signature = `${request.seq}`;
    const m = uplinkBody(request);
    // journaled when answered: the customer sent it latencyMs earlier
    const at = request.at - (request.latencyMs || 0);
    const control = m.controlType;
    const answer = request.response && request.response.resultDesc;
    const label = {
      CONNECT: "Customer connected",
      DISCONNECT: "Customer disconnected",
      TRANS2AGENT: "Customer asked for an agent",
    }[control];
    if (label) {
      const failed = request.status >= 400 || (request.response && request.response.resultCode !== "0");
      items.push({ kind: "divider", at, seq: request.seq, fromCustomer: true, anchor: anchor(),
        label: failed ? `${label}: refused (${answer || `HTTP ${request.status}`})` : label, summary: control });
    } else if (control === "READ") {
      items.push({ kind: "note", at, seq: request.seq, fromCustomer: true, anchor: anchor(), text: `Customer read ${m.content || "messages"}`, summary: "READ" });
    } else if (control !== "INPUT") {
      items.push({ kind: "uplink", at, seq: request.seq, anchor: anchor(), message: m, request, summary: `${control} ${m.content || ""}` });
    }
  }
  let deliverySignature = 0;
  for (const push of groupPushes(key, deliveries)) {
    deliverySignature = Math.max(deliverySignature, push.seq);
    push.messages.forEach((m, index) => {
      const at = push.at + index / 1000;
      const base = { at, seq: push.seq, push, anchor: anchor(), summary: `${m.controlType} ${m.content || ""}` };
      const control = m.controlType;
      if (control === "CHAT" && m.sourceType === "SYSTEM" && QUEUING.has(m.content)) {
        items.push({ ...base, kind: "divider", label: "Queuing" });
      } else if (control === "CHAT" && m.sourceType === "SYSTEM" && CONNECTED.has(m.content)) {
        items.push({ ...base, kind: "divider", label: "Agent connected" });
      } else if (control === "DISCONNECT") {
        const label = m.sourceType === "AGENT" ? "Agent disconnected"
          : m.isOfflineStatus ? `Customer timeout (async on: ${m.content})` : "Customer timeout";
        items.push({ ...base, kind: "divider", label });
      } else if (control === "Trans2Agent") {
        items.push({ ...base, kind: "divider", label: "Transferred to an agent" });
      } else if (control === "READ") {
        const ids = String(m.content || "").split(",").map((id) => id.trim()).filter(Boolean);
        for (const id of ids) readIds.add(id);
        items.push({ ...base, kind: "note", text: `Agent read ${ids.length} message${ids.length === 1 ? "" : "s"}` });
      } else {
        items.push({ ...base, kind: "downlink", message: m });
      }
    });
  }
  for (const item of items) {
    if (item.kind === "uplink" && item.message.messageId) item.read = readIds.has(item.message.messageId);
  }
  items.sort((a, b) => a.at - b.at || a.seq - b.seq);
  return { items, signature: `${signature}|${deliverySignature}|${readIds.size}` };
}
