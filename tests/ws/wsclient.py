#!/usr/bin/env python3
"""wsclient.py - a minimal RFC 6455 client (standard library only) and the
scenarios tests/ws/test_ws.sh runs against a real xxxd.

Usage: wsclient.py SCENARIO URL. Each scenario prints one line per fact it
saw ("event ..."), then "close CODE" and exits 0 when it could talk to the
server at all; the shell test asserts on what was printed."""
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse

TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(code)
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, url, path="/api/repl/connect", timeout=30):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = self.sock.recv(1)
            if not b:
                raise RuntimeError("no handshake answer")
            head += b
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError("handshake refused: " + head.decode(errors="replace"))
        import hashlib
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if ("sec-websocket-accept: " + want).lower().encode() not in head.lower():
            raise RuntimeError("bad Sec-WebSocket-Accept: " + head.decode(errors="replace"))
        self.buf = b""
        self.stdout = ""  # all stdout text so far

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send(self, obj):
        self.send_frame(TEXT, json.dumps(obj).encode())

    def _read(self, n):
        while len(self.buf) < n:
            b = self.sock.recv(65536)
            if not b:
                raise Closed(1006, "connection dropped")
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """Returns the next message as a dict (text) or bytes; raises Closed."""
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if b1 & 0x80:
                raise RuntimeError("server frames must not be masked")
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            if op == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.send_frame(CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode(errors="replace"))
            if op == PING:
                self.send_frame(PONG, payload)
                continue
            if op == TEXT:
                m = json.loads(payload)
                if m.get("type") == "stdout":
                    self.stdout += m.get("data", "")
                return m
            return payload


def show(msg):
    if isinstance(msg, dict):
        print("event", json.dumps(msg, sort_keys=True), flush=True)
    else:
        print("binary", len(msg), flush=True)


def drain(ws):
    """Prints every message until the close; prints the close code."""
    try:
        while True:
            show(ws.recv())
    except Closed as c:
        print("stdout", json.dumps(ws.stdout), flush=True)
        print("close", c.code, flush=True)


def until(ws, pred):
    """Prints messages until one satisfies pred; returns it."""
    while True:
        m = ws.recv()
        show(m)
        if pred(m):
            return m


def two_lines_live(ws):
    """Sends the line "first", then "second" only after the answer to the first
    ("got first") was seen, 500 ms later: the order of the printed facts
    proves each line was live."""
    ws.send({"type": "stdin", "data": "first\n"})
    print("sent first", flush=True)
    until(ws, lambda m: "got first\n" in ws.stdout)
    print("saw got first", flush=True)
    time.sleep(0.5)
    print("stdout before the second line", json.dumps(ws.stdout), flush=True)
    ws.send({"type": "stdin", "data": "second\n"})
    print("sent second", flush=True)


def two_lines(url):
    # The program answers each line as it gets it.
    code = ("a = input()\nprint('got', a, flush=True)\n"
            "b = input()\nprint('got', b, flush=True)\n")
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    until(ws, lambda m: isinstance(m, dict) and m.get("stage") == "run")
    two_lines_live(ws)
    drain(ws)


def stdin_bytes(url, target):
    """A python program or cell (target: the execute fields that say which)
    reads all of stdin: the request's "abc", then text, then a binary frame
    (not UTF-8), then EOF."""
    code = "import sys\nd = sys.stdin.buffer.read()\nprint(len(d), d)\n"
    ws = WS(url)
    ws.send(dict(target, type="execute", code=code, stdin="abc"))
    ws.send({"type": "stdin", "data": "de"})
    ws.send_frame(BINARY, b"\xff\x00")
    ws.send({"type": "stdin_close"})
    drain(ws)


def stdin_close(url):
    stdin_bytes(url, {"language": "python"})


def kill(url):
    code = "import time\nprint('looping', flush=True)\nwhile True: time.sleep(0.05)\n"
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    until(ws, lambda m: "looping\n" in ws.stdout)
    ws.send({"type": "signal", "signal": "SIGKILL"})
    drain(ws)


def interrupt(url):
    # SIGINT reaches the program itself (Python raises KeyboardInterrupt),
    # which handles it and ends on its own: status ok, not cancelled.
    code = ("import time\ntry:\n    print('waiting', flush=True)\n    time.sleep(30)\n"
            "except KeyboardInterrupt:\n    print('interrupted', flush=True)\n")
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    until(ws, lambda m: "waiting\n" in ws.stdout)
    ws.send({"type": "signal", "signal": "SIGINT"})
    drain(ws)


def bad_signal(url):
    code = "input()\n"
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    until(ws, lambda m: isinstance(m, dict) and m.get("stage") == "run")
    ws.send({"type": "signal", "signal": "SIGSTOP"})
    until(ws, lambda m: isinstance(m, dict) and m.get("type") == "error")
    ws.send({"type": "stdin", "data": "x\n"})
    drain(ws)


def not_json(url):
    ws = WS(url)
    ws.send_frame(TEXT, b"this is not json")
    drain(ws)


def wrong_type(url):
    ws = WS(url)
    ws.send({"type": "stdin", "data": "x"})
    drain(ws)


def unknown_language(url):
    ws = WS(url)
    ws.send({"type": "execute", "language": "cobol", "code": "x"})
    drain(ws)


def binary_first(url):
    ws = WS(url)
    ws.send_frame(BINARY, b"print(1)")
    drain(ws)


def oversized(url):
    ws = WS(url)
    big = "x" * (2 << 20)
    try:
        ws.send({"type": "execute", "language": "python", "code": big})
    except OSError as e:  # the server may close while we still send
        print("send failed", e, flush=True)
    drain(ws)


