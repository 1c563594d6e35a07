#!/usr/bin/env python3
"""A real HTTP webhook receiver for outreach-service's integration tests (how SMS and push gateways are integrated).

outreach-service POSTs SMS and push messages as JSON, signed with X-C360-Signature: sha256=<hex HMAC-SHA256 of the
body under a shared secret>. Its tests send to this receiver (the standard library's ThreadingHTTPServer) instead of
a mock. It listens on an ephemeral loopback port, writes the port to --port-file once it accepts connections (the
tests' readiness signal), checks each request's signature against --secret the way a real gateway would, appends it
to --out as one JSON line with the keys path, headers (lower-case names), body and signature_valid, and answers
200 {"id": "<uuid>"}. --fail-first N answers the first N requests 503 and records nothing for them, to test retries.
SIGTERM or SIGINT stops it (exit 0).
"""
import argparse
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read_body(handler):
    """The request body, whether sent with Content-Length or chunked."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline().strip():  # trailers, up to the empty line
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()  # the CRLF after each chunk
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def write_port(path, port):
    """Writes the port under a temporary name and renames it, so a reader never sees a partial file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        file.write(f"{port}\n")
    os.replace(temporary, path)


def main():
    summary, details = __doc__.split("\n\n", 1)
    parser = argparse.ArgumentParser(description=summary, epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-file", required=True, help="file the bound port is written to once listening")
    parser.add_argument("--out", required=True, help="JSON-lines file each accepted request is appended to")
    parser.add_argument("--secret", required=True, help="the shared secret of the HMAC-SHA256 signature")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer the first N requests 503 (default: 0)")
    args = parser.parse_args()
    # A parent that blocks signals in its threads (the Swift test runner does) passes the mask on: unblock the ones
    # that stop us, or SIGTERM would wait forever.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.fail_first < 0:
        parser.error("--fail-first must be 0 or more")
    secret = args.secret.encode("utf-8")
    state = {"fail": args.fail_first}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps a client's connection open between requests, as a real gateway would; every answer below
        # carries a Content-Length.
        protocol_version = "HTTP/1.1"

        def answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = read_body(self)
            expected = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
            # Header values arrive decoded as ISO-8859-1; back to their bytes for a constant-time comparison.
            given = self.headers.get("X-C360-Signature", "").encode("latin-1", "replace")
            with lock:
                if state["fail"] > 0:
                    state["fail"] -= 1
                    print(f"webhook_sink: answered {self.path} 503 ({state['fail']} more to refuse)",
                          file=sys.stderr, flush=True)
                    self.answer(503, {"error": "try again later"})
                    return
                record = {
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                    "signature_valid": hmac.compare_digest(given, expected),
                }
                with open(args.out, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    out.flush()
            self.answer(200, {"id": str(uuid.uuid4())})

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever() to return, so it cannot run on the thread serve_forever() runs on.
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_port(args.port_file, server.server_address[1])
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
