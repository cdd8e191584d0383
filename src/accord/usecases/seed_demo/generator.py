"""Generate a deterministic, realistic demo portfolio as string frames for the CSV import.

Every value is drawn column-wise with NumPy and assembled with Polars, so a million
accounts take seconds: Python only loops over the small fixed tables below (countries,
cities, names, phone blocks). The same ``(accounts, seed, as_of)`` always gives identical
frames; another seed gives another book.

The book behaves like a real one. About 70% of accounts are up to date and 30% are in
arrears, spread over the usual days-past-due buckets, with partial payments, late fees,
interest on overdue cards and a few customers who pay before the due date. Each country
has its own currency, address and phone formats; every phone number is valid for its
country, every e-mail address uses a domain reserved for examples, and every amount has
exactly the decimals of its currency.
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

_T = TypeVar("_T", bound=np.generic)
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CUSTOMER_COLUMNS = (
    "external_ref",
    "debtor_type",
    "name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "phones",
    "emails",
    "preferred_channel",
    "contact_hours_start",
    "contact_hours_end",
    "language",
    "time_zone",
)
ACCOUNT_COLUMNS = (
    "external_ref",
    "customer_ref",
    "product_type",
    "currency",
    "credit_limit",
    "opened_date",
    "status",
)
CHARGE_COLUMNS = (
    "external_ref",
    "account_ref",
    "kind",
    "amount",
    "currency",
    "issued_date",
    "due_date",
    "description",
)
PAYMENT_COLUMNS = (
    "external_ref",
    "account_ref",
    "amount",
    "currency",
    "received_date",
    "method",
    "provider_reference",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Portfolio:
    """Hold the four import files of a demo book, every column a ``pl.String``."""

    customers: pl.DataFrame
    accounts: pl.DataFrame
    charges: pl.DataFrame
    payments: pl.DataFrame


# --------------------------------------------------------------------------------------
# Fixed tables
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Phone:
    """Describe a block of valid numbers: a fixed prefix, then random digits."""

    prefix: str  # start of the national significant number, e.g. "20" for London
    digits: int  # random digits after the prefix
    lead: str = "0123456789"  # digits the first random digit may take
    groups: tuple[int, int] = (3, 3)  # sizes of the first two groups in national format


@dataclasses.dataclass(frozen=True, kw_only=True)
class _City:
    name: str
    region: str
    zone: str
    postcodes: tuple[str, ...]  # prefixes; GB outward areas, IE routing keys
    landlines: tuple[_Phone, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Country:
    code: str
    share: float
    currency: str
    decimals: int
    scale: int  # local price of what costs one unit in USD, GBP or EUR
    step: int  # prices are multiples of this many minor units
    calling_code: str
    national: tuple[str, str, str]  # text before the first, second and third group
    mobiles: tuple[_Phone, ...]  # empty where mobiles use the city's area codes
    cities: tuple[_City, ...]
    postcode_style: str  # "digits", "gb" or "ie"
    postcode_length: int
    streets: tuple[str, ...]
    number_first: bool
    street_separator: str
    house_numbers: tuple[int, int]
    flat: tuple[str, str, str, int]  # prefix, suffix, letters, highest number
    culture: int
    spanish_names: float  # share of customers with Spanish names where culture is not es
    spanish_language: float  # share of Spanish-named customers who want Spanish
    two_surnames: bool
    legal_forms: tuple[str, ...]
    methods: tuple[float, float, float, float, float, float]  # weights, PAYMENT_METHODS order


EN, ES, DE = 0, 1, 2

# Digits a subscriber number may start with where 0 and 1 are trunk or service prefixes
# (North American exchanges, Mexican, German and Chilean area numbers).
_NOT_0_OR_1 = "23456789"


_US_STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lake Shore Dr", "Park Ave", "Sunset Blvd", "Highland Ave", "Church St", "Market St",
    "2nd Ave", "Willow Rd", "River Rd",
)  # fmt: skip

_GB_STREETS = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Mill Road",
    "Park Avenue", "Kings Road", "Queen Street", "London Road", "Manor Way", "The Crescent",
)  # fmt: skip

_ES_STREETS = (
    "Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Calle Real",
    "Paseo de Gracia", "Calle San Vicente", "Gran Vía", "Calle del Carmen",
    "Avenida de Andalucía", "Calle Nueva",
)  # fmt: skip

_MX_STREETS = (
    "Av. Insurgentes Sur", "Calle Morelos", "Av. Reforma", "Calle Hidalgo", "Av. Juárez",
    "Calle 5 de Mayo", "Av. Revolución", "Calle Allende", "Calzada de Tlalpan",
)  # fmt: skip

_IE_STREETS = (
    "Main Street", "Church Road", "Station Road", "Patrick Street", "O'Connell Street",
    "Harbour View", "Grafton Street", "Shop Street",
)  # fmt: skip

_DE_STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Berliner Allee",
    "Goethestraße", "Lindenstraße", "Kirchweg",
)  # fmt: skip

_CL_STREETS = (
    "Av. Providencia", "Calle Los Aromos", "Av. Libertador Bernardo O'Higgins",
    "Pasaje Las Rosas", "Av. Apoquindo", "Calle Merced",
)  # fmt: skip


def _city(
    name: str, region: str, zone: str, postcodes: tuple[str, ...], *landlines: _Phone
) -> _City:
    return _City(name=name, region=region, zone=zone, postcodes=postcodes, landlines=landlines)


def _us(name: str, state: str, zone: str, zips: tuple[str, ...], *areas: str) -> _City:
    # US mobiles share the geographic area codes, so one block serves both kinds.
    return _city(name, state, zone, zips, *(_Phone(a, 7, _NOT_0_OR_1) for a in areas))


_NY, _CHI, _DEN, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
_UK, _MAD, _MX, _DUB, _BER, _SCL = (
    "Europe/London", "Europe/Madrid", "America/Mexico_City", "Europe/Dublin", "Europe/Berlin",
    "America/Santiago",
)  # fmt: skip
_2_TO_8 = "2345678"

_COUNTRIES: tuple[_Country, ...] = (
    _Country(
        code="US",
        share=0.38,
        currency="USD",
        decimals=2,
        scale=1,
        step=1,
        calling_code="1",
        national=("(", ") ", "-"),
        mobiles=(),
        # Texas, Florida and Indiana each span two civil times: El Paso, Pensacola and
        # Gary sit in the minority zone, so time-zone inference meets real ambiguity.
        cities=(
            _us("New York", "NY", _NY, ("100", "101"), "212", "646"),
            _us("Brooklyn", "NY", _NY, ("112",), "718", "347"),
            _us("Chicago", "IL", _CHI, ("606",), "312", "773"),
            _us("Houston", "TX", _CHI, ("770",), "713", "832"),
            _us("Dallas", "TX", _CHI, ("752",), "214", "469"),
            _us("El Paso", "TX", _DEN, ("799",), "915"),
            _us("Miami", "FL", _NY, ("331",), "305", "786"),
            _us("Pensacola", "FL", _CHI, ("325",), "850"),
            _us("Indianapolis", "IN", _NY, ("462",), "317"),
            _us("Gary", "IN", _CHI, ("464",), "219"),
            _us("Los Angeles", "CA", _LA, ("900",), "213", "310"),
            _us("San Francisco", "CA", _LA, ("941",), "415"),
            _us("Phoenix", "AZ", "America/Phoenix", ("850",), "602"),
            _us("Denver", "CO", _DEN, ("802",), "303", "720"),
            _us("Atlanta", "GA", _NY, ("303",), "404", "678"),
            _us("Seattle", "WA", _LA, ("981",), "206"),
            _us("Boston", "MA", _NY, ("021",), "617"),
        ),
        postcode_style="digits",
        postcode_length=5,
        streets=_US_STREETS,
        number_first=True,
        street_separator=" ",
        house_numbers=(10, 9999),
        flat=("Apt ", "", "ABCD", 40),
        culture=EN,
        spanish_names=0.18,
        spanish_language=0.55,
        two_surnames=False,
        legal_forms=("Inc", "LLC", "Corp"),
        methods=(0.45, 0.25, 0.18, 0.02, 0.07, 0.03),
    ),
    _Country(
        code="GB",
        share=0.20,
        currency="GBP",
        decimals=2,
        scale=1,
        step=1,
        calling_code="44",
        national=("0", " ", " "),
        # 07700 900xxx is reserved for drama and 07911 is only partly allocated.
        mobiles=tuple(
            _Phone(p, 6, groups=(4, 6))
            for p in ("7400", "7424", "7500", "7723", "7800", "7900", "7912", "7956")
        ),
        # Leads follow the ranges Ofcom has allocated in each area code.
        cities=(
            _city(
                "London",
                "Greater London",
                _UK,
                ("SW", "SE", "N", "E", "W", "NW"),
                _Phone("20", 8, "378", (2, 4)),
            ),
            _city("Manchester", "Greater Manchester", _UK, ("M",), _Phone("161", 7, _2_TO_8)),
            _city("Birmingham", "West Midlands", _UK, ("B",), _Phone("121", 7, "234567")),
            _city("Leeds", "West Yorkshire", _UK, ("LS",), _Phone("113", 7, "2345")),
            _city("Glasgow", "Glasgow City", _UK, ("G",), _Phone("141", 7, _2_TO_8)),
            _city("Bristol", "Bristol", _UK, ("BS",), _Phone("117", 7, "234")),
            _city("Edinburgh", "City of Edinburgh", _UK, ("EH",), _Phone("131", 7, _2_TO_8)),
            _city("Cardiff", "Cardiff", _UK, ("CF",), _Phone("2920", 6, groups=(2, 4))),
        ),
        postcode_style="gb",
        postcode_length=0,
        streets=_GB_STREETS,
        number_first=True,
        street_separator=" ",
        house_numbers=(1, 250),
        flat=("Flat ", "", "", 30),
        culture=EN,
        spanish_names=0.0,
        spanish_language=0.0,
        two_surnames=False,
        legal_forms=("Ltd", "Ltd", "LLP"),
        methods=(0.25, 0.15, 0.55, 0.02, 0.01, 0.02),
    ),
    _Country(
        code="ES",
        share=0.15,
        currency="EUR",
        decimals=2,
        scale=1,
        step=1,
        calling_code="34",
        national=("", " ", " "),
        mobiles=(_Phone("6", 8), *(_Phone(p, 7) for p in ("71", "72", "73", "74"))),
        cities=(
            _city("Madrid", "Madrid", _MAD, ("280",), _Phone("91", 7, _2_TO_8)),
            _city("Barcelona", "Barcelona", _MAD, ("080",), _Phone("93", 7, _2_TO_8)),
            _city("Valencia", "Valencia", _MAD, ("460",), _Phone("96", 7, _2_TO_8)),
            _city("Sevilla", "Sevilla", _MAD, ("410",), _Phone("954", 6, _2_TO_8)),
            _city("Bilbao", "Bizkaia", _MAD, ("480",), _Phone("94", 7, _2_TO_8)),
            _city("Málaga", "Málaga", _MAD, ("290",), _Phone("952", 6, _2_TO_8)),
            # The Canaries keep Atlantic time, an hour behind the mainland.
            _city(
                "Las Palmas de Gran Canaria",
                "Las Palmas",
                "Atlantic/Canary",
                ("350",),
                _Phone("928", 6, _2_TO_8),
            ),
        ),
        postcode_style="digits",
        postcode_length=5,
        streets=_ES_STREETS,
        number_first=False,
        street_separator=", ",
        house_numbers=(1, 200),
        flat=("", "º ", "ABCD", 12),
        culture=ES,
        spanish_names=0.0,
        spanish_language=0.95,
        two_surnames=True,
        legal_forms=("S.L.", "S.L.", "S.A."),
        methods=(0.20, 0.25, 0.50, 0.03, 0.0, 0.02),
    ),
    _Country(
        code="MX",
        share=0.15,
        currency="MXN",
        decimals=2,
        scale=18,
        step=1,
        calling_code="52",
        national=("", " ", " "),
        # Mexican mobiles share the ten-digit geographic numbers.
        mobiles=(),
        cities=(
            _city(
                "Ciudad de México",
                "CMX",
                _MX,
                ("03", "04", "06", "11"),
                _Phone("55", 8, _NOT_0_OR_1, (2, 4)),
                _Phone("56", 8, _NOT_0_OR_1, (2, 4)),
            ),
            _city("Guadalajara", "JAL", _MX, ("44",), _Phone("33", 8, _NOT_0_OR_1, (2, 4))),
            _city(
                "Monterrey",
                "NLE",
                "America/Monterrey",
                ("64",),
                _Phone("81", 8, _NOT_0_OR_1, (2, 4)),
            ),
            _city("Puebla", "PUE", _MX, ("72",), _Phone("222", 7, _NOT_0_OR_1)),
            _city("Tijuana", "BCN", "America/Tijuana", ("22",), _Phone("664", 7, _NOT_0_OR_1)),
            _city("Cancún", "ROO", "America/Cancun", ("77",), _Phone("998", 7, _NOT_0_OR_1)),
            _city("Mérida", "YUC", "America/Merida", ("97",), _Phone("999", 7, _NOT_0_OR_1)),
        ),
        postcode_style="digits",
        postcode_length=5,
        streets=_MX_STREETS,
        number_first=False,
        street_separator=" ",
        house_numbers=(1, 3000),
        flat=("Int. ", "", "", 20),
        culture=ES,
        spanish_names=0.0,
        spanish_language=0.98,
        two_surnames=True,
        legal_forms=("S.A. de C.V.", "S. de R.L. de C.V."),
        methods=(0.35, 0.35, 0.08, 0.20, 0.0, 0.02),
    ),
    _Country(
        code="IE",
        share=0.05,
        currency="EUR",
        decimals=2,
        scale=1,
        step=1,
        calling_code="353",
        national=("0", " ", " "),
        mobiles=tuple(_Phone(p, 7, groups=(2, 3)) for p in ("83", "85", "86", "87", "89")),
        cities=(
            _city(
                "Dublin",
                "Co. Dublin",
                _DUB,
                ("D02", "D04", "D06", "D08", "D15", "D24"),
                _Phone("1", 7, _2_TO_8, (1, 3)),
            ),
            _city("Cork", "Co. Cork", _DUB, ("T12", "T23"), _Phone("21", 7, _2_TO_8, (2, 3))),
            _city("Galway", "Co. Galway", _DUB, ("H91",), _Phone("91", 6, _2_TO_8, (2, 6))),
        ),
        postcode_style="ie",
        postcode_length=0,
        streets=_IE_STREETS,
        number_first=True,
        street_separator=" ",
        house_numbers=(1, 150),
        flat=("Apartment ", "", "", 40),
        culture=EN,
        spanish_names=0.0,
        spanish_language=0.0,
        two_surnames=False,
        legal_forms=("Ltd", "DAC"),
        methods=(0.25, 0.20, 0.50, 0.02, 0.01, 0.02),
    ),
    _Country(
        code="DE",
        share=0.05,
        currency="EUR",
        decimals=2,
        scale=1,
        step=1,
        calling_code="49",
        national=("0", " ", " "),
        mobiles=(
            *(_Phone(p, 8, groups=(3, 8)) for p in ("151", "152", "157", "176")),
            *(_Phone(p, 7, groups=(3, 7)) for p in ("160", "170", "171", "172")),
        ),
        cities=(
            _city("Berlin", "Berlin", _BER, ("10",), _Phone("30", 8, _NOT_0_OR_1, (2, 8))),
            _city("München", "Bayern", _BER, ("80",), _Phone("89", 8, _NOT_0_OR_1, (2, 8))),
            _city("Hamburg", "Hamburg", _BER, ("20",), _Phone("40", 8, _NOT_0_OR_1, (2, 8))),
            _city(
                "Köln", "Nordrhein-Westfalen", _BER, ("50",), _Phone("221", 7, _NOT_0_OR_1, (3, 7))
            ),
        ),
        postcode_style="digits",
        postcode_length=5,
        streets=_DE_STREETS,
        number_first=False,
        street_separator=" ",
        house_numbers=(1, 150),
        flat=("", ". OG", "", 6),
        culture=DE,
        spanish_names=0.0,
        spanish_language=0.0,
        two_surnames=False,
        legal_forms=("GmbH", "GmbH", "AG", "GmbH & Co. KG"),
        methods=(0.15, 0.30, 0.52, 0.01, 0.0, 0.02),
    ),
    _Country(
        code="CL",
        share=0.02,
        # Chilean pesos have no minor unit: amounts are whole numbers such as "27450".
        currency="CLP",
        decimals=0,
        scale=900,
        step=10,
        calling_code="56",
        national=("", " ", " "),
        mobiles=(_Phone("9", 8, "2458", (1, 4)),),
        cities=(
            _city(
                "Santiago",
                "Región Metropolitana",
                _SCL,
                ("75", "76", "83"),
                _Phone("22", 7, _NOT_0_OR_1, (1, 4)),
            ),
            _city("Valparaíso", "Valparaíso", _SCL, ("23",), _Phone("32", 7, _NOT_0_OR_1, (2, 3))),
            _city("Concepción", "Biobío", _SCL, ("40",), _Phone("41", 7, _NOT_0_OR_1, (2, 3))),
        ),
        postcode_style="digits",
        postcode_length=7,
        streets=_CL_STREETS,
        number_first=False,
        street_separator=" ",
        house_numbers=(100, 9999),
        flat=("Depto. ", "", "", 30),
        culture=ES,
        spanish_names=0.0,
        spanish_language=0.98,
        two_surnames=True,
        legal_forms=("SpA", "Ltda."),
        methods=(0.40, 0.40, 0.08, 0.10, 0.0, 0.02),
    ),
)

_FIRST_NAMES: tuple[tuple[str, ...], ...] = (
    (
        "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
        "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
        "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Emily", "Matthew", "Olivia",
        "Oliver", "Amelia", "George", "Isla", "Harry", "Sophie", "Jack", "Grace", "Liam",
        "Chloe", "Noah", "Emma", "Ethan", "Ava", "Aidan", "Siobhan", "Sean", "Niamh",
    ),
    (
        "José", "María", "Juan", "Carmen", "Antonio", "Ana", "Francisco", "Laura", "Manuel",
        "Lucía", "Javier", "Marta", "Alejandro", "Sofía", "Carlos", "Isabel", "Miguel",
        "Elena", "Luis", "Paula", "Pedro", "Cristina", "Diego", "Valentina", "Jorge",
        "Guadalupe", "Fernando", "Ximena", "Ricardo", "Camila", "Alberto", "Daniela",
    ),
    (
        "Lukas", "Anna", "Leon", "Lena", "Felix", "Marie", "Jonas", "Sophie", "Paul",
        "Laura", "Maximilian", "Hannah", "Jan", "Katharina", "Tobias", "Julia",
    ),
)  # fmt: skip
_LAST_NAMES: tuple[tuple[str, ...], ...] = (
    (
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Martin",
        "Thompson", "Clark", "Lewis", "Walker", "Hall", "Young", "Allen", "Wright", "King",
        "Scott", "Green", "Baker", "Evans", "Roberts", "Hughes", "Edwards", "Murphy",
        "Kelly", "O'Brien", "Byrne", "Walsh", "Ryan", "O'Connor", "Patel", "Khan",
    ),
    (
        "García", "Rodríguez", "Martínez", "López", "González", "Hernández", "Pérez",
        "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales",
        "Jiménez", "Ruiz", "Álvarez", "Romero", "Navarro", "Moreno", "Muñoz", "Castillo",
        "Ortiz", "Vargas", "Silva", "Rojas", "Núñez", "Castro", "Mendoza",
    ),
    (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Wolf", "Schröder", "Neumann", "Braun",
    ),
)  # fmt: skip
_BUSINESS_FIRST: tuple[tuple[str, ...], ...] = (
    (
        "Northwind", "Blue Harbor", "Oakridge", "Summit", "Redwood", "Silverline",
        "Evergreen", "Ironbridge", "Brightwater", "Pioneer", "Atlas", "Crescent",
        "Highland", "Riverside", "Granite", "Meridian",
    ),
    (
        "Distribuidora", "Comercial", "Construcciones", "Transportes", "Talleres",
        "Servicios", "Suministros", "Alimentos", "Grupo", "Ferretería",
    ),
    ("Nordwind", "Bergmann", "Rheinland", "Alpen", "Hansa", "Elbe", "Sonnenhof", "Weber"),
)  # fmt: skip
_BUSINESS_SECOND: tuple[tuple[str, ...], ...] = (
    (
        "Traders", "Logistics", "Builders", "Foods", "Consulting", "Engineering", "Supplies",
        "Motors", "Textiles", "Design", "Holdings", "Services", "Electrical", "Printing",
    ),
    (
        "del Norte", "del Sur", "Atlántico", "Sol", "Levante", "Pacífico", "Andina",
        "Mediterránea", "Azteca", "Hermanos Ruiz", "Luna", "Santa Fe",
    ),
    ("Handel", "Logistik", "Bau", "Technik", "Lebensmittel", "Elektro", "Druck", "Textil"),
)  # fmt: skip
_DEPARTMENTS = ("accounts", "billing", "finance", "info")
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
_EMAIL_DOMAIN_WEIGHTS = (0.5, 0.25, 0.25)
_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters Royal Mail uses in inward codes
_EIRCODE_LETTERS = "ACDEFHKNPRTVWXY"
_EIRCODE_CHARACTERS = _EIRCODE_LETTERS + "0123456789"

CHANNELS = ("", "EMAIL", "SMS", "LETTER", "CALL", "CHAT")
_CHANNEL_WEIGHTS = (0.55, 0.15, 0.12, 0.06, 0.08, 0.04)
_NO_CHANNEL, _EMAIL, _SMS, _LETTER, _CALL, _CHAT = range(6)

PRODUCTS = ("CREDIT_CARD", "LOAN", "UTILITY", "TELCO", "BNPL")
CARD, LOAN, UTILITY, TELCO, BNPL = range(5)
_CONSUMER_PRODUCTS = (0.30, 0.18, 0.22, 0.20, 0.10)
_BUSINESS_PRODUCTS = (0.25, 0.30, 0.25, 0.20, 0.0)  # pay-in-4 is a consumer product
# Days between a bill's issue and its due date; 0 means a pre-agreed schedule with no
# bill, written with an empty issued_date.
_ISSUE_LEAD = (21, 0, 14, 10, 0)
# Days an account was opened before its first listed charge fell due: cards and
# utilities have years of history before the listed months, loans and BNPL start there.
_OPENING_LEAD = ((30, 6 * 365), (14, 45), (20, 5 * 365), (20, 4 * 365), (0, 15))
_CARD_LIMITS = (500, 1000, 1500, 2000, 2500, 3000, 5000, 7500, 10000, 15000)
_CARD_LIMIT_WEIGHTS = (0.08, 0.15, 0.15, 0.15, 0.12, 0.12, 0.10, 0.06, 0.04, 0.03)
_LATE_FEES = ((25, 41), (15, 31), (5, 16), (5, 16), (7, 11))  # [low, high) by product

STATUSES = ("OPEN", "CLOSED", "SETTLED", "CHARGED_OFF")
_OPEN, _CLOSED, _SETTLED, _CHARGED_OFF = range(4)
KINDS = ("INSTALMENT", "INVOICE", "FEE", "INTEREST")
_INSTALMENT, _INVOICE, _FEE, _INTEREST = range(4)
METHODS = ("CARD", "BANK_TRANSFER", "DIRECT_DEBIT", "CASH", "CHEQUE", "OTHER")
_CARD_METHOD, _TRANSFER, _DIRECT_DEBIT = 0, 1, 2
_PROVIDER_PREFIXES = ("PSP-", "BT-", "DD-", "CASH-", "CHQ-", "PSP-")

_LABELS = (
    "Card minimum payment",
    "Loan instalment",
    "Electricity bill",
    "Gas bill",
    "Water bill",
    "Mobile plan",
    "Broadband",
    "Pay in 4 instalment",
    "Late payment fee",
    "Interest on overdue balance",
)
_FEE_LABEL, _INTEREST_LABEL = 8, 9
_NUMBERED_LABELS = (1, 7)
_LOAN_TERMS = (12, 18, 24, 36, 48)

_DELINQUENT_SHARE = 0.30
_CLOSED_SHARE = 0.085  # of accounts that are up to date
# Months behind (0 means 1-31 days past due, 1 means 29-62 and so on) by bucket:
# 1-30, 31-60, 61-90, 91-180 and over 180 days past due.
_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 5), (6, 14))
_BUCKET_WEIGHTS = (0.45, 0.20, 0.12, 0.13, 0.10)

_EPOCH = datetime.date(1970, 1, 1)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Groups:
    """Index a flat table cut into groups, so each row can draw from its own group."""

    offsets: IntArray
    sizes: IntArray

    @classmethod
    def of(cls, sizes: Sequence[int]) -> _Groups:
        size_array = np.asarray(sizes, dtype=np.int64)
        return cls(np.cumsum(size_array) - size_array, size_array)

    def draw(self, rng: np.random.Generator, group: IntArray) -> IntArray:
        """Return, for each row, the flat index of a uniform pick from its group."""
        picked = (rng.random(len(group)) * self.sizes[group]).astype(np.int64)
        return self.offsets[group] + picked


def _flat(lists: Sequence[Sequence[str]]) -> tuple[pl.Series, _Groups]:
    values = [value for values in lists for value in values]
    return pl.Series(values=values, dtype=pl.String), _Groups.of([len(v) for v in lists])


def _ints(values: Sequence[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _strings(values: Sequence[str]) -> pl.Series:
    return pl.Series(values=list(values), dtype=pl.String)


def _slug(text: str) -> str:
    """Return ``text`` as lower-case ASCII letters only, for e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed.lower() if "a" <= c <= "z")


