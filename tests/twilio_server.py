"""Run a local stand-in for Twilio's Messages API in a thread, for the SMS adapter's tests.

It answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` like Twilio: 201 with the new
message's JSON, 401 for wrong credentials, and, like a provider that honours the
``I-Twilio-Idempotency-Token`` header, the first message again for a repeated token.
``behaviour`` makes it answer a Twilio error, a server error, or nothing in time;
``hang_on`` makes the n-th request (1-based) wait, unanswered, until ``release()`` (the
kill test stops a worker while it waits there).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "test-auth-token"


@dataclasses.dataclass
class Received:
    """One request the server got."""

    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]
    raw: bytes


@dataclasses.dataclass
class FakeTwilio:
    """The server's state: what it received, what it created, how it should answer."""

    port: int = 0
    behaviour: str = "ok"  # ok | bad_number | server_error | slow | no_sid
    delay: float = 0.0
    received: list[Received] = dataclasses.field(default_factory=list)
    hang_on: int | None = None
    hanging: threading.Event = dataclasses.field(default_factory=threading.Event)
    _released: threading.Event = dataclasses.field(default_factory=threading.Event)
    created: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)
    _counter: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages_sent(self) -> int:
        return len(self.created)

    def release(self) -> None:
        """Let a hanging request go on (it answers, if its client still listens)."""
        self.hang_on = None
        self._released.set()

    def hang_if_told(self, number: int) -> None:
        """Block the ``number``-th request until ``release()``, when ``hang_on`` names it."""
        if self.hang_on == number:
            self.hanging.set()
            self._released.wait(timeout=120)

    def answer(self, request: Received) -> tuple[int, dict[str, object]]:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if request.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found"}
        if self.behaviour == "slow":
            time.sleep(self.delay)
        if self.behaviour == "bad_number":
            return 400, {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            }
        if self.behaviour == "server_error":
            return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}
        if self.behaviour == "no_sid":
            return 201, {"status": "queued"}
        token = request.headers.get("i-twilio-idempotency-token", "")
        with self._lock:
            if token and token in self.created:
                return 201, self.created[token]
            sid = f"SM{next(self._counter):032d}"
            body: dict[str, object] = {
                "sid": sid,
                "status": "queued",
                "to": request.form["To"][0],
                "body": request.form["Body"][0],
            }
            self.created[token or sid] = body
        return 201, body


@contextlib.contextmanager
def running_twilio() -> Iterator[FakeTwilio]:
    """Start the stand-in on a free port; stop it afterwards."""
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Received(
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                form=parse_qs(raw.decode("ascii"), keep_blank_values=True),
                raw=raw,
            )
            with state._lock:
                state.received.append(request)
                number = len(state.received)
            state.hang_if_told(number)
            status, body = state.answer(request)
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="fake-twilio", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
