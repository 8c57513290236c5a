// Browser tests of the playground against a real xxxd (XXX_URL). Each test
// leaves a screenshot in SHOTS_DIR. Run by tests/web/test_web.sh.
import {
  BASE, test, run, expect, until, openPlayground, setCode, getCode, outputText, summaryStatus,
} from './lib.mjs';

async function api(path, init) {
  const resp = await fetch(`${BASE}${path}`, init);
  return { status: resp.status, headers: resp.headers, body: await resp.json().catch(() => null) };
}

async function waitIdle() {
  await until(async () => (await api('/api/containers/list')).body.containers.length === 0, 15000,
    'the server to have no run left');
}

test('the page loads from the server alone, with languages and versions', async ({ page, shot }) => {
  await openPlayground(page);
  const options = await page.$$eval('#language option', (os) => os.map((o) => [o.value, o.textContent]));
  const langs = (await api('/api/repl/languages')).body.runtimes;
  expect(options.length === langs.length, `${options.length} options for ${langs.length} runtimes`);
  const py = options.find(([v]) => v === 'python');
  expect(py && /python 3\.\d+/.test(py[1]), `python's option shows its version: ${py}`);
  expect((await page.inputValue('#language')) === 'python', 'python is picked first');
  const code = await getCode(page);
  expect(code.includes('print('), `a python starter example is in the editor: ${code}`);
  expect(await page.isVisible('.cm-editor .cm-content[aria-label="Code editor"]'), 'the editor is labelled');
  const hl = await page.$$eval('#editor .cm-line span[class]', (s) => s.length);
  expect(hl > 0, 'the python mode highlights the code');
  const csp = (await page.goto(`${BASE}/`)).headers()['content-security-policy'] ?? '';
  expect(csp.includes("default-src 'self'"), `the page is same-origin only: ${csp}`);
  await page.waitForSelector('body[data-ready="true"]');
  await shot('01-loaded');
});

test('python output streams in: the first line shows before the second exists', async ({ page, shot }) => {
  await openPlayground(page);
  await page.selectOption('#language', 'python');
  await setCode(page, 'import time\nprint("first line")\ntime.sleep(2)\nprint("second line")\n');
  await page.click('#run');
  await until(async () => (await outputText(page)).includes('first line'), 15000, 'the first line');
  const early = await outputText(page);
  expect(!early.includes('second line'), `the second line is not there yet: ${early}`);
  expect(await page.isDisabled('#run'), 'Run is disabled while the program runs');
  expect((await summaryStatus(page)) === null, 'no final status while running');
  await until(async () => (await summaryStatus(page)) === 'ok', 15000, 'the run to finish');
  expect((await outputText(page)).includes('second line'), 'then the second line arrives');
  const summary = await page.textContent('#summary');
  for (const w of ['Finished', 'exit code', 'wall', 'CPU', 'peak memory'])
    expect(summary.includes(w), `the summary shows ${w}: ${summary}`);
  expect(/wall\s*2\.\d\d s/.test(summary), `wall time about 2 s: ${summary}`);
  await shot('02-streaming');
});

test('stderr is styled apart from stdout; stdin and arguments reach the program', async ({ page, shot }) => {
  await openPlayground(page);
  await page.click('#io summary');
  await page.fill('#stdin', 'from stdin\n');
  await page.fill('#args', 'one\ntwo words');
  await setCode(page, 'import sys\nprint("out:", input(), sys.argv[1:])\nprint("oops: to stderr", file=sys.stderr)\nsys.exit(3)\n');
  await page.keyboard.press('Control+Enter');
  await until(async () => (await summaryStatus(page)) === 'runtime_error', 15000, 'the run to end');
  const out = await page.textContent('#output .stdout');
  expect(out.includes("out: from stdin ['one', 'two words']"), `stdout: ${out}`);
  const err = await page.textContent('#output .stderr');
  expect(err.includes('oops: to stderr'), `stderr: ${err}`);
  const [c1, c2] = await page.$$eval('#output .stdout, #output .stderr', (els) =>
    els.map((e) => getComputedStyle(e).color + '|' + getComputedStyle(e).backgroundColor));
  expect(c1 !== c2, `stdout and stderr look different: ${c1} vs ${c2}`);
  const summary = await page.textContent('#summary');
  expect(summary.includes('Exited with code 3'), summary);
  await shot('03-stderr');
});

