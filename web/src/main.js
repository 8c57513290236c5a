// The playground page: picks a language, edits, runs with live output, shares
// links; the console tab (console.js) runs entries in a session.
import { getJSON, sendJSON, stream, describeStatus, formatBytes, formatMs, ApiError } from './api.js';
import { createEditor } from './editor.js';
import { starter } from './examples.js';
import { readFragment, fragmentFor, shareUrl } from './share.js';
import { createConsole } from './console.js';

const $ = (id) => document.getElementById(id);
const ui = {
  language: $('language'),
  version: $('version'),
  run: $('run'),
  stop: $('stop'),
  reset: $('reset'),
  share: $('share'),
  stdin: $('stdin'),
  args: $('args'),
  io: $('io'),
  notice: $('notice'),
  summary: $('summary'),
  compile: $('compile'),
  compileOutput: $('compile-output'),
  output: $('output'),
  tabRun: $('tab-run'),
  tabConsole: $('tab-console'),
  runView: $('run-view'),
  consoleView: $('console-view'),
};

const state = {
  runtimes: [], // entries of /api/repl/languages "runtimes"
  language: null,
  drafts: new Map(), // language -> code typed for it in this page
  mode: 'run',
  running: null, // {controller, runId}
};

// Output kept in the page is bounded: a program may print its whole cap.
const PAGE_OUTPUT_LIMIT = 2 * 1024 * 1024;

export function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

// ---- editor and fragment ----

let fragmentTimer = 0;
function saveFragment() {
  clearTimeout(fragmentTimer);
  fragmentTimer = setTimeout(() => {
    if (!state.language) return;
    const frag = fragmentFor(currentSnippet());
    if (frag !== location.hash) history.replaceState(null, '', frag);
  }, 250);
}

function currentSnippet() {
  return {
    lang: state.language,
    code: editor.get(),
    stdin: ui.stdin.value,
    args: ui.args.value,
    mode: state.mode,
  };
}

const editor = createEditor($('editor'), {
  label: 'Code editor',
  onRun: () => run(),
  onChange: saveFragment,
});
ui.stdin.addEventListener('input', saveFragment);
ui.args.addEventListener('input', saveFragment);

function runtimeFor(name) {
  return state.runtimes.find((r) => r.language === name || (r.aliases ?? []).includes(name));
}

async function selectLanguage(name, { code } = {}) {
  if (state.language) state.drafts.set(state.language, editor.get());
  state.language = name;
  ui.language.value = name;
  const rt = runtimeFor(name);
  ui.version.textContent = rt?.version ? `version ${rt.version}` : '';
  editor.set(code ?? state.drafts.get(name) ?? starter(name));
  await editor.setLanguage(name);
  consoleView.setLanguage(name);
  saveFragment();
}

function applyFragment() {
  const f = readFragment();
  if (!f.lang && !f.code) return false;
  if (f.stdin !== undefined) ui.stdin.value = f.stdin;
  if (f.args !== undefined) ui.args.value = f.args;
  if (f.stdin || f.args) ui.io.open = true;
  let lang = f.lang ?? state.language ?? 'python';
  const rt = runtimeFor(lang);
  if (!rt) {
    const known = state.runtimes.map((r) => r.language).join(', ');
    showNotice(`Unknown language "${lang}" in this link. This server runs: ${known}. Showing the code with ${state.runtimes[0]?.language ?? 'no language'}.`);
    lang = state.runtimes[0]?.language;
    if (!lang) return false;
  } else {
    lang = rt.language;
  }
  selectLanguage(lang, { code: f.code ?? starter(lang) });
  if (f.mode === 'console') setMode('console');
  return true;
}

window.addEventListener('hashchange', () => {
  // Only a link pasted or followed by hand: our own replaceState fires no event.
  if (state.runtimes.length) applyFragment();
});

// ---- languages ----

