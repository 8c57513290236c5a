# python.py — the session driver for Python (see runtimes/README.md, "Sessions").
#
# Speaks JSON lines with xxxd on fd 3 (never on stdout/stderr, which belong to
# the user's code): it writes {"type": "ready"} once, then for each
# {"type": "exec", "id", "code", "stdin"} it runs the cell the way the Python
# REPL does (every statement, and the repr() of a last expression statement
# as "value"), flushes stdout and stderr, and answers
# {"type": "done", "id", "value", "error", "cpu_ms", "memory_bytes"}.
# SIGINT (xxxd's timeout) raises KeyboardInterrupt in the cell only; between
# cells it is ignored. Globals persist in one namespace for the session.
import ast
import io
import json
import os
import resource
import signal
import sys
import time
import traceback

CTL = 3
VALUE_MAX = 64 * 1024

namespace = {"__name__": "__main__", "__builtins__": __builtins__}
running = False


def on_sigint(signum, frame):
    if running:
        raise KeyboardInterrupt


def send(msg):
    data = (json.dumps(msg) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(CTL, view)
        view = view[n:]


def flush_all():
    for f in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            f.flush()
        except Exception:
            pass


def error_of(exc):
    """{name, message, traceback} without the driver's own frames."""
    text = "".join(traceback.format_exception_only(type(exc), exc))
    if not isinstance(exc, SyntaxError):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + text
    return {"name": type(exc).__name__, "message": str(exc), "traceback": text}


def run_cell(code, filename):
    """Runs a cell; returns the repr of its last expression, or None."""
    tree = ast.parse(code, filename, "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    if tree.body:
        exec(compile(tree, filename, "exec"), namespace)
    if last is None:
        return None
    value = eval(compile(last, filename, "eval"), namespace)
    if value is None:
        return None
    namespace["_"] = value
    text = repr(value)
    if len(text) > VALUE_MAX:
        text = text[:VALUE_MAX] + "..."
    return text


def main():
    global running
    signal.signal(signal.SIGINT, on_sigint)
    ctl = os.fdopen(CTL, "rb", buffering=0)
    reader = io.BufferedReader(ctl, 1 << 16)
    send({"type": "ready", "pid": os.getpid()})
    count = 0
    while True:
        try:
            line = reader.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            return
        msg = json.loads(line)
        if msg.get("type") != "exec":
            continue
        count += 1
        sys.stdin = io.StringIO(msg.get("stdin") or "")
        cpu0 = time.process_time()
        value = error = None
        try:
            running = True
            try:
                value = run_cell(msg.get("code", ""), "<cell %d>" % count)
            finally:
                running = False
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included
            running = False
            if isinstance(exc, SystemExit):
                error = {"name": "SystemExit", "message": str(exc.code), "traceback": ""}
            else:
                error = error_of(exc)
        flush_all()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        send({
            "type": "done",
            "id": msg.get("id"),
            "value": value,
            "error": error,
            "cpu_ms": int((time.process_time() - cpu0) * 1000),
            "memory_bytes": usage.ru_maxrss * 1024,
        })


main()
