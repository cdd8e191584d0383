"""Name every kind of audit event Accord writes.

Past-tense names, stable UPPER_CASE values; ``docs/audit-events.md`` documents
each one and a test fails when one is missing there.
"""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    CUSTOMERS_IMPORTED = "CUSTOMERS_IMPORTED"
    ACCOUNTS_IMPORTED = "ACCOUNTS_IMPORTED"
    CHARGES_IMPORTED = "CHARGES_IMPORTED"
    PAYMENTS_IMPORTED = "PAYMENTS_IMPORTED"
    CUSTOMER_CREATED = "CUSTOMER_CREATED"
    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    CHARGE_CREATED = "CHARGE_CREATED"
    PAYMENT_CREATED = "PAYMENT_CREATED"
    VULNERABILITY_RECORDED = "VULNERABILITY_RECORDED"
    DISPUTE_RAISED = "DISPUTE_RAISED"
    CEASE_REQUESTED = "CEASE_REQUESTED"
    CHANNEL_OPTED_OUT = "CHANNEL_OPTED_OUT"
    CONSENT_RECORDED = "CONSENT_RECORDED"
    USER_CREATED = "USER_CREATED"
    API_TOKEN_ISSUED = "API_TOKEN_ISSUED"  # noqa: S105 - an event name
    API_TOKEN_REVOKED = "API_TOKEN_REVOKED"  # noqa: S105 - an event name
