"""Compose and check limited-content voicemails (12 CFR 1006.2(j)).

A limited-content message is a voicemail that says only: a business name that does not
indicate debt collection, a request that the consumer reply, the name of a natural person
to contact, and a telephone number to reply on; it may add a salutation, the date and
time, suggested times to reply, and that any representative can help. Anything else (a
word about a debt, a balance, an amount, a state-required disclosure) stops it being one,
and then it is a communication with all that follows (1006.2(b), 1006.18(e), third-party
disclosure). So Accord does not guess: a template for purpose ``LIMITED_CONTENT`` may hold
only the placeholders below and words from a closed vocabulary (per language), and
:func:`check_template` names every word and placeholder that is not allowed.

Templates use ``{{ name }}`` placeholders, the syntax of the channel templates:

- ``business_name``, ``person_name``, ``reply_phone`` (required, 1006.2(j)(1)(i)-(iv));
- ``salutation``, ``date_time``, ``reply_times`` (optional, 1006.2(j)(2)).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping

RULE = "12 CFR 1006.2(j)"

REQUIRED_PLACEHOLDERS = ("business_name", "person_name", "reply_phone")
OPTIONAL_PLACEHOLDERS = ("salutation", "date_time", "reply_times")
PLACEHOLDERS = REQUIRED_PLACEHOLDERS + OPTIONAL_PLACEHOLDERS

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", re.UNICODE)
_DIGITS = re.compile(r"\d")
_CURRENCY = re.compile(r"[$€£¥₹]")


def _word_list(text: str) -> frozenset[str]:
    """Return the whitespace-separated words of ``text`` (long word lists read better so)."""
    return frozenset(text.split())


# Words that say what the call is about. Each is refused with its own reason, before the
# vocabulary check, so the author sees why ("overdue" is about a debt, not merely unknown).
DEBT_WORDS = _word_list(
    """
    debt debts debtor collect collection collections collector collecting overdue
    balance owe owed owing payment payments pay paid arrears late past due account
    amount bill invoice loan credit creditor default delinquent money dollars legal
    lawsuit court attorney urgent final notice recovery deuda deudas deudor cobro
    cobranza cobrar cobrador vencido vencida saldo debe deber pago pagos pagar atrasado
    atrasada cuenta cantidad factura préstamo crédito acreedor dinero dólares abogado
    demanda tribunal urgente aviso
    """
)

# Everything a limited-content message may say around its placeholders, per language.
_VOCABULARY: Mapping[str, frozenset[str]] = {
    "en": _word_list(
        """
        hi hello good morning afternoon evening dear mr mrs ms mx this is it it's i i'm am
        my name from with at on of the a an and or to please kindly call me us back return
        give ring reply respond number phone telephone our any representative
        representatives team member can could will be able help you your we are available
        between until weekdays monday tuesday wednesday thursday friday saturday sunday
        today tomorrow am pm p m when convenient message for left thank thanks have nice
        day time times best reach speak talk soon possible as yours regards
        """
    ),
    "es": _word_list(
        """
        hola buenos buenas días tardes noches estimado estimada sr sra srta le les habla soy
        mi nombre es de del con en el la los las un una y o a al por favor llame llámeme
        llámenos devuelva devuélvame llamada llamar responda comuníquese número teléfono
        cualquier cualquiera nuestros nuestras representantes representante puede pueden
        podrá ayudarle ayudarlo ayudarla atenderle usted nos me estamos disponibles entre
        desde hasta lunes martes miércoles jueves viernes sábado domingo hoy mañana cuando
        convenga mensaje para gracias muchas que tenga buen día hora horas mejor pronto
        posible saludos atentamente dejado
        """
    ),
}

# Words that make a request to reply (1006.2(j)(1)(ii)), per language.
_REPLY_WORDS: Mapping[str, frozenset[str]] = {
    "en": frozenset({"call", "return", "reply", "respond", "ring", "reach"}),
    "es": frozenset(
        {"llame", "llámeme", "llámenos", "devuelva", "devuélvame", "responda", "comuníquese"}
    ),
}

# A business name indicating debt collection is not allowed (1006.2(j)(1)(i)).
_COLLECTION_NAME_WORDS = _word_list(
    """
    debt debts collect collection collections collectors collector recovery recoveries
    receivable receivables credit arrears deuda deudas cobro cobros cobranza cobranzas
    recuperación recuperaciones crédito créditos cartera
    """
)

DEFAULT_TEMPLATES: Mapping[str, str] = {
    "en": (
        "{{ salutation }}, this is {{ person_name }} from {{ business_name }}. "
        "Please call me back on {{ reply_phone }}, {{ reply_times }}. "
        "Any of our representatives can help you."
    ),
    "es": (
        "{{ salutation }}, le habla {{ person_name }} de {{ business_name }}. "
        "Por favor, llámenos al {{ reply_phone }}, {{ reply_times }}. "
        "Cualquiera de nuestros representantes puede ayudarle."
    ),
}


class ViolationCode(enum.StrEnum):
    """Name what keeps a template from being a limited-content message."""

    DEBT_WORD = "DEBT_WORD"
    AMOUNT_OR_NUMBER = "AMOUNT_OR_NUMBER"
    WORD_NOT_ALLOWED = "WORD_NOT_ALLOWED"
    UNKNOWN_PLACEHOLDER = "UNKNOWN_PLACEHOLDER"
    TEMPLATE_LOGIC = "TEMPLATE_LOGIC"
    MISSING_ELEMENT = "MISSING_ELEMENT"
    NO_REQUEST_TO_REPLY = "NO_REQUEST_TO_REPLY"
    COLLECTION_BUSINESS_NAME = "COLLECTION_BUSINESS_NAME"
    UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Violation:
    """Say one thing that stops a message being limited-content, citing 12 CFR 1006.2(j)."""

    code: ViolationCode
    detail: str
    message: str
    rule: str = RULE


class NotLimitedContent(ValueError):
    """The message would say more (or less) than 12 CFR 1006.2(j) allows; see ``violations``."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(violation.message for violation in self.violations))