def _weighted(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(weights), size=size, p=p / p.sum()).astype(np.int64)


def _weighted_by(rng: np.random.Generator, weights: FloatArray, group: IntArray) -> IntArray:
    """Draw one choice per row from the row's own line of ``weights``."""
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    chosen: IntArray = (u[:, None] >= cumulative[group]).sum(axis=1)
    # Rounding can leave the last cumulative weight a hair below 1.
    last: int = weights.shape[1] - 1
    return np.minimum(chosen, last)


def _between(rng: np.random.Generator, low: IntArray, high: IntArray) -> IntArray:
    """Draw integers uniformly from [low, high) row by row."""
    return low + (rng.random(len(low)) * (high - low)).astype(np.int64)


def _days(day: datetime.date) -> int:
    return (day - _EPOCH).days


def _month_of(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _due_days(month: IntArray, day_of_month: IntArray) -> IntArray:
    """Return days since 1970-01-01 of ``day_of_month`` in absolute month ``month``."""
    if month.size == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(month.min()), int(month.max())
    months = np.arange(low - 1970 * 12, high - 1970 * 12 + 1)
    # A lookup over the few months involved: converting every row is much slower.
    starts = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return starts[month - low] + day_of_month - 1


_LOW_DIGITS = 10_000
_LOW_TEXT = pl.Series([f"{k:04d}" for k in range(_LOW_DIGITS)], dtype=pl.String)


def _ref(prefix: str, number: pl.Expr, *, count: int, width: int) -> pl.Expr:
    """Write ``number`` (1 to ``count``) as ``prefix`` and ``width`` zero-padded digits.

    Two lookups and one concatenation: far cheaper than formatting each integer.
    """
    high = [f"{prefix}{h:0{width - 4}d}" for h in range(count // _LOW_DIGITS + 1)]
    return pl.concat_str(
        pl.lit(_strings(high)).gather(number // _LOW_DIGITS),
        pl.lit(_LOW_TEXT).gather(number % _LOW_DIGITS),
    )


def _select(frame: pl.DataFrame, *columns: pl.Expr) -> pl.DataFrame:
    """Evaluate ``columns`` on ``frame`` lazily: the lazy engine splits long columns
    across threads, which the eager one does not."""
    return frame.lazy().select(*columns).collect()


def _take(table: pl.Series | Sequence[str], column: str) -> pl.Expr:
    """Look ``column``'s integer codes up in a small string table."""
    series = table if isinstance(table, pl.Series) else _strings(table)
    return pl.lit(series).gather(pl.col(column))


@dataclasses.dataclass(frozen=True)
class _Days:
    """Write day numbers as YYYY-MM-DD by lookup in the few distinct days they span."""

    codes: IntArray  # position of each row's day in ``table``
    table: pl.Series

    @classmethod
    def of(cls, days: IntArray, *, blank: BoolArray | None = None) -> _Days:
        """Encode ``days`` (since 1970-01-01); rows marked ``blank`` will read ""."""
        shown = days if blank is None else days[~blank]
        low = int(shown.min()) if shown.size else 0
        high = int(shown.max()) if shown.size else 0
        table = pl.Series(np.arange(low, high + 1, dtype=np.int32)).cast(pl.Date).cast(pl.String)
        codes = days - low
        if blank is not None:
            codes = np.where(blank, high - low + 1, codes)
        return cls(codes, table.append(_strings([""])))

    def expr(self, column: str) -> pl.Expr:
        """Return the text of the codes held in ``column``."""
        return pl.lit(self.table).gather(pl.col(column))


# ".00" to ".999" for each number of decimal places, so a fraction is a lookup.
_FRACTION_OFFSETS = _ints([0, 1, 11, 111])
_FRACTIONS = _strings(
    [""]
    + [f".{k:01d}" for k in range(10)]
    + [f".{k:02d}" for k in range(100)]
    + [f".{k:03d}" for k in range(1000)]
)


def _amount_codes(minor: IntArray, decimals: IntArray) -> dict[str, IntArray]:
    """Split minor units into the whole units and the fraction's lookup code."""
    power = 10**decimals
    return {"whole": minor // power, "fraction": _FRACTION_OFFSETS[decimals] + minor % power}


def _amount() -> pl.Expr:
    """Write the ``whole`` and ``fraction`` columns as a plain decimal ("120.50", "1200")."""
    return pl.concat_str(
        pl.col("whole").cast(pl.String), pl.lit(_FRACTIONS).gather(pl.col("fraction"))
    )


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count)))


# --------------------------------------------------------------------------------------
# Country and city tables as arrays
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Tables:
    """Hold the fixed tables as flat arrays and series, built once per call."""

    codes: pl.Series
    currencies: pl.Series
    decimals: IntArray
    scale: IntArray
    step: IntArray
    cities: _Groups
    city_names: pl.Series
    city_regions: pl.Series
    city_zones: pl.Series
    postcodes: pl.Series
    postcode_groups: _Groups  # by city
    postcode_digits: IntArray  # random digits after each prefix ("digits" style)
    postcode_style: IntArray  # 0 digits, 1 gb, 2 ie; by country
    phone_prefix: pl.Series
    phone_digits: IntArray
    phone_first: IntArray
    phone_second: IntArray
    phone_nanp: BoolArray  # North American numbering plan (+1)
    phone_leads: IntArray
    lead_groups: _Groups  # by phone block
    landline_groups: _Groups  # by city
    landlines: IntArray
    mobile_groups: _Groups  # by country
    mobiles: IntArray
    has_mobiles: BoolArray
    calling_codes: pl.Series
    national: tuple[pl.Series, pl.Series, pl.Series]
    streets: pl.Series
    street_groups: _Groups
    number_first: BoolArray
    street_separator: pl.Series
    house_low: IntArray
    house_high: IntArray
    flat_prefix: pl.Series
    flat_suffix: pl.Series
    flat_letters: pl.Series
    flat_letter_groups: _Groups
    flat_high: IntArray
    culture: IntArray
    spanish_names: FloatArray
    spanish_language: FloatArray
    two_surnames: BoolArray
    legal_forms: pl.Series
    legal_groups: _Groups
    methods: FloatArray
    share: FloatArray


def _tables() -> _Tables:
    countries = _COUNTRIES
    cities = [city for country in countries for city in country.cities]
    blocks: list[_Phone] = []
    block_country: list[int] = []
    landlines: list[list[int]] = []
    for index, country in enumerate(countries):
        for city in country.cities:
            landlines.append(list(range(len(blocks), len(blocks) + len(city.landlines))))
            blocks.extend(city.landlines)
            block_country.extend([index] * len(city.landlines))
    mobiles: list[list[int]] = []
    for index, country in enumerate(countries):
        mobiles.append(list(range(len(blocks), len(blocks) + len(country.mobiles))))
        blocks.extend(country.mobiles)
        block_country.extend([index] * len(country.mobiles))
    postcode_lists = [city.postcodes for city in cities]
    postcode_length = [country.postcode_length for country in countries for city in country.cities]
    styles = {"digits": 0, "gb": 1, "ie": 2}
    streets, street_groups = _flat([c.streets for c in countries])
    letters, letter_groups = _flat([list(c.flat[2]) or [""] for c in countries])
    legal, legal_groups = _flat([c.legal_forms for c in countries])
    postcodes, postcode_groups = _flat(postcode_lists)
    return _Tables(
        codes=_strings([c.code for c in countries]),
        currencies=_strings([c.currency for c in countries]),
        decimals=_ints([c.decimals for c in countries]),
        scale=_ints([c.scale for c in countries]),
        step=_ints([c.step for c in countries]),
        cities=_Groups.of([len(c.cities) for c in countries]),
        city_names=_strings([c.name for c in cities]),
        city_regions=_strings([c.region for c in cities]),
        city_zones=_strings([c.zone for c in cities]),
        postcodes=postcodes,
        postcode_groups=postcode_groups,
        postcode_digits=_ints(
            [
                max(0, length - len(prefix))
                for prefixes, length in zip(postcode_lists, postcode_length, strict=True)
                for prefix in prefixes
            ]
        ),
        postcode_style=_ints([styles[c.postcode_style] for c in countries]),
        phone_prefix=_strings([b.prefix for b in blocks]),
        phone_digits=_ints([b.digits for b in blocks]),
        phone_first=_ints([b.groups[0] for b in blocks]),
        phone_second=_ints([b.groups[1] for b in blocks]),
        phone_nanp=np.asarray([countries[c].calling_code == "1" for c in block_country]),
        phone_leads=_ints([int(d) for b in blocks for d in b.lead]),
        lead_groups=_Groups.of([len(b.lead) for b in blocks]),
        landline_groups=_Groups.of([len(group) for group in landlines]),
        landlines=_ints([i for group in landlines for i in group]),
        mobile_groups=_Groups.of([max(1, len(group)) for group in mobiles]),
        # A country without mobile blocks gets a dummy entry, never used (see has_mobiles).
        mobiles=_ints([i for group in mobiles for i in (group or [0])]),
        has_mobiles=np.asarray([bool(c.mobiles) for c in countries]),
        calling_codes=_strings([c.calling_code for c in countries]),
        national=(
            _strings([c.national[0] for c in countries]),
            _strings([c.national[1] for c in countries]),
            _strings([c.national[2] for c in countries]),
        ),
        streets=streets,
        street_groups=street_groups,
        number_first=np.asarray([c.number_first for c in countries]),
        street_separator=_strings([c.street_separator for c in countries]),
        house_low=_ints([c.house_numbers[0] for c in countries]),
        house_high=_ints([c.house_numbers[1] + 1 for c in countries]),
        flat_prefix=_strings([c.flat[0] for c in countries]),
        flat_suffix=_strings([c.flat[1] for c in countries]),
        flat_letters=letters,
        flat_letter_groups=letter_groups,
        flat_high=_ints([c.flat[3] for c in countries]),
        culture=_ints([c.culture for c in countries]),
        spanish_names=np.asarray([c.spanish_names for c in countries]),
        spanish_language=np.asarray([c.spanish_language for c in countries]),
        two_surnames=np.asarray([c.two_surnames for c in countries]),
        legal_forms=legal,
        legal_groups=legal_groups,
        methods=np.asarray([c.methods for c in countries], dtype=np.float64),
        share=np.asarray([c.share for c in countries], dtype=np.float64),
    )


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def generate(*, accounts: int, seed: int, as_of: datetime.date) -> Portfolio:
    """Generate a demo book of ``accounts`` accounts as it stands on ``as_of``.

    Customers hold 1.2 accounts on average. Charges follow each account's monthly
    schedule up to and just past ``as_of``; payments and everything else are dated on or
    before ``as_of``. Raises ``ValueError`` if ``accounts`` is below 1 and ``TypeError``
    if ``as_of`` is a datetime rather than a date.
    """
    if accounts < 1:
        raise ValueError(f"accounts must be at least 1, not {accounts}")
    if isinstance(as_of, datetime.datetime):
        raise TypeError("as_of must be a date, not a datetime")
    rng = np.random.default_rng(seed)
    tables = _tables()
    holder = _holders(rng, accounts)
    customers = int(holder[-1]) + 1
    country = _weighted(rng, tuple(tables.share), customers)
    business = rng.random(customers) < 0.15
    plan = _Plan.draw(
        rng,
        tables=tables,
        country=country[holder],
        business=business[holder],
        holder=holder,
        as_of=as_of,
    )
    charges = _Charges.draw(rng, plan=plan)
    payments = _Payments.draw(rng, plan=plan, charges=charges, as_of=as_of)
    customer_frame = _customer_frame(
        rng, tables=tables, country=country, business=business, as_of=as_of
    )
    account_frame = _account_frame(tables=tables, plan=plan, customers=customers)
    charge_frame = _charge_frame(charges=charges, accounts=account_frame)
    # The row arrays are spent once their frame exists; letting them go keeps the peak
    # memory of a million-account book down.
    del plan, charges
    payment_frame = _payment_frame(payments=payments, accounts=account_frame, charges=charge_frame)
    return Portfolio(
        customers=customer_frame,
        accounts=account_frame,
        charges=charge_frame,
        payments=payment_frame,
    )


def _holders(rng: np.random.Generator, accounts: int) -> IntArray:
    """Return the customer index of each account: 1, 2 or 3 accounts each, 1.2 on average."""
    # Every customer holds at least one account, so ``accounts`` draws always suffice.
    held = _weighted(rng, (0.84, 0.12, 0.04), accounts) + 1
    total = np.cumsum(held)
    customers = int(np.searchsorted(total, accounts)) + 1
    held = held[:customers]
    held[-1] -= int(total[customers - 1]) - accounts
    return np.repeat(np.arange(customers, dtype=np.int64), held)


# --------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------


def _customer_frame(
    rng: np.random.Generator,
    *,
    tables: _Tables,
    country: IntArray,
    business: BoolArray,
    as_of: datetime.date,
) -> pl.DataFrame:
    n = len(country)
    city = tables.cities.draw(rng, country)
    spanish = rng.random(n) < tables.spanish_names[country]
    culture = np.where(spanish, ES, tables.culture[country])
    first_names, first_groups = _flat(_FIRST_NAMES)
    last_names, last_groups = _flat(_LAST_NAMES)
    biz_first, biz_first_groups = _flat(_BUSINESS_FIRST)
    biz_second, biz_second_groups = _flat(_BUSINESS_SECOND)
    birth = _Days.of(_days(as_of) - rng.integers(25 * 365, 86 * 365, n), blank=business)
    codes: dict[str, npt.NDArray[np.generic]] = {
        "business": business,
        "country": country,
        "city": city,
        "first": first_groups.draw(rng, culture),
        "last": last_groups.draw(rng, culture),
        "last2": last_groups.draw(rng, culture),
        "two": tables.two_surnames[country] & (culture == ES),
        "biz": biz_first_groups.draw(rng, culture),
        "biz2": biz_second_groups.draw(rng, culture),
        "legal": tables.legal_groups.draw(rng, country),
        "birth": birth.codes,
        "street": tables.street_groups.draw(rng, country),
        "number_first": tables.number_first[country],
        "house": _between(rng, tables.house_low[country], tables.house_high[country]),
        "flat": np.where(
            rng.random(n) < 0.25,
            1 + (rng.random(n) * tables.flat_high[country]).astype(np.int64),
            0,
        ),
        "letter": tables.flat_letter_groups.draw(rng, country),
        "spanish": (culture == ES) & (rng.random(n) < tables.spanish_language[country]),
        "zone": np.where(rng.random(n) < 0.06, city, len(tables.city_zones)),
    }
    codes |= _postcode_codes(rng, tables=tables, country=country, city=city)
    phone_count = _weighted(rng, (0.05, 0.65, 0.30), n)
    # Most people give a mobile first; businesses more often an office line.
    mobile_first = rng.random(n) < np.where(business, 0.4, 0.85)
    codes["phone_count"] = phone_count
    codes |= _phone_codes(rng, tables=tables, country=country, city=city, mobile_first=mobile_first)
    codes |= _contact_codes(rng, phone_count=phone_count, mobile_first=mobile_first)
    frame = pl.DataFrame(codes)
    # E-mail addresses use the names without accents, spaces or apostrophes.
    slugs = [
        _strings([_slug(name) for names in pool for name in names])
        for pool in (_FIRST_NAMES, _LAST_NAMES, _BUSINESS_FIRST, _BUSINESS_SECOND)
    ]
    frame = frame.with_columns(
        _phone("a", tables).alias("phone_a"),
        _phone("b", tables).alias("phone_b"),
        _postcode(tables).alias("postcode"),
        _email_local(*slugs).alias("local"),
        _take(slugs[0], "first").str.slice(0, 1).alias("initial"),
        _take(slugs[1], "last").alias("last_slug"),
        pl.concat_str(_take(slugs[2], "biz"), _take(slugs[3], "biz2")).alias("company"),
    )
    name = pl.concat_str(
        _take(first_names, "first"),
        pl.lit(" "),
        _take(last_names, "last"),
        pl.when("two").then(pl.lit(" ") + _take(last_names, "last2")).otherwise(pl.lit("")),
    )
    business_name = pl.concat_str(
        _take(biz_first, "biz"),
        pl.lit(" "),
        _take(biz_second, "biz2"),
        pl.lit(" "),
        _take(tables.legal_forms, "legal"),
    )
    street = _take(tables.streets, "street")
    house = pl.col("house").cast(pl.String)
    line2 = pl.concat_str(
        _take(tables.flat_prefix, "country"),
        pl.col("flat").cast(pl.String),
        _take(tables.flat_suffix, "country"),
        _take(tables.flat_letters, "letter"),
    )
    count = pl.col("phone_count")
    return _select(
        frame,
        _ref("C", pl.int_range(1, n + 1), count=n, width=_width(n, 7)).alias("external_ref"),
        pl.when("business")
        .then(pl.lit("BUSINESS"))
        .otherwise(pl.lit("CONSUMER"))
        .alias("debtor_type"),
        pl.when("business").then(business_name).otherwise(name).alias("name"),
        birth.expr("birth").alias("date_of_birth"),
        pl.when("number_first")
        .then(pl.concat_str(house, pl.lit(" "), street))
        .otherwise(pl.concat_str(street, _take(tables.street_separator, "country"), house))
        .alias("address_line1"),
        pl.when(pl.col("flat") > 0).then(line2).otherwise(pl.lit("")).alias("address_line2"),
        _take(tables.city_names, "city").alias("city"),
        _take(tables.city_regions, "city").alias("region"),
        pl.col("postcode"),
        _take(tables.codes, "country").alias("country"),
        pl.when(count == 0)
        .then(pl.lit(""))
        .when(count == 1)
        .then(pl.col("phone_a"))
        .otherwise(pl.concat_str("phone_a", pl.lit(";"), "phone_b"))
        .alias("phones"),
        _emails().alias("emails"),
        _take(CHANNELS, "channel").alias("preferred_channel"),
        _clock("start").alias("contact_hours_start"),
        _clock("end").alias("contact_hours_end"),
        pl.when("spanish").then(pl.lit("es")).otherwise(pl.lit("en")).alias("language"),
        _take(tables.city_zones.append(_strings([""])), "zone").alias("time_zone"),
    )


def _postcode_codes(
    rng: np.random.Generator, *, tables: _Tables, country: IntArray, city: IntArray
) -> dict[str, npt.NDArray[np.generic]]:
    n = len(country)
    prefix = tables.postcode_groups.draw(rng, city)
    power = 10 ** tables.postcode_digits[prefix]
    return {
        "postcode_style": tables.postcode_style[country],
        "postcode_prefix": prefix,
        "postcode_power": power,
        # Never all zeros after the prefix: such codes are not delivery areas.
        "postcode_value": 1 + (rng.random(n) * (power - 1)).astype(np.int64),
        "postcode_district": rng.integers(1, 21, n),
        "postcode_digit": rng.integers(0, 10, n),
        "postcode_letter1": rng.integers(0, len(_GB_LETTERS), n),
        "postcode_letter2": rng.integers(0, len(_GB_LETTERS), n),
        "eircode_letter": rng.integers(0, len(_EIRCODE_LETTERS), n),
        "eircode1": rng.integers(0, len(_EIRCODE_CHARACTERS), n),
        "eircode2": rng.integers(0, len(_EIRCODE_CHARACTERS), n),
        "eircode3": rng.integers(0, len(_EIRCODE_CHARACTERS), n),
    }


def _postcode(tables: _Tables) -> pl.Expr:
    prefix = _take(tables.postcodes, "postcode_prefix")
    digits = pl.concat_str(
        prefix, (pl.col("postcode_value") + pl.col("postcode_power")).cast(pl.String).str.slice(1)
    )
    gb_letters = list(_GB_LETTERS)
    british = pl.concat_str(
        prefix,
        pl.col("postcode_district").cast(pl.String),
        pl.lit(" "),
        pl.col("postcode_digit").cast(pl.String),
        _take(gb_letters, "postcode_letter1"),
        _take(gb_letters, "postcode_letter2"),
    )
    characters = list(_EIRCODE_CHARACTERS)
    eircode = pl.concat_str(
        prefix,
        pl.lit(" "),
        _take(list(_EIRCODE_LETTERS), "eircode_letter"),
        _take(characters, "eircode1"),
        _take(characters, "eircode2"),
        _take(characters, "eircode3"),
    )
    style = pl.col("postcode_style")
    return pl.when(style == 0).then(digits).when(style == 1).then(british).otherwise(eircode)


def _phone_codes(
    rng: np.random.Generator,
    *,
    tables: _Tables,
    country: IntArray,
    city: IntArray,
    mobile_first: BoolArray,
) -> dict[str, npt.NDArray[np.generic]]:
    """Draw two numbers per customer, a mobile and a landline, ``mobile_first`` or not."""
    n = len(country)
    # Some customers moved and kept their number: its area code is another city's.
    moved = rng.random(n) < 0.08
    phone_city = np.where(moved, tables.cities.draw(rng, country), city)
    landline = tables.landlines[tables.landline_groups.draw(rng, phone_city)]
    # Where mobiles share the landlines' area codes (US, MX), a mobile is drawn like one.
    own_mobile = tables.mobiles[tables.mobile_groups.draw(rng, country)]
    mobile = np.where(tables.has_mobiles[country], own_mobile, landline)
    second_landline = tables.landlines[tables.landline_groups.draw(rng, phone_city)]
    codes: dict[str, npt.NDArray[np.generic]] = {}
    for slot, block in (
        ("a", np.where(mobile_first, mobile, landline)),
        ("b", np.where(mobile_first, second_landline, mobile)),
    ):
        digits = tables.phone_digits[block]
        lead = tables.phone_leads[tables.lead_groups.draw(rng, block)]
        rest = 10 ** (digits - 1)
        value = lead * rest + (rng.random(n) * rest).astype(np.int64)
        # North American exchanges N11 and 555 are service and fictional codes.
        exchange = value // 10**4
        odd = tables.phone_nanp[block] & ((exchange == 555) | (exchange % 100 == 11))
        value = np.where(odd, value - 10**4, value)
        codes |= {
            f"{slot}_block": block,
            f"{slot}_power": 10**digits,
            f"{slot}_value": value,
            f"{slot}_first": tables.phone_first[block],
            f"{slot}_second": tables.phone_second[block],
            f"{slot}_national": rng.random(n) < 0.35,
        }
    return codes


def _phone(slot: str, tables: _Tables) -> pl.Expr:
    """Write a slot's number in E.164 or, for about a third, its national format."""
    digits = (pl.col(f"{slot}_value") + pl.col(f"{slot}_power")).cast(pl.String).str.slice(1)
    number = pl.concat_str(_take(tables.phone_prefix, f"{slot}_block"), digits)
    first, second = pl.col(f"{slot}_first"), pl.col(f"{slot}_second")
    before, between, third = (_take(part, "country") for part in tables.national)
    rest = (
        pl.when(number.str.len_chars() > first + second)
        .then(pl.concat_str(third, number.str.slice(first + second)))
        .otherwise(pl.lit(""))
    )
    national = pl.concat_str(
        before, number.str.slice(0, first), between, number.str.slice(first, second), rest
    )
    e164 = pl.concat_str(pl.lit("+"), _take(tables.calling_codes, "country"), number)
    return pl.when(f"{slot}_national").then(national).otherwise(e164)


def _contact_codes(
    rng: np.random.Generator, *, phone_count: IntArray, mobile_first: BoolArray
) -> dict[str, npt.NDArray[np.generic]]:
    n = len(phone_count)
    has_email = rng.random(n) < 0.90
    channel = _weighted(rng, _CHANNEL_WEIGHTS, n)
    # A preference for a channel the customer cannot be reached on would be nonsense.
    texts = (phone_count >= 2) | ((phone_count == 1) & mobile_first)
    unreachable = (
        ((channel == _EMAIL) & ~has_email)
        | ((channel == _SMS) & ~texts)
        | ((channel == _CALL) & (phone_count == 0))
    )
    with_hours = rng.random(n) < 0.20
    start = 7 * 60 + 30 * rng.integers(0, 11, n)  # 07:00 to 12:00
    end = np.minimum(start + 60 * rng.integers(4, 11, n), 21 * 60)
    return {
        "has_email": has_email,
        "second_email": has_email & (rng.random(n) < 0.08),
        "email_style": rng.integers(0, 4, n),
        "email_number": np.where(rng.random(n) < 0.55, rng.integers(1, 1000, n), 0),
        "email_number2": rng.integers(1, 100, n),
        "department": rng.integers(0, len(_DEPARTMENTS), n),
        "domain": _weighted(rng, _EMAIL_DOMAIN_WEIGHTS, n),
        "domain2": _weighted(rng, _EMAIL_DOMAIN_WEIGHTS, n),
        "channel": np.where(unreachable, _NO_CHANNEL, channel),
        "start": np.where(with_hours, start, -1),
        "end": np.where(with_hours, end, -1),
    }


def _clock(column: str) -> pl.Expr:
    """Write minutes after midnight as HH:MM, and -1 as ""."""
    minutes = pl.col(column)
    text = pl.concat_str(
        (minutes // 60 + 100).cast(pl.String).str.slice(1),
        pl.lit(":"),
        (minutes % 60 + 100).cast(pl.String).str.slice(1),
    )
    return pl.when(minutes >= 0).then(text).otherwise(pl.lit(""))


def _email_local(
    first: pl.Series, last: pl.Series, biz_first: pl.Series, biz_second: pl.Series
) -> pl.Expr:
    given, family = _take(first, "first"), _take(last, "last")
    style = pl.col("email_style")
    personal = (
        pl.when(style == 0)
        .then(pl.concat_str(given, pl.lit("."), family))
        .when(style == 1)
        .then(pl.concat_str(given, family))
        .when(style == 2)
        .then(pl.concat_str(given.str.slice(0, 1), family))
        .otherwise(pl.concat_str(given, pl.lit("_"), family))
    )
    company = pl.concat_str(
        _take(_DEPARTMENTS, "department"),
        pl.lit("."),
        _take(biz_first, "biz"),
        _take(biz_second, "biz2"),
    )
    return pl.when("business").then(company).otherwise(personal)


def _emails() -> pl.Expr:
    number = (
        pl.when(pl.col("email_number") > 0)
        .then(pl.col("email_number").cast(pl.String))
        .otherwise(pl.lit(""))
    )
    main = pl.concat_str("local", number, pl.lit("@"), _take(_EMAIL_DOMAINS, "domain"))
    other_local = (
        pl.when("business")
        .then(pl.concat_str(pl.lit("ap."), "company"))
        .otherwise(pl.concat_str("initial", pl.lit("."), "last_slug"))
    )
    other = pl.concat_str(
        other_local,
        pl.col("email_number2").cast(pl.String),
        pl.lit("@"),
        _take(_EMAIL_DOMAINS, "domain2"),
    )
    return (
        pl.when(~pl.col("has_email"))
        .then(pl.lit(""))
        .when("second_email")
        .then(pl.concat_str(main, pl.lit(";"), other))
        .otherwise(main)
    )


# --------------------------------------------------------------------------------------
# Accounts and their repayment plans
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Plan:
    """Hold each account's schedule and how its customer has kept to it.

    The schedule is ``count`` monthly charges due on ``day`` from month ``first``; the
    first ``paid`` were paid in full. A delinquent account's oldest unpaid charge falls
    in month ``oldest``, ``behind`` months before the last one already due.
    """

    holder: IntArray
    country: IntArray
    product: IntArray
    day: IntArray
    count: IntArray
    first: IntArray
    paid: IntArray
    delinquent: BoolArray
    behind: IntArray
    oldest: IntArray
    status: IntArray
    opened: IntArray
    limit: FloatArray
    balance: FloatArray
    base: FloatArray
    label: IntArray
    term: IntArray
    method: IntArray
    fee: BoolArray
    interest: BoolArray
    partial: BoolArray
    early: BoolArray
    decimals: IntArray
    scale: IntArray
    step: IntArray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        *,
        tables: _Tables,
        country: IntArray,
        business: BoolArray,
        holder: IntArray,
        as_of: datetime.date,
    ) -> _Plan:
        n = len(holder)
        mix = np.asarray([_CONSUMER_PRODUCTS, _BUSINESS_PRODUCTS], dtype=np.float64)
        product = _weighted_by(rng, mix, business.astype(np.int64))
        day = rng.integers(1, 29, n)
        count = np.where(product == BNPL, 4, rng.integers(6, 13, n))
        today = _days(as_of)
        # The latest month whose due date is already behind us (strictly before as_of).
        last_due = _month_of(as_of) - (day >= as_of.day)

        delinquent = rng.random(n) < _DELINQUENT_SHARE
        bucket = _weighted(rng, _BUCKET_WEIGHTS, n)
        low = _ints([b[0] for b in _BUCKETS])[bucket]
        high = _ints([b[1] + 1 for b in _BUCKETS])[bucket]
        behind = np.where(delinquent, _between(rng, low, high), 0)
        closed = ~delinquent & (rng.random(n) < _CLOSED_SHARE)
        charged_off = delinquent & (behind >= 6) & (rng.random(n) < 0.6)

        # A bill exists once issued, so a billed product lists next month's charge only if
        # its bill is already out; loans and BNPL list up to two future instalments.
        lead = _ints(_ISSUE_LEAD)[product]
        next_issued = _due_days(last_due + 1, day) - lead <= today
        billed_ahead = (next_issued & (rng.random(n) < 0.85)).astype(np.int64)
        ahead = np.where(lead > 0, billed_ahead, _weighted(rng, (0.25, 0.5, 0.25), n))
        ahead = np.where(closed | charged_off, 0, ahead)
        gap = rng.integers(1, 7, n)  # months since a closed account's last charge

        oldest = last_due - behind
        paid_before = np.maximum(0, count - 1 - behind - ahead)
        # Billing stops at charge-off, six missed payments in.
        count = np.where(charged_off, np.minimum(count, paid_before + 6), count)
        last = np.where(closed, last_due - gap, last_due + ahead)
        first = np.where(delinquent, oldest - paid_before, last - count + 1)
        paid = np.where(delinquent, paid_before, np.where(closed, count, count - ahead))

        ended = np.where((product == LOAN) | (product == BNPL), _SETTLED, _CLOSED)
        status = np.where(closed, ended, np.where(charged_off, _CHARGED_OFF, _OPEN))
        opening_low = _ints([lo for lo, _ in _OPENING_LEAD])[product]
        opening_high = _ints([hi for _, hi in _OPENING_LEAD])[product]
        opened = _due_days(first, day) - _between(rng, opening_low, opening_high)

        is_card = product == CARD
        limit = np.asarray(_CARD_LIMITS, dtype=np.float64)[_weighted(rng, _CARD_LIMIT_WEIGHTS, n)]
        balance = limit * rng.uniform(0.2, 0.95, n)
        base = np.select(
            [is_card, product == LOAN, product == UTILITY, product == TELCO],
            [balance, rng.uniform(100, 800, n), rng.uniform(40, 150, n), rng.uniform(30, 120, n)],
            default=rng.uniform(60, 1000, n) / 4,
        )
        label = np.select(
            [is_card, product == LOAN, product == UTILITY, product == TELCO],
            [0, 1, rng.integers(2, 5, n), rng.integers(5, 7, n)],
            default=7,
        )
        term = np.where(
            product == LOAN,
            _ints(_LOAN_TERMS)[rng.integers(0, len(_LOAN_TERMS), n)],
            4,
        )
        method = _weighted_by(rng, tables.methods, country)
        # Pay-in-4 is always collected from the card it was bought with.
        method = np.where(product == BNPL, _CARD_METHOD, method)
        late = delinquent & (behind >= 1)
        return cls(
            holder=holder,
            country=country,
            product=product,
            day=day,
            count=count,
            first=first,
            paid=paid,
            delinquent=delinquent,
            behind=behind,
            oldest=oldest,
            status=status,
            opened=opened,
            limit=np.where(is_card, limit, 0.0),
            balance=balance,
            base=base,
            label=label,
            term=term,
            method=method,
            fee=late & (rng.random(n) < 0.7),
            interest=late & is_card,
            partial=delinquent & (rng.random(n) < 0.4),
            early=~delinquent & (status == _OPEN) & (count > paid) & (rng.random(n) < 0.12),
            decimals=tables.decimals[country],
            scale=tables.scale[country],
            step=tables.step[country],
        )

    def minor(self, price: FloatArray, account: IntArray) -> IntArray:
        """Convert prices to minor units of each account's currency, rounded to its step."""
        step = self.step[account]
        units = price * self.scale[account] * 10.0 ** self.decimals[account] / step
        return np.maximum(1, np.round(units)).astype(np.int64) * step


def _account_frame(*, tables: _Tables, plan: _Plan, customers: int) -> pl.DataFrame:
    n = len(plan.holder)
    opened = _Days.of(plan.opened)
    everyone = np.arange(n, dtype=np.int64)
    frame = pl.DataFrame(
        {
            "i": everyone + 1,
            "holder": plan.holder + 1,
            "product": plan.product,
            "country": plan.country,
            **_amount_codes(plan.minor(plan.limit, everyone), plan.decimals),
            "opened": opened.codes,
            "status": plan.status,
        }
    )
    return _select(
        frame,
        _ref("A", pl.col("i"), count=n, width=_width(n, 7)).alias("external_ref"),
        _ref("C", pl.col("holder"), count=customers, width=_width(customers, 7)).alias(
            "customer_ref"
        ),
        _take(PRODUCTS, "product").alias("product_type"),
        _take(tables.currencies, "country").alias("currency"),
        pl.when(pl.col("product") == CARD)
        .then(_amount())
        .otherwise(pl.lit(""))
        .alias("credit_limit"),
        opened.expr("opened").alias("opened_date"),
        _take(STATUSES, "status").alias("status"),
    )


# --------------------------------------------------------------------------------------
# Charges
# --------------------------------------------------------------------------------------


def _blocks(sizes: IntArray) -> IntArray:
    """Return each row's position within its block, for consecutive blocks of ``sizes``."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _price_shape(plan: _Plan) -> tuple[FloatArray, ...]:
    """Return per-account (level, swing, spike, floor, cap) of the monthly charge.

    A charge is ``clip(level + swing * u + spike * max(0, u - 0.85), floor, cap)`` for a
    uniform ``u``: card minimums follow the balance, utility bills swing with the
    seasons, phone bills are flat apart from the odd month of extras, and instalments
    never change.
    """
    product, base = plan.product, plan.base
    card, utility, telco = product == CARD, product == UTILITY, product == TELCO
    zero = np.zeros_like(base)
    level = np.where(card, 0.0225 * base, np.where(utility, 0.75 * base, base))
    swing = np.where(card, 0.005 * base, np.where(utility, 0.55 * base, zero))
    spike = np.where(telco, 4.0 * base, zero)
    floor = np.where(card, 25.0, np.where(utility | telco, 30.0, 0.0))
    cap = np.where(utility | telco, 200.0, np.inf)
    return level, swing, spike, floor, cap


_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_SCHEDULE_LENGTHS = (4, *_LOAN_TERMS)
_MAX_NUMBER = 13  # instalment numbers run from 1 to at most 12


def _descriptions(plan: _Plan) -> tuple[pl.Series, IntArray, IntArray]:
    """Return the few hundred distinct descriptions, and each account's first code and step.

    The n-th scheduled charge of an account has code ``first + n * step``. Numbered
    schedules read "Loan instalment 3 of 24", bills "Gas bill, October 2026"; the last
    two entries are the fee and interest labels.
    """
    low = int(plan.first.min())
    high = int((plan.first + plan.count).max())
    span = high - low + 1
    labels = len(_LABELS)
    plain = (_FEE_LABEL, _INTEREST_LABEL)
    monthly_labels = [k for k in range(labels) if k not in _NUMBERED_LABELS and k not in plain]
    numbered = np.full(labels, -1, dtype=np.int64)
    numbered[list(_NUMBERED_LABELS)] = np.arange(len(_NUMBERED_LABELS))
    monthly = np.full(labels, -1, dtype=np.int64)
    monthly[monthly_labels] = np.arange(len(monthly_labels))
    lengths = len(_SCHEDULE_LENGTHS)
    length_index = np.zeros(max(_SCHEDULE_LENGTHS) + 1, dtype=np.int64)
    length_index[list(_SCHEDULE_LENGTHS)] = np.arange(lengths)

    table = [
        f"{_LABELS[label]} {number} of {length}"
        for label in _NUMBERED_LABELS
        for number in range(_MAX_NUMBER)
        for length in _SCHEDULE_LENGTHS
    ]
    monthly_start = len(table)
    table += [
        f"{_LABELS[label]}, {_MONTH_NAMES[m % 12]} {m // 12}"
        for label in monthly_labels
        for m in range(low, high + 1)
    ]
    table += [_LABELS[label] for label in plain]

    label = plan.label
    is_numbered = numbered[label] >= 0
    first = np.where(
        is_numbered,
        (numbered[label] * _MAX_NUMBER + 1) * lengths + length_index[plan.term],
        monthly_start + monthly[label] * span + plan.first - low,
    )
    return _strings(table), first, np.where(is_numbered, lengths, 1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Charges:
    """Hold every charge row in output order: each account's schedule, then extras."""

    account: IntArray
    kind: IntArray
    minor: IntArray
    decimals: IntArray
    issued: IntArray
    unissued: BoolArray
    due: IntArray
    description: IntArray
    descriptions: pl.Series
    start: IntArray  # row of each account's first charge

    @classmethod
    def draw(cls, rng: np.random.Generator, *, plan: _Plan) -> _Charges:
        n = len(plan.holder)
        count = plan.count
        fee = plan.fee.astype(np.int64)
        interest = plan.interest.astype(np.int64)
        extras = fee + interest
        start = np.cumsum(count + extras) - count - extras
        total = int((count + extras).sum())

        def spread(values: npt.NDArray[_T]) -> npt.NDArray[_T]:
            # Scheduled rows come in account order, so repeating beats indexing.
            return np.repeat(values, count)

        position = _blocks(count)
        scheduled = len(position)
        due = _due_days(spread(plan.first) + position, spread(plan.day))
        noise = rng.random(scheduled)
        level, swing, spike, floor, cap = (spread(v) for v in _price_shape(plan))
        price = np.clip(level + swing * noise + spike * np.maximum(0.0, noise - 0.85), floor, cap)
        factor = plan.scale * 10.0**plan.decimals / plan.step
        minor = np.maximum(1, np.round(price * spread(factor))).astype(np.int64)
        minor *= spread(plan.step)
        lead = _ints(_ISSUE_LEAD)[plan.product]
        kind = np.where((plan.product == UTILITY) | (plan.product == TELCO), _INVOICE, _INSTALMENT)
        descriptions, first_code, code_step = _descriptions(plan)

        fee_account = np.flatnonzero(plan.fee)
        fee_issued = _due_days(plan.oldest[fee_account], plan.day[fee_account]) + 15
        fee_low = _ints([lo for lo, _ in _LATE_FEES])[plan.product[fee_account]]
        fee_high = _ints([hi for _, hi in _LATE_FEES])[plan.product[fee_account]]
        fee_price = _between(rng, fee_low, fee_high).astype(np.float64)

        interest_account = np.flatnonzero(plan.interest)
        interest_due = _due_days(plan.oldest[interest_account] + 1, plan.day[interest_account])
        behind = np.minimum(plan.behind[interest_account], 6)
        interest_price = 0.018 * plan.balance[interest_account] * behind

        fee_place = start[fee_account] + count[fee_account]
        interest_place = start[interest_account] + count[interest_account] + fee[interest_account]
        # Scheduled rows keep their order, so a mask places them without an index array.
        scheduled_rows = np.ones(total, dtype=np.bool_)
        scheduled_rows[fee_place] = False
        scheduled_rows[interest_place] = False

        def arrange(
            scheduled_values: npt.NDArray[np.generic],
            fee_values: npt.NDArray[np.generic] | int,
            interest_values: npt.NDArray[np.generic] | int,
        ) -> IntArray:
            out = np.empty(total, dtype=np.int64)
            out[scheduled_rows] = scheduled_values
            out[fee_place] = fee_values
            out[interest_place] = interest_values
            return out

        return cls(
            account=arrange(spread(np.arange(n, dtype=np.int64)), fee_account, interest_account),
            kind=arrange(spread(kind), _FEE, _INTEREST),
            minor=arrange(
                minor,
                plan.minor(fee_price, fee_account),
                plan.minor(interest_price, interest_account),
            ),
            decimals=arrange(
                spread(plan.decimals),
                plan.decimals[fee_account],
                plan.decimals[interest_account],
            ),
            issued=arrange(due - spread(lead), fee_issued, interest_due - 21),
            unissued=arrange(spread(lead == 0), 0, 0).astype(np.bool_),
            due=arrange(due, fee_issued + 14, interest_due),
            description=arrange(
                spread(first_code) + position * spread(code_step),
                len(descriptions) - 2,
                len(descriptions) - 1,
            ),
            descriptions=descriptions,
            start=start,
        )


def _charge_frame(*, charges: _Charges, accounts: pl.DataFrame) -> pl.DataFrame:
    total = len(charges.account)
    issued = _Days.of(charges.issued, blank=charges.unissued)
    due = _Days.of(charges.due)
    frame = pl.DataFrame(
        {
            "account": charges.account,
            "kind": charges.kind,
            **_amount_codes(charges.minor, charges.decimals),
            "issued": issued.codes,
            "due": due.codes,
            "description": charges.description,
        }
    )
    number = pl.int_range(1, total + 1, dtype=pl.Int64)
    return _select(
        frame,
        _ref("CH", number, count=total, width=_width(total, 8)).alias("external_ref"),
        pl.lit(accounts.get_column("external_ref")).gather("account").alias("account_ref"),
        _take(KINDS, "kind").alias("kind"),
        _amount().alias("amount"),
        pl.lit(accounts.get_column("currency")).gather("account").alias("currency"),
        issued.expr("issued").alias("issued_date"),
        due.expr("due").alias("due_date"),
        _take(charges.descriptions, "description").alias("description"),
    )


# --------------------------------------------------------------------------------------
# Payments
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Payments:
    """Hold every payment row in output order: each account's payments by date."""

    account: IntArray
    charge_row: IntArray  # the charge a payment settles in full, or -1 for a part payment
    part_minor: IntArray  # amounts of the part payments, in row order
    part_decimals: IntArray
    received: IntArray
    method: IntArray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, *, plan: _Plan, charges: _Charges, as_of: datetime.date
    ) -> _Payments:
        today = _days(as_of)
        n = len(plan.holder)
        paid = plan.paid
        # The paid charges are the first ``paid`` of each schedule, in account order.
        position = _blocks(paid)
        count = len(position)
        rows = np.repeat(charges.start, paid) + position
        method = np.repeat(plan.method, paid)
        # Most pay a few days ahead, some a little late; direct debits land on the day.
        early = -(rng.random(count) * 8).astype(np.int64)
        late = 1 + (rng.random(count) * 14).astype(np.int64)
        delay = np.where(rng.random(count) < 0.85, early, late)
        delay = np.where(method == _DIRECT_DEBIT, 0, delay)
        received = np.minimum(
            np.maximum(charges.due[rows] + delay, np.repeat(plan.opened, paid)), today
        )

        # One extra payment at most: part of the oldest unpaid charge for some delinquent
        # accounts, next month's charge paid before it is due for a few current ones.
        has_extra = plan.partial | plan.early
        extra_account = np.flatnonzero(has_extra)
        target = charges.start[extra_account] + paid[extra_account]
        full = charges.minor[target]
        step = plan.step[extra_account]
        decimals = plan.decimals[extra_account]
        # Part payments are round sums: whole units, or thousands of pesos.
        unit = np.where(decimals == 0, 100 * step, 10**decimals)
        share = rng.uniform(0.15, 0.8, len(extra_account))
        part = np.maximum(unit, (full * share / unit).astype(np.int64) * unit)
        part = np.minimum(part, full - step)
        last_due = _due_days(
            plan.first[extra_account] + paid[extra_account] - 1, plan.day[extra_account]
        )
        oldest_due = charges.due[target]
        draw = rng.random(len(extra_account))
        partial_on = oldest_due + (draw * (today - oldest_due)).astype(np.int64)
        early_on = today - (draw * np.minimum(10, today - last_due)).astype(np.int64)
        is_partial = plan.partial[extra_account]
        extra_method = plan.method[extra_account]
        extra_method = np.where(extra_method == _DIRECT_DEBIT, _CARD_METHOD, extra_method)

        extra = has_extra.astype(np.int64)
        per_account = paid + extra
        start = np.cumsum(per_account) - per_account
        extra_place = start[extra_account] + paid[extra_account]
        total = int(per_account.sum())
        # Payments of scheduled charges keep their order: a mask places them.
        scheduled_rows = np.ones(total, dtype=np.bool_)
        scheduled_rows[extra_place] = False

        def arrange(scheduled_values: IntArray, extra_values: IntArray) -> IntArray:
            out = np.empty(total, dtype=np.int64)
            out[scheduled_rows] = scheduled_values
            out[extra_place] = extra_values
            return out

        return cls(
            account=arrange(np.repeat(np.arange(n, dtype=np.int64), paid), extra_account),
            charge_row=arrange(rows, np.where(is_partial, -1, target)),
            part_minor=part[is_partial],
            part_decimals=decimals[is_partial],
            received=arrange(received, np.where(is_partial, partial_on, early_on)),
            method=arrange(method, extra_method),
        )


def _payment_frame(
    *, payments: _Payments, accounts: pl.DataFrame, charges: pl.DataFrame
) -> pl.DataFrame:
    total = len(payments.account)
    received = _Days.of(payments.received)
    width = _width(total, 8)
    # A payment of a whole charge repeats the charge's amount text: look it up rather
    # than format it again, and format only the part payments.
    whole_charge = payments.charge_row >= 0
    frame = pl.DataFrame(
        {
            "account": payments.account,
            "charge_row": np.where(whole_charge, payments.charge_row, 0),
            "received": received.codes,
            "method": payments.method,
        }
    )
    number = pl.int_range(1, total + 1, dtype=pl.Int64)
    high = [f"{h:0{width - 4}d}" for h in range(total // _LOW_DIGITS + 1)]
    provider = pl.concat_str(
        _take(_PROVIDER_PREFIXES, "method"),
        pl.lit(_strings(high)).gather(number // _LOW_DIGITS),
        pl.lit(_LOW_TEXT).gather(number % _LOW_DIGITS),
    )
    result = _select(
        frame,
        _ref("P", number, count=total, width=width).alias("external_ref"),
        pl.lit(accounts.get_column("external_ref")).gather("account").alias("account_ref"),
        pl.lit(charges.get_column("amount")).gather("charge_row").alias("amount"),
        pl.lit(accounts.get_column("currency")).gather("account").alias("currency"),
        received.expr("received").alias("received_date"),
        _take(METHODS, "method").alias("method"),
        # Letters first, so a provider reference can never be mistaken for a card number.
        provider.alias("provider_reference"),
    )
    parts = pl.DataFrame(_amount_codes(payments.part_minor, payments.part_decimals))
    amounts = result.get_column("amount").scatter(
        np.flatnonzero(~whole_charge), parts.select(_amount()).to_series()
    )
    return result.with_columns(amounts)
