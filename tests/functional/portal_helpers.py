"""A local SMTP sink and the code sign-in steps shared by the portal's browser tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CODE = re.compile(r"\b([0-9]{6})\b")


class Sink:
    """Keep every message the SMTP server receives, as parsed email messages."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Parse and keep the message."""
        content = envelope.original_content or envelope.content
        message = email.message_from_bytes(content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def code_for(self, address: str, *, timeout: float = 10.0) -> str:
        """Wait for the latest message to ``address`` and return the code in it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.received):
                if address in str(message["To"]):
                    body = message.get_body(preferencelist=("plain",))
                    assert body is not None
                    match = CODE.search(body.get_content())
                    assert match is not None
                    return match.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no message reached {address}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[Sink]:
    """Start a real SMTP server on a free port and point Django's email at it."""
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


def sign_in_with_code(page: Any, base_url: str, address: str, sink: Sink) -> None:
    """Sign in to the portal as a customer would: ask for a code, read it, type it."""
    page.goto(f"{base_url}/portal/sign-in/")
    page.get_by_label("Email address or mobile number").fill(address)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_role("heading", level=1, name="Enter your code").wait_for()
    page.get_by_label("Your 6-digit code").fill(sink.code_for(address))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", level=1, name=re.compile("^Hello")).wait_for()


def shoot(page: Any, folder: Path, name: str) -> Path:
    """Save a full-page screenshot and return its path."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path
