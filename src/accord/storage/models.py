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
            ("view_messages", "Read the outbox and every message sent to customers"),
            ("view_performance", "See the manager view: buckets, treatments and KPIs"),
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
    # A pause of collection contact the customer asked for (portal; ADR 0024): from, until.
    contact_paused_from = models.DateTimeField(null=True, blank=True)
    contact_paused_until = models.DateTimeField(null=True, blank=True)
    contact_pause_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
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


# --- Strategy runs, decisions, the outbox, promises, plans, portal codes (issue 4) ---


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class StrategyRun(models.Model):
    """One daily strategy run: a record, never back-dated, one at a time."""

    as_of_date = models.DateField()
    strategy_name = models.CharField(max_length=100)
    strategy_version = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=150)
    accounts = models.PositiveIntegerField(default=0)
    decisions = models.PositiveIntegerField(default=0)
    contacts_planned = models.PositiveIntegerField(default=0)
    contacts_blocked = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="Counts per treatment, stage and bucket")
    error = models.TextField(blank=True)
    engine = models.CharField(max_length=16, default="duckdb", db_default="duckdb")
    version = models.ForeignKey(
        "StrategyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        help_text="The stored strategy version run (null: a file given on the command line)",
    )
    process = models.CharField(
        max_length=120, blank=True, default="", db_default="", help_text="host:pid running it"
    )

    class Meta:
        constraints = [
            # The database itself refuses a second concurrent run.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="RUNNING"),
                name="strategy_run_one_running",
            ),
        ]
        indexes = [models.Index(fields=["status", "as_of_date"], name="strategy_run_status_asof")]


class Treatment(models.TextChoices):
    NONE = "NONE", "No action"
    PRE_DUE_REMINDER = "PRE_DUE_REMINDER", "Pre-due reminder"
    LATE_NOTICE = "LATE_NOTICE", "Late notice"
    PROMISE_REQUEST = "PROMISE_REQUEST", "Promise-to-pay request"
    PLAN_OFFER = "PLAN_OFFER", "Payment-plan offer"
    HARDSHIP_REVIEW = "HARDSHIP_REVIEW", "Restructure or hardship review"
    CALL_TASK = "CALL_TASK", "Call task for an agent"
    ESCALATION = "ESCALATION", "Escalation flag"


class Decision(models.Model):
    """What the strategy decided for one account on one as-of date, and why."""

    run = models.ForeignKey(StrategyRun, on_delete=models.PROTECT, related_name="decision_rows")
    # Looked up by the (account, as_of_date) unique index: no index of its own to maintain.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    as_of_date = models.DateField()
    days_past_due = models.PositiveIntegerField()
    bucket = models.CharField(max_length=32)
    stage = models.CharField(max_length=16)
    arrears_minor = models.BigIntegerField()
    balance_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    treatment = models.CharField(max_length=24, choices=Treatment.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    reason_codes = models.JSONField(default=list)
    strategy_version = models.CharField(max_length=64)
    # Which segment of the strategy the account fell in, the treatment path it followed,
    # and its champion/challenger arm ("" outside an experiment); the step is ``treatment``.
    segment = models.CharField(max_length=40, blank=True, default="", db_default="")
    path = models.CharField(max_length=40, blank=True, default="", db_default="")
    experiment = models.CharField(max_length=64, blank=True, default="", db_default="")
    arm = models.CharField(max_length=40, blank=True, default="", db_default="")
    # The behavioural scores the segment conditions read (0-100; docs/strategy.md).
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    collectability_score = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    # The agents' work queue (ADR 0013), set by the strategy run for its as-of date only.
    queue_rank = models.IntegerField(
        null=True, blank=True, help_text="Place in the work queue by stage and arrears"
    )
    queue_call_task = models.BooleanField(
        null=True, blank=True, help_text="An open call task when ranked; cleared when taken"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "as_of_date"], name="decision_one_per_account_per_day"
            ),
        ]
        indexes = [
            models.Index(fields=["as_of_date", "treatment"], name="decision_asof_treatment"),
            # Experiment results and assignments read (account, arm) from the index alone; a
            # query must say NOT (experiment = '') for SQLite to use this partial index.
            models.Index(
                fields=["experiment", "as_of_date", "arm", "account"],
                include=["id"],
                condition=~Q(experiment=""),
                name="decision_experiment",
            ),
            models.Index(
                fields=["as_of_date", "queue_call_task", "queue_rank"],
                include=["id"],  # index-only pages on PostgreSQL (SQLite indexes hold it)
                condition=Q(queue_rank__isnull=False),
                name="decision_queue",
            ),
            models.Index(
                fields=["as_of_date", "stage", "queue_call_task", "queue_rank"],
                include=["id"],
                condition=Q(queue_rank__isnull=False),
                name="decision_queue_stage",
            ),
        ]