def session_hook(url):
    ws = WS(url)
    ws.send({"type": "execute", "session": "0123", "code": "x = 1"})
    drain(ws)


def http_json(url, method, path, body=None):
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(url + path, data=data, method=method,
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def cell(url, sid, code, **more):
    """Runs code in session sid over a WebSocket of its own; prints what came."""
    ws = WS(url)
    ws.send(dict(more, type="execute", session=sid, code=code))
    drain(ws)


def interrupted_cell(url, sid, code, marker):
    """Runs code in session sid, sends SIGINT once marker was printed."""
    ws = WS(url)
    ws.send({"type": "execute", "session": sid, "code": code})
    until(ws, lambda m: marker in ws.stdout)
    ws.send({"type": "signal", "signal": "SIGINT"})
    drain(ws)


def session_exec(url):
    # A session made over HTTP; two executions over two WebSockets share its
    # state; the second prints (streamed) and answers a value; a third loops
    # and is interrupted with SIGINT, and the session still answers.
    sid = http_json(url, "POST", "/api/repl/sessions", {"language": "python"})["id"]
    cell(url, sid, "x = 20")
    cell(url, sid, "print(x + 1)\nx * 2", stdin="")
    interrupted_cell(url, sid, "print('spinning', flush=True)\nwhile True: pass", "spinning\n")
    cell(url, sid, "x")
    http_json(url, "DELETE", "/api/repl/sessions/" + sid)


def session_lines(url, language, code, reader):
    """A session cell that reads three lines: "zero" from the request, then
    "first" and "second" sent live, 500 ms apart, the second only once the
    answer to the first was seen; then stdin_close (EOF). The session's
    state (x = 41, set before) is there during and after the cell. Then
    SIGINT reaches a cell (reader) that waits for stdin."""
    sid = http_json(url, "POST", "/api/repl/sessions", {"language": language})["id"]
    cell(url, sid, "x = 41")
    ws = WS(url)
    ws.send({"type": "execute", "session": sid, "code": code, "stdin": "zero\n"})
    two_lines_live(ws)
    until(ws, lambda m: "got second\n" in ws.stdout)
    ws.send({"type": "stdin_close"})
    print("sent stdin_close", flush=True)
    drain(ws)
    cell(url, sid, "a")
    interrupted_cell(url, sid, reader, "reading\n")
    cell(url, sid, "x")
    http_json(url, "DELETE", "/api/repl/sessions/" + sid)


def session_two_lines(url):
    session_lines(url, "python", "for _ in range(3):\n    a = input()\n    print('got', a, flush=True)\n"
                  "try:\n    input()\nexcept EOFError as e:\n    print('EOFError', flush=True)\n"
                  "x + 1\n", "print('reading', flush=True)\ninput()\n")


def session_two_lines_ruby(url):
    session_lines(url, "ruby", "a = nil\n3.times { a = gets; puts \"got #{a}\" }\n"
                  "puts \"gets after close: #{gets.inspect}\"\nx + 1\n", "puts 'reading'\ngets\n")


def session_stdin_bytes(url):
    # Request stdin, text and binary stdin (not UTF-8), then EOF; past the
    # per-execution bound (1 MiB), the rest is dropped with an error.
    sid = http_json(url, "POST", "/api/repl/sessions", {"language": "python"})["id"]
    stdin_bytes(url, {"session": sid})
    code = "import sys\nprint('read', len(sys.stdin.buffer.read()))\n"
    ws = WS(url)
    ws.send({"type": "execute", "session": sid, "code": code})
    for _ in range(5):
        ws.send({"type": "stdin", "data": "x" * 250000})
        time.sleep(0.1)
    ws.send({"type": "stdin_close"})
    drain(ws)
    http_json(url, "DELETE", "/api/repl/sessions/" + sid)


def session_no_live_stdin(url):
    # PHP's driver takes no live stdin: a stdin message is an error message
    # (the cell goes on with its request's stdin).
    sid = http_json(url, "POST", "/api/repl/sessions", {"language": "php"})["id"]
    ws = WS(url)
    ws.send({"type": "execute", "session": sid, "code": "usleep(1500000); 6 * 7"})
    ws.send({"type": "stdin", "data": "ignored\n"})
    drain(ws)
    http_json(url, "DELETE", "/api/repl/sessions/" + sid)


def hold(url):
    ws = WS(url)
    print("open", flush=True)
    time.sleep(4)


def binary_output(url):
    code = "import sys\nsys.stdout.buffer.write(b'caf\\xe9\\n')\n"
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    drain(ws)


def compiled(url):
    code = "#include <stdio.h>\nint main(void){char s[16]; if(!fgets(s,16,stdin)) return 1; printf(\"C got %s\", s); return 0;}\n"
    ws = WS(url)
    ws.send({"type": "execute", "language": "c", "code": code})
    until(ws, lambda m: isinstance(m, dict) and m.get("stage") == "run")
    ws.send({"type": "stdin", "data": "hello\n"})
    drain(ws)


def client_leaves(url):
    code = "import time\nprint('up', flush=True)\ntime.sleep(30)\n"
    ws = WS(url)
    ws.send({"type": "execute", "language": "python", "code": code})
    until(ws, lambda m: "up\n" in ws.stdout)
    ws.sock.close()
    print("left", flush=True)


if __name__ == "__main__":
    try:
        globals()[sys.argv[1]](sys.argv[2])
    except RuntimeError as e:
        print("error", e, flush=True)
        sys.exit(1)
    except Closed as c:
        print("close", c.code, flush=True)
