#!/usr/bin/env python3
"""A real SMTP server for outreach-service's integration tests.

outreach-service delivers email over SMTP; its tests send to this server (aiosmtpd, a maintained SMTP
implementation) instead of a mock, so the client's dialogue, headers and encodings are checked against a real peer.
It listens on an ephemeral loopback port, writes the port to --port-file once it accepts connections (the tests'
readiness signal), and appends every message it accepts to --out as one JSON line with the keys mail_from, rcpt_tos,
data (the raw message), message_id, subject, body (the text/plain part, decoded, with LF line ends) and peer_port
(the client's port: messages sharing it came over one reused connection).
--fail-first N answers the first N DATA commands "451 4.3.0 try again later" and records nothing for them, to test
retries. SIGTERM or SIGINT stops it (exit 0).

Runs in the virtualenv scripts/test-peers-venv.sh creates (aiosmtpd); `make test` passes its interpreter to the
tests as C360_TEST_PYTHON.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


def utf8(text):
    """Undoes the surrogate escapes the email package leaves for raw 8-bit (SMTPUTF8) header bytes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def record(envelope, session):
    """The JSON object written for one accepted message."""
    raw = envelope.original_content or envelope.content
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = ""
    try:
        part = message.get_body(preferencelist=("plain",))
        if part is not None:
            # Text as a reader sees it: SMTP's CRLF line ends become \n (the raw bytes stay in "data").
            body = part.get_content().replace("\r\n", "\n")
    except (KeyError, LookupError, ValueError) as error:  # unknown charset or a malformed part: keep the rest
        print(f"smtp_sink: the body could not be decoded: {error!r}", file=sys.stderr, flush=True)
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "data": raw.decode("utf-8", "replace"),
        "message_id": utf8(str(message.get("Message-ID", ""))),
        "subject": utf8(str(message.get("Subject", ""))),
        "body": body,
        "peer_port": session.peer[1] if session.peer else 0,
    }


class Sink:
    """aiosmtpd handler: refuses the first `fail_first` DATA commands, then appends each message to `out`."""

    def __init__(self, out, fail_first):
        self.out = out
        self.fail_first = fail_first

    async def handle_DATA(self, server, session, envelope):
        # Handlers run on the one event loop thread: no lock needed.
        if self.fail_first > 0:
            self.fail_first -= 1
            print(f"smtp_sink: refused a message from {envelope.mail_from} with 451 ({self.fail_first} more to refuse)",
                  file=sys.stderr, flush=True)
            return "451 4.3.0 try again later"
        line = json.dumps(record(envelope, session), ensure_ascii=False)
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
        return "250 2.0.0 OK"


def write_port(path, port):
    """Writes the port under a temporary name and renames it, so a reader never sees a partial file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        file.write(f"{port}\n")
    os.replace(temporary, path)


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = Sink(args.out, args.fail_first)
    # enable_SMTPUTF8 also announces 8BITMIME; the data is kept as bytes (decode_data=False) and decoded here.
    server = await loop.create_server(lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="smtp-sink.localhost"),
                                      "127.0.0.1", 0)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    write_port(args.port_file, server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()
    try:
        # Since Python 3.12 this also waits for open connections; a client that hangs on must not keep us alive.
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass


def main():
    summary, details = __doc__.split("\n\n", 1)
    parser = argparse.ArgumentParser(description=summary, epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-file", required=True, help="file the bound port is written to once listening")
    parser.add_argument("--out", required=True, help="JSON-lines file each accepted message is appended to")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer the first N DATA commands 451 4.3.0 (default: 0)")
    args = parser.parse_args()
    # A parent that blocks signals in its threads (the Swift test runner does) passes the mask on: unblock the ones
    # that stop us, or SIGTERM would wait forever.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.fail_first < 0:
        parser.error("--fail-first must be 0 or more")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
