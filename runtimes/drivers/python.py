# python.py — the session driver for Python (see runtimes/README.md, "Sessions").
#
# Speaks JSON lines with xxxd on fd 3 (never on stdout/stderr, which belong to
# the user's code): it writes {"type": "ready"} once, then for each
# {"type": "exec", "id", "code", "stdin", "stdin_live"} it runs the cell the
# way the Python REPL does (every statement, and the repr() of a last
# expression statement as "value"), flushes stdout and stderr, and answers
# {"type": "done", "id", "value", "error", "cpu_ms", "memory_bytes"}.
# SIGINT (xxxd's timeout) raises KeyboardInterrupt in the cell only; between
# cells it is ignored. Globals persist in one namespace for the session.
#
# A reader thread owns fd 3: it queues exec frames for the main thread,
# which runs the cells. A live cell's ("stdin_live") sys.stdin is a pipe the
# reader makes at its exec frame: "stdin" first, then the data of
# {"type": "stdin", "id"} frames, and {"type": "stdin_close"} closes it. The
# reader never blocks on the pipe: what the cell has not read yet waits in
# memory, at most STDIN_MAX bytes (xxxd sends no more per cell; past it the
# rest is dropped). When the cell ends its pipe is dropped, and frames of
# other cells are ignored.
import ast
import base64
import io
import json
import os
import queue
import resource
import select
import signal
import sys
import threading
import time
import traceback

CTL = 3
VALUE_MAX = 64 * 1024
STDIN_MAX = 1 << 20

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


class LiveStdin:
    """One live cell's stdin pipe; the reader thread writes it, the cell reads it."""

    def __init__(self, cell_id, first):
        self.id = cell_id
        self.r, self.w = os.pipe()
        os.set_blocking(self.w, False)
        self.pending = bytearray()
        self.closing = False
        self.add(first)

    def add(self, data):
        if self.w >= 0 and not self.closing:
            self.pending += data[:max(0, STDIN_MAX - len(self.pending))]

    def flush(self):
        """Writes what the pipe takes now; closes it when asked and all is out."""
        try:
            while self.pending and self.w >= 0:
                n = os.write(self.w, self.pending)
                del self.pending[:n]
        except BlockingIOError:
            return
        except OSError:  # EPIPE: the cell ended and closed its end
            self.pending.clear()
            self.closing = True
        if self.closing and self.w >= 0 and not self.pending:
            os.close(self.w)
            self.w = -1


def read_frames(inbox):
    """The reader thread: every frame from fd 3; exec frames go to inbox."""
    # SIGINT must land on the main thread, which may be blocked reading stdin.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    live = None
    buf = b""
    try:
        while True:
            out = [live.w] if live and live.w >= 0 and live.pending else []
            readable, writable, _ = select.select([CTL], out, [])
            if writable:
                live.flush()
            if not readable:
                continue
            data = os.read(CTL, 1 << 16)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                kind = msg.get("type")
                if kind == "exec":
                    if live:  # the previous cell's, if it is still open
                        live.closing = True
                        live.pending.clear()
                        live.flush()
                    live = None
                    if msg.get("stdin_live"):
                        live = LiveStdin(msg.get("id"), (msg.get("stdin") or "").encode())
                        msg["stdin_fd"] = live.r
                    inbox.put(msg)
                elif live and msg.get("id") == live.id and kind == "stdin":
                    if "data_base64" in msg:
                        live.add(base64.b64decode(msg["data_base64"]))
                    else:
                        live.add(msg.get("data", "").encode("utf-8", "surrogateescape"))
                elif live and msg.get("id") == live.id and kind == "stdin_close":
                    live.closing = True
                if live:
                    live.flush()
    finally:
        inbox.put(None)


def main():
    global running
    signal.signal(signal.SIGINT, on_sigint)
    inbox = queue.Queue()
    threading.Thread(target=read_frames, args=(inbox,), daemon=True).start()
    send({"type": "ready", "pid": os.getpid()})
    count = 0
    while True:
        try:
            msg = inbox.get()
        except KeyboardInterrupt:
            continue
        if msg is None:
            return
        count += 1
        live_in = None
        if msg.get("stdin_fd") is not None:
            live_in = open(msg["stdin_fd"], "r", encoding="utf-8", errors="surrogateescape")
        sys.stdin = live_in if live_in is not None else io.StringIO(msg.get("stdin") or "")
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
        if live_in is not None:
            live_in.close()  # the reader drops the pipe's other end
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
