"""Read the keywords customers text back (STOP, START, HELP) and word Accord's answers.

Pure functions: no database, no Django. The keyword lists follow the carriers' and
Twilio's defaults. A text is a keyword only when it is the whole message (trimmed, any
case, a trailing full stop or exclamation mark allowed): "Stop calling my mother" is a
message for an agent, not an opt-out.
"""

from __future__ import annotations

import dataclasses
import enum
import re


class Keyword(enum.StrEnum):
    """Name what an inbound text asks for."""

    STOP = "STOP"  # opt out of SMS from us (12 CFR 1006.6(e), 1006.14(h))
    START = "START"  # opt back in
    HELP = "HELP"  # who are you and how do I stop this
    NONE = "NONE"  # anything else: a message for an agent


STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_TRAILING = re.compile(r"[\s.!]+$")


def keyword(body: str) -> Keyword:
    """Return the keyword ``body`` consists of, or ``Keyword.NONE``."""
    word = _TRAILING.sub("", body.strip()).upper()
    if word in STOP_WORDS:
        return Keyword.STOP
    if word in START_WORDS:
        return Keyword.START
    if word in HELP_WORDS:
        return Keyword.HELP
    return Keyword.NONE


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sender:
    """Say who answers: the operator's name and the phone number customers can call."""

    name: str
    phone: str


# One short text each (under 160 characters), in every language the templates speak.
# The STOP answer only confirms the request (12 CFR 1006.14(h)(2)(i) allows that one).
_REPLIES: dict[tuple[Keyword, str], str] = {
    (Keyword.STOP, "en"): (
        "{name}: your request is confirmed. We will send no more text messages to this number."
    ),
    (Keyword.STOP, "es"): (
        "{name}: confirmamos su solicitud. No enviaremos más mensajes de texto a este número."
    ),
    (Keyword.START, "en"): (
        "{name}: you will receive our text messages at this number again. "
        "Reply STOP to stop them, HELP for help."
    ),
    (Keyword.START, "es"): (
        "{name}: volverá a recibir nuestros mensajes de texto en este número. "
        "Responda STOP para dejar de recibirlos, HELP para obtener ayuda."
    ),
    (Keyword.HELP, "en"): (
        "{name}: for help, call us on {phone}. Reply STOP to stop text messages from us."
    ),
    (Keyword.HELP, "es"): (
        "{name}: para obtener ayuda, llámenos al {phone}. "
        "Responda STOP para no recibir más mensajes de texto."
    ),
}


def reply(word: Keyword, language: str, sender: Sender) -> str | None:
    """Return the answer to ``word`` in ``language`` (English when unknown), or None."""
    if word is Keyword.NONE:
        return None
    text = _REPLIES.get((word, language)) or _REPLIES[(word, "en")]
    return text.format(name=sender.name, phone=sender.phone)