class ContactStatus(models.TextChoices):
    PLANNED = "PLANNED", "Planned"
    SENDING = "SENDING", "Sending"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"
    BLOCKED = "BLOCKED", "Blocked by the contact policy"
    CANCELLED = "CANCELLED", "Cancelled"
    COMPLETED = "COMPLETED", "Completed"
    PARKED = "PARKED", "Parked for review"  # the dispatcher gave up; an operator decides


class ContactOrigin(models.TextChoices):
    STRATEGY = "STRATEGY", "Strategy run"
    AGENT = "AGENT", "Agent"
    PORTAL = "PORTAL", "Customer portal"
    API = "API", "API"
    CUSTOMER = "CUSTOMER", "The customer (an inbound message)"


class ProviderStatus(models.TextChoices):
    """What the provider last reported (``accord.channels.message.DeliveryStatus``)."""

    QUEUED = "QUEUED", "Queued at the provider"
    SENT = "SENT", "Sent by the provider"
    DELIVERED = "DELIVERED", "Delivered"
    FAILED = "FAILED", "Failed at the provider"
    BOUNCED = "BOUNCED", "Not delivered (bounced)"


class ContactDirection(models.TextChoices):
    OUTBOUND = "OUTBOUND", "Outbound"
    INBOUND = "INBOUND", "Inbound"


class ContactPurpose(models.TextChoices):
    COLLECTION = "COLLECTION", "Collection"
    LIMITED_CONTENT = "LIMITED_CONTENT", "Limited-content message"
    VALIDATION_NOTICE = "VALIDATION_NOTICE", "Validation notice"
    RESPONSE_TO_REQUEST = "RESPONSE_TO_REQUEST", "Response to the customer's request"


class CallOutcome(models.TextChoices):
    RIGHT_PARTY_CONTACT = "RIGHT_PARTY_CONTACT", "Right-party contact"
    NO_ANSWER = "NO_ANSWER", "No answer"
    WRONG_NUMBER = "WRONG_NUMBER", "Wrong number"
    REFUSED = "REFUSED", "Refused to discuss"
    PROMISE_MADE = "PROMISE_MADE", "Promise made"
    DISPUTE_RAISED = "DISPUTE_RAISED", "Dispute raised"
    VULNERABILITY_DISCLOSED = "VULNERABILITY_DISCLOSED", "Vulnerability disclosed"