async function loadLanguages() {
  try {
    const data = await getJSON('/api/repl/languages');
    state.runtimes = data.runtimes ?? (data.languages ?? []).map((l) => ({ language: l }));
  } catch (err) {
    showNotice(err.message);
    ui.language.innerHTML = '<option>unavailable</option>';
    return false;
  }
  ui.language.replaceChildren(
    ...state.runtimes.map((r) => {
      const o = document.createElement('option');
      o.value = r.language;
      o.textContent = r.version ? `${r.language} ${shortVersion(r.version)}` : r.language;
      return o;
    }),
  );
  ui.language.disabled = false;
  consoleView.setRuntimes(state.runtimes);
  return true;
}

function shortVersion(v) {
  const m = /^\d+(\.\d+){0,2}/.exec(v);
  return m ? m[0] : v;
}

ui.language.addEventListener('change', () => {
  showNotice('');
  selectLanguage(ui.language.value);
});

ui.reset.addEventListener('click', () => {
  editor.set(starter(state.language));
  editor.focus();
});

// ---- running ----

function setRunning(r) {
  state.running = r;
  ui.run.disabled = !!r;
  ui.stop.disabled = !r;
  ui.language.disabled = !!r;
}

let outputSize = 0;
function appendOutput(streamName, text) {
  if (outputSize >= PAGE_OUTPUT_LIMIT) return;
  if (outputSize + text.length > PAGE_OUTPUT_LIMIT) {
    text = text.slice(0, PAGE_OUTPUT_LIMIT - outputSize) + '\n[output trimmed in the page]\n';
  }
  outputSize += text.length;
  const last = ui.output.lastElementChild;
  if (last && last.className === streamName) last.append(text);
  else {
    const span = document.createElement('span');
    span.className = streamName;
    span.textContent = text;
    ui.output.append(span);
  }
  ui.output.scrollTop = ui.output.scrollHeight;
}

function renderSummary(result) {
  ui.summary.replaceChildren();
  const status = document.createElement('span');
  const good = result.status === 'ok';
  status.className = `status ${good ? 'ok' : 'bad'}`;
  status.textContent = describeStatus({ ...result, message: '' });
  status.dataset.status = result.status;
  const dl = document.createElement('dl');
  // A compile error never ran the program: its figures are the compiler's.
  const compileFailed = result.status === 'compile_error' && result.compile;
  const step = compileFailed ? result.compile : result;
  const stats = step.stats ?? {};
  const items = [
    [compileFailed ? 'compiler exit code' : 'exit code', step.exit_code ?? '–'],
    ['wall', formatMs(stats.wall_ms)],
    ['CPU', formatMs(stats.cpu_ms)],
    ['peak memory', formatBytes(stats.memory_bytes)],
  ];
  if (step.signal) items.splice(1, 0, ['signal', step.signal]);
  if (result.compile && !compileFailed) items.push(['compile', formatMs(result.compile.stats?.wall_ms)]);
  for (const [k, v] of items) {
    const div = document.createElement('div');
    div.className = 'stat';
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    div.append(dt, dd);
    dl.append(div);
  }
  ui.summary.append(status, dl);
  if (result.message && result.status !== 'cancelled') {
    const m = document.createElement('span');
    m.className = 'message';
    m.textContent = result.message;
    ui.summary.append(m);
  }
}

function renderCompile(result) {
  const c = result.compile;
  const text = c?.output ?? '';
  ui.compile.hidden = !(c && (text || result.status === 'compile_error'));
  ui.compileOutput.textContent = text || '(the compiler printed nothing)';
}

function runningSummary(text) {
  ui.summary.replaceChildren();
  const s = document.createElement('span');
  s.className = 'status running';
  s.textContent = text;
  ui.summary.append(s);
}