test('a C compile error shows the compiler output apart from the run output', async ({ page, shot }) => {
  await openPlayground(page);
  await page.selectOption('#language', 'c');
  expect((await getCode(page)).includes('#include'), 'the C starter replaces the python one');
  await setCode(page, 'int main(void) { return missing; }\n');
  await page.keyboard.press('Control+Enter');
  await until(async () => (await summaryStatus(page)) === 'compile_error', 30000, 'the compile error');
  expect(await page.isVisible('#compile'), 'the compiler panel is shown');
  const text = await page.textContent('#compile-output');
  expect(text.includes("'missing' undeclared") || text.includes('‘missing’ undeclared'), `compiler output: ${text}`);
  expect((await outputText(page)) === '', 'the run output stays empty');
  expect((await page.textContent('#summary')).includes('Compilation failed'), 'the summary says so');
  await shot('04-compile-error');
});

test('Stop ends a runaway loop long before its time limit', async ({ page, shot }) => {
  await openPlayground(page);
  await setCode(page, 'print("spinning", flush=True)\nwhile True:\n    pass\n');
  await page.click('#run');
  await until(async () => (await outputText(page)).includes('spinning'), 15000, 'the loop to start');
  const t0 = Date.now();
  await page.click('#stop');
  await until(async () => (await summaryStatus(page)) === 'cancelled', 5000, 'the run to stop');
  expect(Date.now() - t0 < 5000, 'stopped within 5 s (the wall limit is 10 s)');
  await waitIdle();
  expect(await page.isEnabled('#run'), 'Run is enabled again');
  await shot('05-stopped');
});

test('a run killed by a limit says which limit', async ({ page, shot }) => {
  await openPlayground(page);
  await setCode(page, 'import sys\nwhile True:\n    sys.stdout.write("x" * 65536)\n');
  await page.click('#run');
  await until(async () => (await summaryStatus(page)) === 'output_limit', 20000, 'the output limit');
  const summary = await page.textContent('#summary');
  expect(/output limit of \d+ bytes/.test(summary), `the summary names the limit: ${summary}`);
  await shot('06-limit');
});

test('a shared link opens the same code, language, stdin and arguments', async ({ page, context, shot }) => {
  await openPlayground(page);
  await page.selectOption('#language', 'ruby');
  const code = 'name = $stdin.gets.strip\nputs "Hi, #{name} & #{ARGV.join("+")} ✓"\n';
  await setCode(page, code);
  await page.click('#io summary');
  await page.fill('#stdin', 'Ada\n');
  await page.fill('#args', 'a b\nc');
  await page.click('#share');
  const link = await until(async () => {
    const href = await page.evaluate(() => location.href);
    return href.includes('lang=ruby') && href.includes('stdin=') ? href : null;
  }, 3000, 'the link in the address');
  const other = await context.newPage();
  await other.goto(link);
  await other.waitForSelector('body[data-ready="true"]');
  expect((await other.inputValue('#language')) === 'ruby', 'the language travels');
  expect((await getCode(other)) === code.trimEnd() || (await getCode(other)) === code, `the code travels: ${await getCode(other)}`);
  expect((await other.inputValue('#stdin')) === 'Ada\n', 'stdin travels');
  expect((await other.inputValue('#args')) === 'a b\nc', 'arguments travel');
  await other.click('#run');
  await until(async () => (await summaryStatus(other)) === 'ok', 15000, 'the shared snippet to run');
  expect((await outputText(other)).includes('Hi, Ada & a b+c ✓'), await outputText(other));
  await other.screenshot({ path: `${process.env.SHOTS_DIR ?? 'build/web-shots'}/07-shared-link.png` });
  await other.close();
});

test('an unknown language in a link is named, with the languages there are', async ({ page, shot }) => {
  await openPlayground(page, '#lang=cobol&code=DISPLAY%20%22HI%22.');
  const notice = await page.textContent('#notice');
  expect(notice.includes('Unknown language "cobol"') && notice.includes('python'), notice);
  expect((await getCode(page)) === 'DISPLAY "HI".', 'the code is kept');
  await shot('08-unknown-language');
});

test('a full server answers 429 and the page says when to retry', async ({ page, shot }) => {
  // Start from an idle server: a run of an earlier test ending while the
  // hogs fill it would free a place, and the page's run would be queued.
  await waitIdle();
  const health = (await api('/health')).body;
  const fill = health.slots + health.queue_capacity;
  const hog = JSON.stringify({ language: 'python', code: 'import time\ntime.sleep(50)', limits: { wall_ms: 55000 } });
  const ctl = new AbortController();
  // One more than there is room for: the last is refused, so the server is full.
  const answers = [];
  const hogs = Array.from({ length: fill + 1 }, () =>
    fetch(`${BASE}/api/repl/execute`, { method: 'POST', body: hog, signal: ctl.signal })
      .then((r) => answers.push(r.status), () => {}));
  try {
    await until(async () => answers.includes(429), 15000, 'a run refused with 429 (every slot and queue place taken)');
    await openPlayground(page);
    await page.click('#run');
    await until(async () => !(await page.isHidden('#notice')), 10000, 'the notice');
    const notice = await page.textContent('#notice');
    expect(notice.includes('busy') && /Retry in \d+ s/.test(notice), notice);
    await shot('09-busy');
  } finally {
    for (const c of (await api('/api/containers/list')).body.containers)
      await fetch(`${BASE}/api/containers/${c.id}`, { method: 'DELETE' });
    ctl.abort();
    await Promise.all(hogs);
    await waitIdle();
  }
});

