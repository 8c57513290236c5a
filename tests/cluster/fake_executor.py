#!/usr/bin/env python3
"""A scripted container-api for repl-api's session routing (test_cluster.sh).

fake_executor.py PORT NAME: (PORT 0: any free one, printed) answers /api/repl/sessions like an executor with
sessions would, tagging every answer with NAME so the test sees which
executor a call reached. Not a model of sessions: only of where calls go."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, NAME = int(sys.argv[1]), sys.argv[2]
sessions = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, {"status": "ok"})
        if self.path == "/api/repl/sessions":
            return self.answer(200, {"sessions": [{"id": s, "executor": NAME} for s in sessions],
                                     "count": len(sessions)})
        sid = self.path.rsplit("/", 1)[-1]
        if sid in sessions:
            return self.answer(200, {"id": sid, "executor": NAME})
        self.answer(404, {"error": {"code": "not_found", "message": "no session has this id"}})

    def do_POST(self):
        req = self.body()
        if self.path == "/api/repl/sessions":
            sid = "s%d" % (len(sessions) + 1)
            sessions[sid] = req.get("language")
            return self.answer(201, {"id": sid, "language": req.get("language"), "executor": NAME})
        parts = self.path.split("/")  # /api/repl/sessions/{id}/execute
        if len(parts) >= 6 and parts[4] in sessions and parts[5] == "execute":
            return self.answer(200, {"id": parts[4], "executor": NAME, "value": req.get("code")})
        self.answer(404, {"error": {"code": "not_found", "message": "no session has this id"}})

    def do_DELETE(self):
        sid = self.path.rsplit("/", 1)[-1]
        if sessions.pop(sid, None) is not None:
            return self.answer(200, {"id": sid, "executor": NAME})
        self.answer(404, {"error": {"code": "not_found", "message": "no session has this id"}})


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("fake executor %s listening on http://127.0.0.1:%d" % (NAME, server.server_address[1]), flush=True)
server.serve_forever()