class ContactAttempt(models.Model):
    """One contact attempt: an outbox row until sent, then part of the contact history.

    Calls an agent logs are attempts too (origin AGENT, status COMPLETED, with an outcome),
    so the policy counts them and the customer 360 shows them.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="contacts", null=True, blank=True
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    template = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=8, default="en")
    purpose = models.CharField(
        max_length=24, choices=ContactPurpose.choices, default=ContactPurpose.COLLECTION
    )
    origin = models.CharField(max_length=16, choices=ContactOrigin.choices)
    direction = models.CharField(
        max_length=8, choices=ContactDirection.choices, default=ContactDirection.OUTBOUND
    )
    planned_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ContactStatus.choices)
    idempotency_key = models.CharField(max_length=128, unique=True)
    run = models.ForeignKey(
        StrategyRun, on_delete=models.PROTECT, related_name="contacts", null=True, blank=True
    )
    decision = models.ForeignKey(
        Decision, on_delete=models.SET_NULL, related_name="contacts", null=True, blank=True
    )
    destination = models.CharField(max_length=254, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    policy_reasons = models.JSONField(
        default=list, help_text="Why the policy blocked or deferred it"
    )
    provider_ref = models.CharField(max_length=128, blank=True)
    provider_status = models.CharField(
        max_length=16,
        choices=ProviderStatus.choices,
        blank=True,
        default="",
        db_default="",
        help_text="What the provider last reported; it only moves forward",
    )
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider reported it delivered"
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, help_text="Exactly what the customer received")
    document = models.CharField(
        max_length=255, blank=True, help_text="Letter PDF, under MEDIA_ROOT"
    )
    outcome = models.CharField(max_length=32, choices=CallOutcome.choices, blank=True)
    connected = models.BooleanField(null=True, blank=True)
    conversation = models.BooleanField(default=False)
    agent = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The outbox pages walk these newest first, 50 rows at a time (keyset).
            models.Index(fields=["planned_at", "id"], name="contact_planned_order"),
            models.Index(fields=["status", "planned_at", "id"], name="contact_status_order"),
            models.Index(fields=["channel", "planned_at", "id"], name="contact_channel_order"),
            models.Index(
                fields=["status", "channel", "planned_at", "id"], name="contact_status_channel"
            ),
            models.Index(fields=["channel", "sent_at", "id"], name="contact_channel_sent"),
            models.Index(fields=["customer", "planned_at"], name="contact_customer_planned"),
            models.Index(
                fields=["account", "channel", "planned_at"], name="contact_account_channel"
            ),
            # Delivery callbacks that do not name the row find it by the provider's id.
            models.Index(
                fields=["provider_ref"], name="contact_provider_ref", condition=~Q(provider_ref="")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="SENT", sent_at__isnull=False) | ~Q(status="SENT"),
                name="contact_sent_has_sent_at",
            ),
        ]


class PromiseStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    KEPT = "KEPT", "Kept"
    BROKEN = "BROKEN", "Broken"
    CANCELLED = "CANCELLED", "Cancelled"


class Source(models.TextChoices):
    AGENT = "AGENT", "Agent"
    PORTAL = "PORTAL", "Customer portal"
    API = "API", "API"


class Promise(models.Model):
    """A promise to pay an amount by a date."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="promises")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    promised_date = models.DateField()
    status = models.CharField(max_length=16, choices=PromiseStatus.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    contact = models.ForeignKey(
        ContactAttempt, on_delete=models.SET_NULL, related_name="promises", null=True, blank=True
    )
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="promise_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "promised_date"], name="promise_status_date")]


class PlanStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    COMPLETED = "COMPLETED", "Completed"
    BROKEN = "BROKEN", "Broken"
    CANCELLED = "CANCELLED", "Cancelled"


class RepaymentPlan(models.Model):
    """An agreed plan: the arrears split into instalments that sum to it exactly."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plans")
    total_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    instalment_count = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    status = models.CharField(max_length=16, choices=PlanStatus.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total_minor__gt=0), name="plan_total_positive"),
            models.CheckConstraint(
                condition=Q(instalment_count__gt=0), name="plan_has_instalments"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="ACTIVE"), name="plan_one_active_per_account"
            ),
        ]


class PlanInstalment(models.Model):
    plan = models.ForeignKey(RepaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    sequence = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="instalment_unique_sequence"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="instalment_positive"),
        ]


class OneTimeCode(models.Model):
    """A portal sign-in code; only its hash is stored."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="sign_in_codes")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["customer", "created_at"], name="otp_customer_created")]


# --- Strategy versions, experiments, complaints, breathing space (issue 5) ---


class StrategyStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ACTIVE = "ACTIVE", "Active"
    RETIRED = "RETIRED", "Retired"


class StrategyVersion(models.Model):
    """One version of a strategy, stored as the YAML its author wrote; one is ACTIVE."""

    name = models.CharField(max_length=40)
    version = models.CharField(max_length=20)
    source = models.TextField(help_text="The strategy's YAML, exactly as saved")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=StrategyStatus.choices)
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="successors"
    )
    note = models.TextField(blank=True, help_text="What changed and why")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.CharField(max_length=150, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="strategy_version_unique"),
            # At most one strategy version is active.
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="ACTIVE"),
                name="strategy_version_one_active",
            ),
        ]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class DryRunStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class StrategyDryRun(models.Model):
    """A dry run of a strategy version: what it would decide as of a date; it decides nothing.

    Requested from the manager pages or the CLI and worked in the background, one account
    range at a time (``accord.usecases.dry_runs``); ``result`` holds the counts beside the
    active version's and a sample of accounts with their reasons.
    """

    version = models.ForeignKey(StrategyVersion, on_delete=models.CASCADE, related_name="dry_runs")
    as_of_date = models.DateField()
    status = models.CharField(max_length=16, choices=DryRunStatus.choices)
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    process = models.CharField(max_length=120, blank=True, help_text="host:pid working it")
    ranges_done = models.PositiveIntegerField(default=0)
    ranges_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(
        default=dict, help_text="Labels, accounts, counts, the active version's, samples"
    )
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["version", "-requested_at"], name="strategy_dry_run_latest"),
        ]


