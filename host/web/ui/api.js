// The sd-worker HTTP API (host/server/API.md), as any other client would use it.

const KEY_STORAGE = 'sdw.apiKey';

// An error answer: {"error": {"code", "message", "field"}} plus the HTTP status.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'error';
    this.field = field ?? null;
  }
}

export function loadApiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

export function saveApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch { /* storage disabled: the key lasts for this page only */ }
}

export class Api {
  constructor(base = '') {
    this.base = base;
    this.key = loadApiKey();
  }

  setKey(key) {
    this.key = key;
    saveApiKey(key);
  }

  headers(extra = {}) {
    const headers = { ...extra };
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    return headers;
  }

  async request(method, path, { body, rawBody } = {}) {
    const init = { method, headers: this.headers() };
    if (rawBody !== undefined || body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = rawBody !== undefined ? rawBody : JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.base + path, init);
    } catch (e) {
      throw new ApiError(0, 'network', `The server could not be reached (${e.message}).`, null);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!response.ok) {
      const error = data && data.error;
      if (error && typeof error === 'object') {
        throw new ApiError(response.status, error.code, error.message, error.field);
      }
      throw new ApiError(response.status, 'http_' + response.status,
                         `The server answered ${response.status} ${response.statusText}.`, null);
    }
    return data;
  }

  info() { return this.request('GET', '/v1/info'); }

  // `rawBody`: the JSON text (app.js writes seeds beyond 2^53 digit for digit).
  submit(rawBody) { return this.request('POST', '/v1/jobs', { rawBody }); }

  job(id) { return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`); }

  cancel(id) { return this.request('DELETE', `/v1/jobs/${encodeURIComponent(id)}`); }

  async imageBlob(url) {
    const response = await fetch(this.base + url, { headers: this.headers() });
    if (!response.ok) throw new ApiError(response.status, 'http_' + response.status, `Image ${url}: ${response.status}`);
    return response.blob();
  }

  // Follows a job's event stream. `handlers[event](data)` for each named event;
  // resolves with the terminal event {type, data} (completed, failed or cancelled).
  // An EventSource cannot send headers, so the key travels as ?api_key=.
  follow(id, handlers = {}) {
    let url = `${this.base}/v1/jobs/${encodeURIComponent(id)}/stream`;
    if (this.key) url += `?api_key=${encodeURIComponent(this.key)}`;
    return new Promise((resolve, reject) => {
      const source = new EventSource(url);
      let terminal = null;
      let settled = false;
      const finish = (fn, value) => {
        if (settled) return;
        settled = true;
        source.close();
        fn(value);
      };
      let errors = 0;  // consecutive failed (re)connections
      const on = (type, isTerminal) => source.addEventListener(type, (event) => {
        errors = 0;
        let data = {};
        try { data = JSON.parse(event.data); } catch { /* keep {} */ }
        try { handlers[type]?.(data); } catch (e) { console.error(e); }
        if (isTerminal) {
          terminal = { type, data };
          finish(resolve, terminal);
        }
      });
      for (const type of ['queued', 'started', 'progress', 'preview']) on(type, false);
      for (const type of ['completed', 'failed', 'cancelled']) on(type, true);
      source.onmessage = (event) => {  // the unnamed `data: [DONE]`
        if (event.data === '[DONE]') {
          if (terminal) finish(resolve, terminal);
          else finish(reject, new ApiError(0, 'stream', 'The stream ended without a result.'));
        }
      };
      source.onerror = () => {
        // EventSource reconnects by itself (with Last-Event-ID) unless the server closed
        // for good; then the caller asks the job's status instead.
        errors += 1;
        if (source.readyState === EventSource.CLOSED || errors > 4) {
          finish(reject, new ApiError(0, 'stream', 'The event stream was closed.'));
        }
      };
    });
  }
}
