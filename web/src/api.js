// Talking to xxxd: JSON calls, SSE over fetch, and one sentence for every failure.

export class ApiError extends Error {
  // kind: 'http' (the server answered an error), 'network' (no answer), 'protocol'
  constructor(kind, message, { status = 0, code = '', retryAfter = null } = {}) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function networkError(err) {
  if (err.name === 'AbortError') return err;
  return new ApiError(
    'network',
    `Cannot reach the xxx service at ${location.origin}: the server is gone or restarting. ` +
      'Check that xxxd is running, then try again.',
  );
}

// Turns an error answer into an ApiError with a sentence a person can act on.
async function httpError(resp) {
  let code = '';
  let message = '';
  try {
    const body = await resp.json();
    code = body?.error?.code ?? '';
    message = body?.error?.message ?? '';
  } catch {
    message = resp.statusText;
  }
  const retryAfter = resp.headers.get('Retry-After');
  const secs = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  let text;
  switch (resp.status) {
    case 429:
      text =
        `The server is busy: ${(message || 'too many requests').replace(/;? *retry later\.?$/i, '')}. ` +
        (secs !== null ? `Retry in ${secs} s.` : 'Retry in a moment.');
      break;
    case 413:
      text = `The request is too large for this server: ${message}`;
      break;
    case 503:
      text = `The server cannot run programs right now: ${message}`;
      break;
    case 409:
      text = `Busy: ${message || 'the previous entry is still running'}. Wait for it, or restart the session.`;
      break;
    case 410:
      text = `The session has ended: ${message || 'it expired or was closed'}.`;
      break;
    default:
      if (code === 'unknown_language') text = `Unknown language. ${message}`;
      else text = `The server refused the request (${resp.status}${code ? ' ' + code : ''}): ${message}`;
  }
  return new ApiError('http', text, { status: resp.status, code, retryAfter: secs });
}

export async function getJSON(path, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await httpError(resp);
  return resp.json();
}

export async function sendJSON(method, path, body, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(path, {
      method,
      signal,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await httpError(resp);
  const text = await resp.text();
  return text ? JSON.parse(text) : {};
}

// Parses an SSE byte stream into {event, data, id} objects (the WHATWG rules
// the server's encoder follows: data lines joined by "\n", comments skipped).
export async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = { event: 'message', data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (event.data.length) yield { event: event.event, data: event.data.join('\n'), id: event.id };
        event = { event: 'message', data: [], id: null };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'event') event.event = val;
      else if (field === 'data') event.data.push(val);
      else if (field === 'id') event.id = val;
    }
  }
}

function decodeBase64(text) {
  const bin = atob(text.replace(/\s+/g, ''));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

// Runs a streaming request. handlers: onStart({runId}), onOutput(stream, text),
// onResult(result), onError(error object from an "error" event). Resolves with
// the result event's object; rejects with ApiError, or AbortError when aborted.
export async function stream(path, body, handlers, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(path, {
      method: 'POST',
      signal,
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw networkError(err);
  }
  if (!resp.ok) throw await httpError(resp);
  handlers.onStart?.({ runId: resp.headers.get('X-Run-Id') });
  let result = null;
  try {
    for await (const ev of sseEvents(resp.body)) {
      switch (ev.event) {
        case 'stdout':
        case 'stderr':
          handlers.onOutput?.(ev.event, ev.data);
          break;
        case 'stdout_base64':
        case 'stderr_base64':
          handlers.onOutput?.(ev.event.replace('_base64', ''), decodeBase64(ev.data));
          break;
        case 'result':
          result = JSON.parse(ev.data);
          handlers.onResult?.(result);
          break;
        case 'error':
          handlers.onError?.(JSON.parse(ev.data).error ?? {});
          break;
        case 'done':
          return result;
      }
    }
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('network', 'The connection to the server was lost while the program ran: the server is gone or restarting.');
  }
  if (result) return result;
  throw new ApiError('network', 'The connection to the server was lost before the run finished: the server is gone or restarting.');
}

// One line saying how a run ended; limit kills say which limit.
export function describeStatus(result) {
  const s = result.status;
  const msg = result.message ? `: ${result.message}` : '';
  switch (s) {
    case 'ok':
      return 'Finished';
    case 'runtime_error':
      return `Exited with code ${result.exit_code}`;
    case 'compile_error':
      return 'Compilation failed';
    case 'timeout':
      return `Killed by the time limit${msg}`;
    case 'memory_limit':
      return `Killed by the memory limit${msg}`;
    case 'output_limit':
      return `Stopped by the output limit${msg}`;
    case 'signaled':
      return `Killed by ${result.signal ?? 'a signal'}`;
    case 'cancelled':
      return 'Stopped';
    default:
      return `${s}${msg}`;
  }
}

export function formatBytes(n) {
  if (n == null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatMs(n) {
  if (n == null) return '–';
  return n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(2)} s`;
}
