"""Word, for the customer, why we sent a message and why it went when it did.

The staff pages word a decision's reason codes with :mod:`accord.analytics.why`; this
module answers the same question in the customer's language and in the second person
("Your payment of £25.00 was 12 days overdue"), from the decision the message came from
and the contact policy's reasons that held it back before it went. Codes that say
nothing useful to a customer (the segment, the stage, the arm) are left out.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.analytics import customer_portal
from accord.channels import templates as message_templates
from accord.domain.compliance import OperatorRuleCode, RuleCode
from accord.domain.money import Money
from accord.storage import models
from accord.strategy import definition

_DUE_IN = re.compile(re.escape(definition.ReasonPrefix.DUE_IN) + r"(\d+)")


def reasons(message: customer_portal.Message, *, language: str) -> list[str]:
    """Return why the customer got ``message``, one sentence each, in ``language``."""
    sentences = _purpose(message)
    decision = message.decision
    if decision is not None and message.purpose == models.ContactPurpose.COLLECTION:
        sentences.extend(_decision(decision, language=language))
    if not sentences:
        if message.origin == models.ContactOrigin.AGENT:
            sentences.append(_("One of our team contacted you about your account."))
        else:
            sentences.append(_("We contact you about your account when a payment is due."))
    return sentences


def delays(message: customer_portal.Message) -> list[str]:
    """Return why the message went later than planned, one sentence per reason, deduplicated."""
    sentences: list[str] = []
    for code in message.policy_codes:
        sentence = _delay(code)
        if sentence not in sentences:
            sentences.append(sentence)
    return sentences


def _purpose(message: customer_portal.Message) -> list[str]:
    if message.purpose == models.ContactPurpose.VALIDATION_NOTICE:
        return [
            _(
                "The law asks us to tell you about the debt and your rights "
                "when we first contact you."
            )
        ]
    if message.purpose == models.ContactPurpose.RESPONSE_TO_REQUEST:
        return [_("You asked us for this.")]
    if message.purpose == models.ContactPurpose.LIMITED_CONTENT:
        return [_("We tried to reach you and left a short message asking you to call us back.")]
    return []


def _decision(decision: customer_portal.MessageDecision, *, language: str) -> list[str]:
    sentences: list[str] = []
    amount = _money(decision.arrears, language)
    if decision.days_past_due > 0 and decision.arrears.is_positive():
        sentences.append(
            ngettext(
                "Your payment of %(amount)s was due %(days)d day ago.",
                "Your payment of %(amount)s was due %(days)d days ago.",
                decision.days_past_due,
            )
            % {"amount": amount, "days": decision.days_past_due}
        )
    for code in decision.reason_codes:
        if match := _DUE_IN.fullmatch(code):
            days = int(match[1])
            if days == 0:
                sentences.append(_("A payment on your account is due today."))
            else:
                sentences.append(
                    ngettext(
                        "A payment on your account is due in %(days)d day.",
                        "A payment on your account is due in %(days)d days.",
                        days,
                    )
                    % {"days": days}
                )
    return sentences


def _delay(code: str) -> str:
    if code in (RuleCode.INCONVENIENT_TIME, RuleCode.UK_CONTACT_TIMES_AND_REQUESTS):
        return _(
            "We waited until 8 a.m. your time, so as not to contact you too early or too late."
        )
    if code == RuleCode.CONSUMER_DESIGNATED_TIME:
        return _("We waited until the hours you told us suit you.")
    if code == OperatorRuleCode.CUSTOMER_PREFERENCE:
        return _("We waited, as you asked in your contact preferences.")
    if code == OperatorRuleCode.QUIET_DAYS:
        return _("We waited until after the Sunday or public holiday.")
    if code in (
        RuleCode.CALL_FREQUENCY_7_IN_7,
        RuleCode.CALL_AFTER_CONVERSATION,
        RuleCode.MA_TELEPHONE_TWO_IN_SEVEN,
        OperatorRuleCode.WEEKLY_CONTACT_BUDGET,
        OperatorRuleCode.CHANNEL_MIN_GAP,
    ):
        return _("We waited a few days, so as not to contact you too often.")
    return _("We waited until our contact rules allowed it.")


def _money(amount: Money, language: str) -> str:
    return message_templates.format_money(amount, language)
