// The admin API from the page: the token (if the server wants one) is asked for once and
// kept in sessionStorage, i.e. for this tab only.
const TOKEN_KEY = "aicc-sim-admin-token";

/** An admin API answer that was not 2xx: its status and JSON body. */
export class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { "X-Admin-Token": token } : {};
}

async function tokenState() {
  // /__admin/ui/auth answers 200 either way: no failed request, no console error
  const response = await fetch("/__admin/ui/auth", { headers: authHeaders() });
  if (!response.ok) throw new Error(`auth check answered HTTP ${response.status}`);
  return response.json();
}

let pending = null;

/** Resolves once the admin API will accept our calls (asking for the token if needed). */
export function ensureToken() {
  if (!pending) {
    pending = (async () => {
      let answer = await tokenState();
      while (!answer.accepted) {
        const hadToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
        sessionStorage.setItem(TOKEN_KEY, await askToken(hadToken));
        answer = await tokenState();
      }
    })().finally(() => {
      pending = null;
    });
  }
  return pending;
}

function askToken(wrong) {
  const dialog = document.getElementById("login");
  const input = document.getElementById("login-token");
  document.getElementById("login-error").textContent = wrong ? "That token was refused." : "";
  input.value = "";
  return new Promise((resolve) => {
    const form = document.getElementById("login-form");
    const done = (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      form.removeEventListener("submit", done);
      dialog.close();
      resolve(value);
    };
    form.addEventListener("submit", done);
    // Escape must not leave the page without a token
    dialog.addEventListener("cancel", (event) => event.preventDefault(), { once: true });
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

/** Call the admin API; JSON in and out. A 401 (token changed on the server) asks again. */
export async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const headers = authHeaders();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (response.status === 401 && attempt === 0) {
      sessionStorage.removeItem(TOKEN_KEY);
      await ensureToken();
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
}