test('when the server is gone the page says so', async ({ page, shot }) => {
  await openPlayground(page);
  // The browser cannot reach the server any more: the connection is refused.
  await page.route('**/api/**', (route) => route.abort('connectionrefused'));
  await page.click('#run');
  await until(async () => !(await page.isHidden('#notice')), 10000, 'the notice');
  const notice = await page.textContent('#notice');
  expect(notice.includes('Cannot reach the xxx service'), notice);
  expect(await page.isEnabled('#run'), 'Run can be pressed again');
  await shot('10-server-gone');
});

test('phone-sized and dark: one column, everything reachable', async ({ page, shot }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPlayground(page);
  const [ed, out] = await Promise.all([page.locator('#editor').boundingBox(), page.locator('#output').boundingBox()]);
  expect(out.y > ed.y + ed.height - 1, 'the output is below the editor');
  expect(ed.width <= 390 && out.width <= 390, 'nothing wider than the screen');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg === 'rgb(13, 17, 23)', `dark background: ${bg}`);
  expect((await page.locator('#editor .cm-editor').evaluate((e) => getComputedStyle(e).backgroundColor)) !== 'rgb(255, 255, 255)', 'the editor is dark too');
  await page.click('#run');
  await until(async () => (await summaryStatus(page)) === 'ok', 15000, 'the run');
  await shot('11-phone-dark');
});

test('keyboard only: tab to the language picker, change it, run with Ctrl+Enter', async ({ page, shot }) => {
  await openPlayground(page);
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.id === 'language'), 'the language picker is reachable');
  await page.keyboard.press('ArrowDown'); // next language after python
  const lang = await page.inputValue('#language');
  expect(lang !== 'python', `picked ${lang} with the keyboard`);
  await page.keyboard.press('Control+Enter');
  await until(async () => ['ok', 'runtime_error'].includes(await summaryStatus(page)), 60000, 'the run');
  const labels = await page.$$eval('select, textarea, button', (els) =>
    els.filter((e) => !(e.labels?.length || e.textContent.trim() || e.getAttribute('aria-label'))).map((e) => e.id));
  expect(labels.length === 0, `every control is labelled; unlabelled: ${labels}`);
  await shot('12-keyboard');
});

