"""A real SMTP server for the browser tests: it accepts every message and keeps it.

Usage: python3 smtp_sink.py PORT OUTFILE [STALL_SECONDS]

Listens on 127.0.0.1:PORT (aiosmtpd), appends each received message to OUTFILE as one JSON
line {"to": [...], "subject": "...", "body": "...", "message_id": "..."} (the decoded text
body), prints READY once it is listening, and runs until it is killed (SIGTERM or SIGINT stop
it cleanly). With STALL_SECONDS, every DATA command waits that long before it is answered, as a
slow mail server does (other connections are served meanwhile).
"""

import asyncio
import email
import email.policy
import json
import signal
import sys
import threading

from aiosmtpd.controller import Controller


def text_body(message):
    """The decoded text of a message: its text/plain part, else its text/html part, else ''."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


class JsonLinesHandler:
    def __init__(self, path, stall):
        self.path = path
        self.stall = stall

    async def handle_DATA(self, server, session, envelope):
        if self.stall:
            await asyncio.sleep(self.stall)
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        record = {
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "body": text_body(message),
            "message_id": str(message.get("Message-ID", "")),
        }
        # One handler call at a time (the controller's event loop), and each line is written
        # whole and flushed, so a reader polling the file never sees half a message.
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: smtp_sink.py PORT OUTFILE [STALL_SECONDS]")
    port, path = int(sys.argv[1]), sys.argv[2]
    stall = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
    open(path, "a", encoding="utf-8").close()

    controller = Controller(JsonLinesHandler(path, stall), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print("READY", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
