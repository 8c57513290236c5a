// A small harness for the playground's browser tests: Debian's chromium,
// headless, kept off the network; one page per test; a screenshot per test;
// "ok NAME" / "FAIL NAME" lines and a closing "N passed, N failed" line.
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const BASE = process.env.XXX_URL ?? 'http://127.0.0.1:3002';
export const SHOTS = process.env.SHOTS_DIR ?? 'build/web-shots';
const CHROMIUM = process.env.CHROMIUM ??
  ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));

// Flags that keep chromium from reaching anything but our server.
const OFFLINE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-sync',
  '--disable-client-side-phishing-detection',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-pings',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
  `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(BASE).hostname}`,
  '--proxy-server=http://127.0.0.1:9',
  `--proxy-bypass-list=${new URL(BASE).host}`,
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS });
}

const tests = [];
export function test(name, fn) {
  tests.push({ name, fn });
}

// Fails with what was wanted and what was found.
export function expect(cond, what) {
  if (!cond) throw new Error(what);
}

// Polls fn until it returns a truthy value or ms pass.
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function run() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launch();
  let pass = 0;
  let fail = 0;
  const only = process.argv.slice(2);
  for (const t of tests) {
    if (only.length && !only.some((o) => t.name.includes(o))) continue;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Every request must go to our server; anything else is a failure.
    const foreign = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(BASE) || url.startsWith('data:')) return route.fallback();
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
    try {
      await t.fn({ page, context, shot, browser });
      expect(foreign.length === 0, `the page asked for something off the server: ${foreign.join(', ')}`);
      expect(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join('; ')}`);
      pass++;
      console.log(`ok   ${t.name}`);
    } catch (err) {
      fail++;
      console.log(`FAIL ${t.name}\n     ${String(err.stack ?? err).split('\n').slice(0, 4).join('\n     ')}`);
      await shot(`FAILED-${t.name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
    }
    await context.close();
  }
  await browser.close();
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail || !pass ? 1 : 0);
}

// ---- page helpers ----

export async function openPlayground(page, fragment = '') {
  await page.goto(`${BASE}/${fragment}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
}

// Replaces the editor's text as a user would: select all, then type it in
// one input event (no auto-indent or bracket closing in the way).
export async function setCode(page, code, selector = '#editor') {
  await page.click(`${selector} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(code);
}

export async function getCode(page, selector = '#editor') {
  return page.evaluate((sel) => {
    const lines = [...document.querySelectorAll(`${sel} .cm-line`)].map((l) => l.textContent);
    return lines.join('\n');
  }, selector);
}

export const outputText = (page) => page.textContent('#output');
export const summaryStatus = (page) =>
  page.evaluate(() => document.querySelector('#summary .status')?.dataset.status ?? null);