def _normalise(word: str) -> str:
    return unicodedata.normalize("NFC", word.lower().replace("\u2019", "'"))


def _words(text: str) -> list[str]:
    return [_normalise(word) for word in _WORD.findall(text)]


def check_business_name(name: str) -> list[Violation]:
    """Return why ``name`` may not be the business name of a limited-content message.

    A name with a word that indicates debt collection ("Acme Collections", "Cobranzas
    del Sur") is refused (12 CFR 1006.2(j)(1)(i)); an empty name is missing.
    """
    if not name.strip():
        return [
            Violation(
                code=ViolationCode.MISSING_ELEMENT,
                detail="business_name",
                message="A limited-content message needs a business name.",
            )
        ]
    return [
        Violation(
            code=ViolationCode.COLLECTION_BUSINESS_NAME,
            detail=word,
            message=f"The business name {name!r} indicates debt collection ({word!r}).",
        )
        for word in dict.fromkeys(_words(name))
        if word in _COLLECTION_NAME_WORDS
    ]


def check_template(template: str, *, language: str = "en") -> list[Violation]:
    """Return every reason ``template`` is not a limited-content message; empty when it is.

    The template must name ``business_name``, ``person_name`` and ``reply_phone``, ask the
    consumer to reply, and otherwise hold only the optional placeholders and words of the
    language's closed vocabulary: no digits or currency signs (amounts belong to no
    limited-content message), no word about a debt, no template logic.
    """
    if language not in _VOCABULARY:
        return [
            Violation(
                code=ViolationCode.UNSUPPORTED_LANGUAGE,
                detail=language,
                message=f"There is no limited-content vocabulary for language {language!r}.",
            )
        ]
    violations: list[Violation] = []
    violations += [
        Violation(
            code=ViolationCode.TEMPLATE_LOGIC,
            detail=tag,
            message=f"Template logic {tag!r} is not allowed: the text must be fixed.",
        )
        for tag in _TAG.findall(template)
    ]
    names = _PLACEHOLDER.findall(template)
    violations += [
        Violation(
            code=ViolationCode.UNKNOWN_PLACEHOLDER,
            detail=name,
            message=f"The placeholder {name!r} is not one a limited-content message may hold.",
        )
        for name in dict.fromkeys(names)
        if name not in PLACEHOLDERS
    ]
    violations += [
        Violation(
            code=ViolationCode.MISSING_ELEMENT,
            detail=name,
            message=f"A limited-content message must include {{{{ {name} }}}}.",
        )
        for name in REQUIRED_PLACEHOLDERS
        if name not in names
    ]
    literal = _PLACEHOLDER.sub(" ", _TAG.sub(" ", template))
    for found in dict.fromkeys(_DIGITS.findall(literal) + _CURRENCY.findall(literal)):
        violations.append(
            Violation(
                code=ViolationCode.AMOUNT_OR_NUMBER,
                detail=found,
                message=(
                    f"{found!r} is not allowed: amounts and numbers other than the reply "
                    "telephone number stop a message being limited-content."
                ),
            )
        )
    words = _words(literal)
    for word in dict.fromkeys(words):
        if word in DEBT_WORDS:
            violations.append(
                Violation(
                    code=ViolationCode.DEBT_WORD,
                    detail=word,
                    message=f"{word!r} says what the call is about, which a limited-content "
                    "message may not.",
                )
            )
        elif word not in _VOCABULARY[language]:
            violations.append(
                Violation(
                    code=ViolationCode.WORD_NOT_ALLOWED,
                    detail=word,
                    message=f"{word!r} is not among the words a limited-content message may use.",
                )
            )
    if not _REPLY_WORDS[language].intersection(words):
        violations.append(
            Violation(
                code=ViolationCode.NO_REQUEST_TO_REPLY,
                detail="",
                message="A limited-content message must ask the consumer to reply.",
            )
        )
    return violations


