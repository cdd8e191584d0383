"""``accord mailsink`` refuses a bad port or a taken address with one clear line."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


class TestMailsinkRefuses:
    def test_a_port_out_of_range(self) -> None:
        with pytest.raises(CommandError, match="argument --port"):
            call_command("mailsink", "--port", "99999")

    def test_an_address_already_in_use(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
                call_command("mailsink", "--port", str(port))
