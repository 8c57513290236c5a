// node.js — the session driver for Node (see runtimes/README.md, "Sessions").
//
// JSON lines with xxxd on fd 3, never on stdout/stderr: {"type": "ready"}
// once, then for each {"type": "exec", "id", "code", "stdin", "timeout_ms"}
// the cell runs in one persistent vm context (top-level let/const/function
// persist, as in the Node REPL), and the answer is {"type": "done", "id",
// "value" (util.inspect of the completion value, as the REPL prints it),
// "error", "timed_out", "cpu_ms", "memory_bytes"}. A synchronous endless
// loop is stopped by vm's own timeout (the cell's timeout_ms). SIGINT is
// ignored, always: vm's breakOnSigint would add nothing the timeout does not
// do, and it drops the process's SIGINT listeners while a cell runs, so a
// SIGINT landing as the cell ends would kill the interpreter.
'use strict';
const net = require('net');
const util = require('util');
const vm = require('vm');
const { Readable } = require('stream');
const { createRequire } = require('module');

const VALUE_MAX = 64 * 1024;
const ctl = new net.Socket({ fd: 3, readable: true, writable: true });

// What a script sees as globals: the usual ones of a Node program, with a
// require that resolves from the workdir (as the Node REPL's does).
const userRequire = createRequire(process.cwd() + '/[repl]');
const sandbox = {
  console, process, Buffer, require: userRequire, module: { exports: {}, require: userRequire },
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
  queueMicrotask, URL, URLSearchParams, TextEncoder, TextDecoder, structuredClone,
  __filename: '/box/[repl]', __dirname: '/box',
};
sandbox.exports = sandbox.module.exports;
sandbox.global = sandbox;
sandbox.globalThis = sandbox;
const context = vm.createContext(sandbox);

process.on('SIGINT', () => {}); // see the top: the cell's own timeout stops it
process.on('uncaughtException', (err) => {
  // An error thrown later by a callback of the user's code must not end the session.
  process.stderr.write(`Uncaught ${util.inspect(err)}\n`);
});

function send(msg) {
  ctl.write(JSON.stringify(msg) + '\n');
}

function errorOf(err, timedOut) {
  if (timedOut || (err && (err.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' ||
                           err.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')))
    return { name: 'Interrupt', message: String(err && err.message), traceback: '' };
  if (err instanceof Error || (err && typeof err === 'object' && 'stack' in err)) {
    const stack = String(err.stack || '').split('\n')
      .filter((l) => !l.startsWith('    at ') || l.includes('[cell '))
      .join('\n');
    return { name: String(err.name || 'Error'), message: String(err.message), traceback: stack };
  }
  return { name: 'Uncaught', message: util.inspect(err), traceback: '' };
}

let count = 0;
function runCell(msg) {
  count++;
  const stdin = Readable.from([Buffer.from(msg.stdin || '')]);
  Object.defineProperty(process, 'stdin', { value: stdin, configurable: true, writable: true });
  const cpu0 = process.cpuUsage();
  let value = null;
  let error = null;
  let timedOut = false;
  try {
    const script = new vm.Script(msg.code || '', { filename: `[cell ${count}]` });
    const opts = { displayErrors: false };
    if (msg.timeout_ms > 0) opts.timeout = msg.timeout_ms;
    const v = script.runInContext(context, opts);
    sandbox._ = v;
    value = util.inspect(v);
    if (value.length > VALUE_MAX) value = value.slice(0, VALUE_MAX) + '...';
  } catch (err) {
    timedOut = !!(err && err.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT');
    error = errorOf(err, false);
  }
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'done', id: msg.id, value, error, timed_out: timedOut,
    cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    memory_bytes: process.memoryUsage().rss,
  });
}

let pending = '';
ctl.setEncoding('utf8');
ctl.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    const msg = JSON.parse(line);
    if (msg.type === 'exec') runCell(msg);
  }
});
ctl.on('end', () => process.exit(0));
ctl.on('error', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
