"""Accord's tables: thin models whose integrity lives in database constraints.

Money is stored as integer minor units beside an ISO 4217 currency code; the
domain converts it to ``Decimal`` at the edge (ADR 0003).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DebtorType(models.TextChoices):
    CONSUMER = "CONSUMER", "Consumer"
    BUSINESS = "BUSINESS", "Business"


class Channel(models.TextChoices):
    SMS = "SMS", "SMS"
    EMAIL = "EMAIL", "Email"
    LETTER = "LETTER", "Letter"
    CALL = "CALL", "Phone call"
    CHAT = "CHAT", "Chat"


class TimeZoneSource(models.TextChoices):
    GIVEN = "GIVEN", "Given"
    ADDRESS = "ADDRESS", "Address"
    PHONE = "PHONE", "Phone number"
    ADDRESS_AND_PHONE = "ADDRESS_AND_PHONE", "Address and phone number"
    UNKNOWN = "UNKNOWN", "Unknown"


class ProductType(models.TextChoices):
    CREDIT_CARD = "CREDIT_CARD", "Credit card"
    LOAN = "LOAN", "Loan"
    UTILITY = "UTILITY", "Utility"
    TELCO = "TELCO", "Telco"
    BNPL = "BNPL", "Buy now, pay later"


class AccountStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"
    CHARGED_OFF = "CHARGED_OFF", "Charged off"
    SETTLED = "SETTLED", "Settled"


class ChargeKind(models.TextChoices):
    INSTALMENT = "INSTALMENT", "Instalment"
    INVOICE = "INVOICE", "Invoice"
    FEE = "FEE", "Fee"
    INTEREST = "INTEREST", "Interest"


class PaymentMethod(models.TextChoices):
    CARD = "CARD", "Card"
    BANK_TRANSFER = "BANK_TRANSFER", "Bank transfer"
    DIRECT_DEBIT = "DIRECT_DEBIT", "Direct debit"
    CASH = "CASH", "Cash"
    CHEQUE = "CHEQUE", "Cheque"
    OTHER = "OTHER", "Other"


class ContactPointKind(models.TextChoices):
    PHONE = "PHONE", "Phone"
    EMAIL = "EMAIL", "Email"


class VulnerabilityCategory(models.TextChoices):
    # The FCA's four drivers of vulnerability (FG21/1).
    HEALTH = "HEALTH", "Health"
    LIFE_EVENT = "LIFE_EVENT", "Life event"
    RESILIENCE = "RESILIENCE", "Resilience"
    CAPABILITY = "CAPABILITY", "Capability"


class ConsentPurpose(models.TextChoices):
    COLLECTIONS_CONTACT = "COLLECTIONS_CONTACT", "Contact about an account"
    MARKETING = "MARKETING", "Marketing"
    AUTODIALLED_CALLS = "AUTODIALLED_CALLS", "Automated calls"


class ImportKind(models.TextChoices):
    CUSTOMERS = "CUSTOMERS", "Customers"
    ACCOUNTS = "ACCOUNTS", "Accounts"
    CHARGES = "CHARGES", "Charges"
    PAYMENTS = "PAYMENTS", "Payments"


class Authority(models.Model):
    """Carry Accord's permissions; has no table (see ``storage.roles``)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_portfolio", "See customers, accounts, charges and payments"),
            ("import_portfolio", "Import and create customers, accounts, charges and payments"),
            ("work_accounts", "Work accounts: record contacts, promises and plans"),
            ("supervise_agents", "Supervise agents and their queues"),
            ("manage_strategy", "Define and activate strategies"),
            ("view_audit_log", "Read the audit log"),
            ("manage_users", "Manage users, roles and API tokens"),
        ]


class Customer(models.Model):
    external_ref = models.CharField(max_length=64, unique=True)
    debtor_type = models.CharField(max_length=16, choices=DebtorType.choices)
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    language = models.CharField(max_length=8, default="en")
    preferred_channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    contact_hours_start = models.TimeField(null=True, blank=True)
    contact_hours_end = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Given by the source")
    time_zones = models.JSONField(default=list, help_text="Candidate IANA zones")
    time_zone_source = models.CharField(max_length=20, choices=TimeZoneSource.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(debtor_type__in=DebtorType.values), name="customer_debtor_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(contact_hours_start__isnull=True, contact_hours_end__isnull=True)
                | Q(contact_hours_start__isnull=False, contact_hours_end__isnull=False),
                name="customer_contact_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_ref})"


class ContactPoint(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=8, choices=ContactPointKind.choices)
    value = models.CharField(max_length=254)
    position = models.PositiveSmallIntegerField(default=0, help_text="0 is the primary one")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "value"], name="contact_point_unique_per_customer"
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="contact_point_lookup")]


class Account(models.Model):
    external_ref = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    product_type = models.CharField(max_length=16, choices=ProductType.choices)
    currency = models.CharField(max_length=3)
    credit_limit_minor = models.BigIntegerField(null=True, blank=True)
    opened_date = models.DateField()
    status = models.CharField(max_length=16, choices=AccountStatus.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit_minor__isnull=True) | Q(credit_limit_minor__gte=0),
                name="account_credit_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(product_type__in=ProductType.values), name="account_product_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AccountStatus.values), name="account_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.external_ref


class Charge(models.Model):
    """An amount billed to an account: an instalment, invoice, fee or interest."""

    external_ref = models.CharField(max_length=64, unique=True)
    # Indexed by (account, due_date) below; a second index on account alone is waste.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="charges", db_index=False
    )
    kind = models.CharField(max_length=16, choices=ChargeKind.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    issued_date = models.DateField(null=True, blank=True)
    due_date = models.DateField()
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(issued_date__isnull=True) | Q(issued_date__lte=models.F("due_date")),
                name="charge_issued_not_after_due",
            ),
        ]
        indexes = [models.Index(fields=["account", "due_date"], name="charge_account_due")]


class Payment(models.Model):
    external_ref = models.CharField(max_length=64, unique=True)
    # Indexed by (account, received_date) below.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    received_date = models.DateField()
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    provider_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "received_date"], name="payment_account_received")
        ]


class Vulnerability(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="vulnerabilities")
    category = models.CharField(max_length=16, choices=VulnerabilityCategory.choices)
    # Details are kept only with the customer's consent to record them (FG21/1, GDPR art. 9).
    consent_to_record = models.BooleanField()
    detail = models.TextField(blank=True)
    review_date = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_to_record=True) | Q(detail=""),
                name="vulnerability_detail_needs_consent",
            ),
        ]


class Dispute(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="disputes")
    reason = models.TextField()
    received_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True) | Q(verified_at__gte=models.F("received_at")),
                name="dispute_verified_after_received",
            ),
        ]


class CeaseRequest(models.Model):
    """The customer asked us to stop contacting them (e.g. 12 CFR 1006.6(c))."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cease_requests")
    received_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150)


class ChannelOptOut(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    opted_out_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=100)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"],
                condition=Q(withdrawn_at__isnull=True),
                name="opt_out_one_active_per_channel",
            ),
        ]


class Consent(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=24, choices=ConsentPurpose.choices)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    evidence = models.CharField(max_length=200)
    recorded_by = models.CharField(max_length=150)


class ImportBatch(models.Model):
    """One accepted import: what was loaded, from which file, by whom."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    source_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    inserted = models.PositiveIntegerField()
    updated = models.PositiveIntegerField()
    unchanged = models.PositiveIntegerField()
    actor = models.CharField(max_length=150)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