def check_message(
    text: str,
    *,
    business_name: str,
    person_names: Iterable[str],
    reply_phones: Iterable[str],
    language: str = "en",
) -> list[Violation]:
    """Return every reason the voicemail ``text`` is not a limited-content message.

    The known business name, person names and reply numbers are read as their
    placeholders, then the text is checked like a template (:func:`check_template`),
    and the business name with :func:`check_business_name`.
    """
    template = text
    known = [
        *((phone, "reply_phone") for phone in reply_phones),
        (business_name, "business_name"),
        *((person, "person_name") for person in person_names),
    ]
    # Longest first, so "Sam Lee" is replaced before a name it contains.
    for value, name in sorted(known, key=lambda pair: -len(pair[0])):
        if value.strip():
            template = template.replace(value.strip(), f"{{{{ {name} }}}}")
    return check_business_name(business_name) + check_template(template, language=language)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VoicemailFacts:
    """Hold what a limited-content voicemail may say (12 CFR 1006.2(j)(1), (2))."""

    business_name: str
    person_name: str
    reply_phone: str
    salutation: str = ""
    date_time: str = ""
    reply_times: str = ""


def compose(facts: VoicemailFacts, *, language: str = "en", template: str | None = None) -> str:
    """Return the voicemail text for ``facts`` from ``template`` (the language's default).

    The template and the business name are checked first; raises ``NotLimitedContent``
    with every violation when either is not allowed. Empty optional values drop the
    words around them cleanly (no greeting gives "This is Sam Lee...").
    """
    source = DEFAULT_TEMPLATES.get(language, "") if template is None else template
    violations = check_business_name(facts.business_name) + check_template(
        source, language=language
    )
    if violations:
        raise NotLimitedContent(violations)
    values = {name: getattr(facts, name).strip() for name in PLACEHOLDERS}
    text = source
    if not values["salutation"]:
        text = re.sub(r"\{\{\s*salutation\s*\}\}\s*,?\s*", "", text)
    if not values["reply_times"]:
        text = re.sub(r",?\s*\{\{\s*reply_times\s*\}\}", "", text)
    if not values["date_time"]:
        text = re.sub(r",?\s*\{\{\s*date_time\s*\}\}", "", text)
    text = _PLACEHOLDER.sub(lambda found: values[found.group(1)], text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\.(?:\s*\.)+", ".", text)  # "5 p.m." ending a sentence
    return text[:1].upper() + text[1:]
