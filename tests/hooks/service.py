#!/usr/bin/env python3
"""A real hook service for the trigger tests (tests/hooks/README.md).

Every request's Standard Webhooks signature is checked with the published `standardwebhooks`
library; a request that fails the check is answered 401 and recorded as such. Each verified
event is appended to the --log file as one JSON line {"path", "trigger", "event"}, then
answered by the handler module that owns the path (each module lists its `ROUTES`: path ->
function(event) -> (status, answer); an answer that is not bytes or str is sent as JSON).

    python3 service.py --secret whsec_... --handlers lifecycle,migration --log calls.jsonl \
        --port-file port
"""

import argparse
import importlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--handlers", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    routes = {}
    for name in args.handlers.split(","):
        routes.update(importlib.import_module(name).ROUTES)
    webhook = Webhook(args.secret)
    lock = threading.Lock()

    def record(entry):
        with lock, open(args.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = webhook.verify(body, dict(self.headers.items()))
            except Exception as error:  # the library's WebhookVerificationError and bad JSON
                record({"path": self.path, "error": f"signature: {error}"})
                return self.reply(401, {"errorMessage": "bad signature"})
            record({"path": self.path, "trigger": self.headers.get("x-gatehouse-trigger"),
                    "event": event})
            handler = routes.get(self.path)
            if handler is None:
                return self.reply(404, {"errorMessage": f"no handler for {self.path}"})
            try:
                status, answer = handler(event)
            except Exception as error:
                return self.reply(500, {"errorMessage": f"handler crashed: {error!r}"})
            self.reply(status, answer)

        def reply(self, status, answer):
            if isinstance(answer, str):
                payload, kind = answer.encode(), "text/plain"
            elif isinstance(answer, bytes):
                payload, kind = answer, "application/octet-stream"
            else:
                payload, kind = json.dumps(answer).encode(), "application/json"
            try:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server gave up waiting (the slow-hook tests)

        def log_message(self, *args):
            pass  # the events hold passwords and codes: never printed

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