class ExperimentArmPause(models.Model):
    """A challenger arm taken out of an experiment: its accounts get the champion's path."""

    experiment = models.CharField(max_length=64)
    arm = models.CharField(max_length=40)
    paused_at = models.DateTimeField()
    paused_by = models.CharField(max_length=150)
    reason = models.TextField()
    metrics = models.JSONField(default=dict, help_text="The figures that tripped the guardrail")
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "arm"],
                condition=Q(resumed_at__isnull=True),
                name="experiment_arm_one_pause",
            ),
        ]


class ExperimentAssignment(models.Model):
    """An account's place in an arm of an experiment: the first and latest days decided there.

    Derived from the decisions after every strategy run (``accord.storage.experiment_assignments``,
    ADR 0017), so that the guardrails count an arm's accounts without reading its decisions.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    experiment = models.CharField(max_length=64)
    arm = models.CharField(max_length=40)
    first_date = models.DateField()
    last_date = models.DateField()

    class Meta:
        constraints = [
            # Also the index the account foreign key and the harm events are looked up by.
            models.UniqueConstraint(
                fields=["account", "experiment", "arm"], name="experiment_assignment_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["last_date", "experiment", "arm", "first_date"],
                name="experiment_assignment_recent",
            ),
        ]


class ExperimentSnapshot(models.Model):
    """An experiment's figures per arm over a window, computed once after a strategy run."""

    experiment = models.CharField(max_length=64)
    start = models.DateField()
    end = models.DateField()
    bucket_edges = models.CharField(
        max_length=200, help_text="The days past due the roll rate's buckets start at"
    )
    computed_at = models.DateTimeField()
    run = models.ForeignKey(
        StrategyRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    figures = models.JSONField(help_text="Per arm: the counts the results are built from")

    class Meta:
        indexes = [
            models.Index(fields=["experiment", "computed_at"], name="experiment_snapshot_latest")
        ]


class ComplaintCategory(models.TextChoices):
    CONTACT = "CONTACT", "How often or how we contacted them"
    CONDUCT = "CONDUCT", "How they were treated"
    AMOUNT = "AMOUNT", "What we say they owe, fees or charges"
    PLAN = "PLAN", "A promise or payment plan"
    OTHER = "OTHER", "Something else"


class Complaint(models.Model):
    """An expression of dissatisfaction by a customer, recorded by staff or the portal."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="complaints")
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    category = models.CharField(max_length=16, choices=ComplaintCategory.choices)
    summary = models.TextField()
    received_at = models.DateTimeField()
    received_via = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    recorded_by = models.CharField(max_length=150)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="complaint_received")]


class BreathingSpaceKind(models.TextChoices):
    # The Debt Respite Scheme (Breathing Space Moratorium) Regulations 2020.
    STANDARD = "STANDARD", "Standard breathing space (60 days)"
    MENTAL_HEALTH_CRISIS = "MENTAL_HEALTH_CRISIS", "Mental health crisis moratorium"


class BreathingSpace(models.Model):
    """A debt-respite moratorium: no collection contact while it lasts."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="breathing_spaces"
    )
    kind = models.CharField(max_length=24, choices=BreathingSpaceKind.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Unknown for a crisis moratorium")
    reference = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)
    cancelled_at = models.DateTimeField(null=True, blank=True)