async function run() {
  if (state.running || !state.language) return;
  showNotice('');
  ui.output.replaceChildren();
  ui.output.dataset.empty = '';
  outputSize = 0;
  ui.compile.hidden = true;
  const rt = runtimeFor(state.language);
  runningSummary(rt?.compiled ? 'Compiling and running…' : 'Running…');
  const controller = new AbortController();
  const current = { controller, runId: null, stopped: false };
  setRunning(current);
  const body = { language: state.language, code: editor.get() };
  if (ui.stdin.value) body.stdin = ui.stdin.value;
  const args = ui.args.value.split('\n').filter((a, i, all) => a !== '' || i < all.length - 1);
  if (ui.args.value) body.args = args;
  try {
    const result = await stream('/api/repl/execute/stream', body, {
      onStart: ({ runId }) => (current.runId = runId),
      onOutput: appendOutput,
      onError: (e) => showNotice(e.message ?? 'the server reported an error'),
    }, { signal: controller.signal });
    renderSummary(result);
    renderCompile(result);
    if (!ui.output.firstChild) ui.output.dataset.empty = result.status === 'compile_error' ? 'The program did not run.' : '(no output)';
  } catch (err) {
    if (err.name === 'AbortError' || current.stopped) {
      runningSummary('Stopped');
      ui.summary.firstChild.className = 'status bad';
      ui.summary.firstChild.dataset.status = 'cancelled';
    } else {
      ui.summary.textContent = err instanceof ApiError && err.status ? `Not run (${err.status})` : 'Not run';
      showNotice(err.message);
    }
  } finally {
    setRunning(null);
  }
}

// Stop: ask the server to cancel the run (DELETE), and drop the stream. The
// server also cancels a run whose client went away, so the abort alone is
// enough when the DELETE cannot be sent.
async function stop() {
  const r = state.running;
  if (!r) return;
  r.stopped = true;
  ui.stop.disabled = true;
  if (r.runId) {
    try {
      await sendJSON('DELETE', `/api/containers/${encodeURIComponent(r.runId)}`);
    } catch {
      /* finished meanwhile, or the server is gone: the abort below covers it */
    }
  }
  r.controller.abort();
}

ui.run.addEventListener('click', () => run());
ui.stop.addEventListener('click', () => stop());
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && state.mode === 'run' && !ev.defaultPrevented) {
    ev.preventDefault();
    run();
  }
});

// ---- sharing ----

ui.share.addEventListener('click', async () => {
  const url = shareUrl(currentSnippet());
  history.replaceState(null, '', fragmentFor(currentSnippet()));
  try {
    await navigator.clipboard.writeText(url);
    ui.share.textContent = 'Link copied';
  } catch {
    window.prompt('Copy this link:', url);
  }
  setTimeout(() => (ui.share.textContent = 'Copy link'), 2000);
});

// ---- modes ----

function setMode(mode) {
  state.mode = mode;
  const consoleOn = mode === 'console';
  ui.tabRun.setAttribute('aria-selected', String(!consoleOn));
  ui.tabConsole.setAttribute('aria-selected', String(consoleOn));
  ui.runView.hidden = consoleOn;
  ui.consoleView.hidden = !consoleOn;
  ui.share.hidden = consoleOn;
  if (consoleOn) consoleView.activate();
  saveFragment();
}
ui.tabRun.addEventListener('click', () => setMode('run'));
ui.tabConsole.addEventListener('click', () => setMode('console'));
for (const tab of [ui.tabRun, ui.tabConsole]) {
  tab.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') {
      const other = tab === ui.tabRun ? ui.tabConsole : ui.tabRun;
      other.focus();
      other.click();
    }
  });
}

const consoleView = createConsole({ showNotice, isActive: () => state.mode === 'console' });

// ---- start ----

(async () => {
  if (!(await loadLanguages())) return;
  if (!applyFragment()) {
    const first = runtimeFor('python') ? 'python' : state.runtimes[0]?.language;
    if (first) await selectLanguage(first);
  }
  document.body.dataset.ready = 'true';
})();