// The console's client side against a scripted sessions API (the contract
// of the sessions branch, answered by page.route): prompts, values, tracebacks,
// restart, a session that ended (410) and a full server (429). The real
// server is exercised by the next test once sessions are merged.
test('console (scripted sessions API): values, tracebacks, restart, 410 and 429', async ({ page, shot }) => {
  const calls = [];
  let live = null;
  let n = 0;
  let vars = {};
  let full = false;
  const sse = (events) => events.map(([ev, data], i) => `id: ${i + 1}\nevent: ${ev}\n${String(data).split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`).join('');
  await page.route('**/api/repl/sessions**', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    calls.push(`${req.method()} ${url.pathname}`);
    const json = (status, body, headers = {}) => route.fulfill({ status, contentType: 'application/json', headers, body: JSON.stringify(body) });
    if (req.method() === 'POST' && url.pathname === '/api/repl/sessions') {
      if (full) return json(429, { error: { code: 'sessions_full', message: 'every session place is taken' } }, { 'Retry-After': '7' });
      live = `s${++n}`;
      vars = {};
      const now = Date.now();
      return json(201, { id: live, language: 'python', version: '3.11.2', created_at: new Date(now).toISOString(), expires_at: new Date(now + 600000).toISOString() });
    }
    const m = /^\/api\/repl\/sessions\/([^/]+)(\/execute\/stream)?$/.exec(url.pathname);
    if (!m) return json(404, { error: { code: 'not_found', message: 'no such endpoint' } });
    if (req.method() === 'DELETE') {
      live = null;
      return json(200, { id: m[1], message: 'Session closed' });
    }
    if (m[1] !== live) return json(410, { error: { code: 'session_ended', message: 'the session has ended' } });
    const { code } = JSON.parse(req.postData());
    let events;
    let set;
    if ((set = /^(\w+) = (.*)$/.exec(code))) {
      vars[set[1]] = String(eval(set[2]));
      events = [['result', JSON.stringify({ status: 'ok', value: null, execution_count: 1 })]];
    } else if (code === '1/0') {
      const tb = 'Traceback (most recent call last):\n  File "<console>", line 1, in <module>\nZeroDivisionError: division by zero\n';
      events = [['result', JSON.stringify({ status: 'error', error: { name: 'ZeroDivisionError', message: 'division by zero', traceback: tb } })]];
    } else if (code.startsWith('print(')) {
      events = [['stdout', 'hello\n'], ['result', JSON.stringify({ status: 'ok', value: null })]];
    } else if (code in vars) {
      events = [['result', JSON.stringify({ status: 'ok', value: vars[code] })]];
    } else {
      const tb = `Traceback (most recent call last):\n  File "<console>", line 1, in <module>\nNameError: name '${code}' is not defined\n`;
      events = [['result', JSON.stringify({ status: 'error', error: { name: 'NameError', message: '', traceback: tb } })]];
    }
    events.push(['done', 'Execution completed']);
    return route.fulfill({ status: 200, contentType: 'text/event-stream', body: sse(events) });
  });
  const enter = async (code) => {
    const before = (await page.$$('#transcript li.cell')).length;
    await setCode(page, code, '#console-editor');
    await page.keyboard.press('Enter');
    await until(async () => (await page.$$('#transcript li.cell')).length === before + 1 && (await page.isEnabled('#console-run')), 10000, `the entry ${code}`);
    return page.locator('#transcript li.cell').last();
  };
  await openPlayground(page);
  await page.click('#tab-console');
  expect(await page.isVisible('#console-view'), 'the console is shown');
  expect((await page.textContent('#prompt')).trim() === '>>>', 'python prompt');
  await enter('x = 6 * 7');
  expect(calls[0] === 'POST /api/repl/sessions', `the first entry starts a session: ${calls}`);
  const v = await enter('x');
  expect((await v.locator('.value').textContent()) === '42', 'the value shows as python would');
  expect((await v.locator('.prompt').textContent()) === '>>> ', 'the entry carries its prompt');
  const p = await enter('print("hello")');
  expect((await p.locator('.stdout').textContent()) === 'hello\n', 'streamed output shows');
  const e = await enter('1/0');
  const tb = await e.locator('.traceback').textContent();
  expect(tb.includes('Traceback (most recent call last)') && tb.includes('ZeroDivisionError'), tb);
  expect((await page.textContent('#session-state')).includes('Session s1'), await page.textContent('#session-state'));
  await shot('13-console');
  await page.click('#restart');
  await until(async () => calls.includes('DELETE /api/repl/sessions/s1'), 5000, 'the session to be closed');
  await until(async () => (await page.$$('#transcript li.cell')).length === 0, 5000, 'restart to clear the transcript');
  expect((await page.textContent('#transcript')).includes('Session restarted'), 'restart says so');
  const after = await enter('x');
  expect((await after.locator('.traceback').textContent()).includes('NameError'), 'a fresh session forgets x');
  expect(calls.filter((c) => c === 'POST /api/repl/sessions').length === 2, `restart made a new session: ${calls}`);
  live = null; // the server ended it (idle timeout)
  const ended = await enter('x');
  expect((await ended.textContent()).includes('The session has ended') && (await ended.textContent()).includes('next entry starts a new session'), await ended.textContent());
  full = true;
  const busy = await enter('x');
  expect(/busy.*Retry in 7 s/s.test(await busy.textContent()), await busy.textContent());
});

test('console: a variable set in one entry is read back in the next', async ({ page, shot }) => {
  await openPlayground(page);
  await page.click('#tab-console');
  await setCode(page, 'x = 6 * 7', '#console-editor');
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('#transcript li.cell')).length === 1 && (await page.isEnabled('#console-run')), 20000, 'the first entry');
  await setCode(page, 'x', '#console-editor');
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('#transcript li .value')).length === 1, 20000, 'a value');
  expect((await page.textContent('#transcript li .value')) === '42', await page.textContent('#transcript'));
  await setCode(page, '1/0', '#console-editor');
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('#transcript li .traceback')).length === 1, 20000, 'a traceback');
  const tb = await page.textContent('#transcript li .traceback');
  expect(tb.includes('ZeroDivisionError'), tb);
  await shot('14-console-real');
  await page.click('#restart');
  await setCode(page, 'x', '#console-editor');
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('#transcript li .traceback')).length === 1, 20000, 'the NameError');
  expect((await page.textContent('#transcript li .traceback')).includes('NameError'), 'restart forgets x');
});

run();
