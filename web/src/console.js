// Console mode: each entry runs in one server-side session (POST
// /api/repl/sessions, then /sessions/{id}/execute[/stream]); the value of the
// last expression is shown the way the language's own prompt shows it, an
// error with its traceback.
import { sendJSON, stream, ApiError } from './api.js';
import { createEditor } from './editor.js';
import { consoleExamples } from './examples.js';

// How each language's own REPL looks: its prompt, and what precedes a value.
const looks = {
  python: { prompt: '>>> ', more: '... ', value: '' },
  node: { prompt: '> ', more: '... ', value: '' },
  ruby: { prompt: 'irb> ', more: 'irb* ', value: '=> ' },
};
const FALLBACK_SESSION_LANGUAGES = ['python', 'node', 'ruby'];

// Languages with sessions: those marked "sessions": true by the server, or,
// when the server does not say, python, node and ruby where it runs them.
export function sessionLanguages(runtimes) {
  if (runtimes.some((r) => 'sessions' in r)) return runtimes.filter((r) => r.sessions).map((r) => r.language);
  return runtimes.map((r) => r.language).filter((l) => FALLBACK_SESSION_LANGUAGES.includes(l));
}

export function createConsole({ showNotice, isActive }) {
  const $ = (id) => document.getElementById(id);
  const ui = {
    transcript: $('transcript'),
    state: $('session-state'),
    restart: $('restart'),
    run: $('console-run'),
    stop: $('console-stop'),
    prompt: $('prompt'),
  };
  let supported = [];
  let language = null;
  let session = null; // {id, language, version, expires_at}
  let busy = null; // AbortController of the entry running
  let streamWorks = true;
  const history = [];

  const editor = createEditor($('console-editor'), {
    label: 'Console entry',
    enterRuns: true,
    onRun: () => submit(),
  });

  function look() {
    return looks[language] ?? { prompt: '> ', more: '  ', value: '' };
  }

  function note(text) {
    const li = document.createElement('li');
    li.className = 'note';
    li.textContent = text;
    ui.transcript.append(li);
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    return li;
  }

  function describeSession() {
    if (!session) {
      ui.state.textContent = supported.includes(language)
        ? 'No session yet: the first entry starts one.'
        : `${language} has no console sessions here; pick one of: ${supported.join(', ') || 'none'}.`;
      return;
    }
    const until = session.expires_at ? `, ends ${new Date(session.expires_at).toLocaleTimeString()} if idle` : '';
    ui.state.textContent = `Session ${String(session.id).slice(0, 8)} · ${session.language} ${session.version ?? ''}${until}`;
  }

  function setBusy(b) {
    busy = b;
    ui.run.disabled = !!b;
    ui.stop.disabled = !b;
  }

  async function endSession() {
    const s = session;
    session = null;
    if (!s) return;
    try {
      await sendJSON('DELETE', `/api/repl/sessions/${encodeURIComponent(s.id)}`);
    } catch {
      /* already ended or server gone: nothing to free */
    }
  }

  async function ensureSession() {
    if (session) return session;
    ui.state.textContent = `Starting a ${language} session…`;
    session = await sendJSON('POST', '/api/repl/sessions', { language });
    describeSession();
    return session;
  }

  function appendTo(li, cls, text) {
    let out = li.querySelector('pre.out');
    if (!out) {
      out = document.createElement('pre');
      out.className = 'out';
      li.append(out);
    }
    const last = out.lastElementChild;
    if (last && last.className === cls) last.append(text);
    else {
      const span = document.createElement('span');
      span.className = cls;
      span.textContent = text;
      out.append(span);
    }
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function showResult(li, result, streamed) {
    if (!streamed) {
      if (result.stdout) appendTo(li, 'stdout', result.stdout);
      if (result.stderr) appendTo(li, 'stderr', result.stderr);
    }
    const err = result.error;
    if (err) {
      const pre = document.createElement('pre');
      pre.className = 'traceback';
      const tb = Array.isArray(err.traceback) ? err.traceback.join('') : err.traceback;
      pre.textContent = tb || `${err.name ?? 'Error'}: ${err.message ?? ''}`;
      li.append(pre);
    } else if (result.value !== undefined && result.value !== null && result.value !== '') {
      const pre = document.createElement('pre');
      pre.className = 'value';
      const v = typeof result.value === 'string' ? result.value : JSON.stringify(result.value);
      pre.textContent = look().value + v;
      li.append(pre);
    } else if (result.status && !['ok', 'error', 'runtime_error'].includes(result.status)) {
      const p = document.createElement('pre');
      p.className = 'traceback';
      p.textContent = result.message ?? result.status;
      li.append(p);
    }
    if (result.execution_count != null) li.dataset.count = result.execution_count;
    if (result.session_ended) {
      session = null;
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = 'The session ended with this entry; the next entry starts a new one.';
      li.append(p);
    }
  }

  async function execute(li, code, controller) {
    const s = await ensureSession();
    const base = `/api/repl/sessions/${encodeURIComponent(s.id)}/execute`;
    if (streamWorks) {
      try {
        const result = await stream(`${base}/stream`, { code }, {
          onOutput: (name, text) => appendTo(li, name, text),
          onError: (e) => appendTo(li, 'stderr', `${e.message ?? 'error'}\n`),
        }, { signal: controller.signal });
        showResult(li, result ?? {}, true);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 404 || err.status === 405) && err.code !== 'session_not_found')) throw err;
        streamWorks = false; // a server with sessions but no streamed entries
      }
    }
    const result = await sendJSON('POST', base, { code }, { signal: controller.signal });
    showResult(li, result, false);
  }

  async function submit() {
    const code = editor.get();
    if (busy || !code.trim()) return;
    if (!supported.includes(language)) {
      showNotice(`${language} has no console sessions on this server; pick one of: ${supported.join(', ') || 'none'}.`);
      return;
    }
    showNotice('');
    history.push(code);
    editor.set('');
    const li = document.createElement('li');
    li.className = 'cell';
    const entry = document.createElement('div');
    entry.className = 'entry';
    const prompt = document.createElement('span');
    prompt.className = 'prompt';
    const lines = code.split('\n');
    prompt.textContent = [look().prompt, ...lines.slice(1).map(() => look().more)].join('\n');
    const pre = document.createElement('pre');
    pre.className = 'code';
    pre.textContent = code;
    entry.append(prompt, pre);
    li.append(entry);
    ui.transcript.append(li);
    const controller = new AbortController();
    setBusy(controller);
    try {
      await execute(li, code, controller);
    } catch (err) {
      if (err.name === 'AbortError') {
        // The server lets a cell run on when its client leaves (its time
        // limit still ends it); Restart session ends it at once.
        appendTo(li, 'stderr', 'Stopped waiting. The entry runs on in the session until its time limit; Restart session ends it now.\n');
      } else if (err instanceof ApiError && err.status === 410) {
        session = null;
        appendTo(li, 'stderr', `${err.message} The next entry starts a new session.\n`);
      } else if (err instanceof ApiError && err.status === 404 && !session) {
        appendTo(li, 'stderr', 'This server does not offer sessions (POST /api/repl/sessions answered 404).\n');
      } else {
        if (err instanceof ApiError && err.status === 404) session = null;
        appendTo(li, 'stderr', `${err.message}\n`);
      }
    } finally {
      setBusy(null);
      describeSession();
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
      if (isActive()) editor.focus();
    }
  }

  ui.run.addEventListener('click', () => submit());
  ui.stop.addEventListener('click', () => busy?.abort());
  ui.restart.addEventListener('click', async () => {
    busy?.abort();
    ui.transcript.replaceChildren();
    note(`Session restarted: a fresh ${language} session starts with the next entry.`);
    await endSession();
    describeSession();
    editor.focus();
  });
  window.addEventListener('pagehide', () => {
    if (session) fetch(`/api/repl/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE', keepalive: true });
  });

  return {
    setRuntimes(runtimes) {
      supported = sessionLanguages(runtimes);
      describeSession();
    },
    setLanguage(name) {
      if (name === language) return;
      language = name;
      endSession();
      ui.transcript.replaceChildren();
      ui.prompt.textContent = look().prompt.trimEnd();
      editor.setLanguage(name);
      if (!editor.get()) editor.set(consoleExamples[name] ?? '');
      describeSession();
    },
    activate() {
      describeSession();
      editor.focus();
    },
  };
}
