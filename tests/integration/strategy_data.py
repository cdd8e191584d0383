"""Strategy YAML and stored versions named for what the strategy-page tests need."""

from __future__ import annotations

import datetime

from accord.storage import models
from accord.usecases import strategies

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)

# Three segments, the middle one splitting 50/50 between a champion and a challenger.
THREE_SEGMENTS = """\
name: collections
version: "2026.12.2"
description: Three segments and an SMS-first challenger for early arrears.
segments:
  - name: vulnerable
    description: A vulnerability is on record.
    when:
      vulnerable: true
    path: gentle
  - name: early
    description: Coming due, or up to 30 days past due.
    when:
      stages: [PRE_DUE, EARLY]
    path: standard
    experiment:
      name: early-sms-test
      arms:
        - {name: champion, percent: 50}
        - {name: sms_first, percent: 50, path: sms_first}
  - name: everyone_else
    path: standard
paths:
  standard:
    description: Remind, then notify, then ask for a promise.
    stop_when: [PAYMENT_RECEIVED, PROMISE_OPEN, PLAN_ACTIVE, DISPUTE_OPEN]
    steps:
      - {step: PRE_DUE_REMINDER, days_before_due: 5, template: pre_due_reminder,
         channels: [EMAIL, SMS], every_days: 7}
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice,
         channels: [EMAIL, SMS, LETTER], every_days: 7}
      - {step: PROMISE_REQUEST, from_dpd: 31, template: promise_request,
         channels: [EMAIL, LETTER], every_days: 10, wait_days: 3}
  sms_first:
    description: The challenger, SMS first.
    stop_when: [PAYMENT_RECEIVED, PROMISE_OPEN, PLAN_ACTIVE, DISPUTE_OPEN]
    steps:
      - {step: PRE_DUE_REMINDER, days_before_due: 5, template: pre_due_reminder,
         channels: [SMS, EMAIL], every_days: 7}
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice,
         channels: [SMS, EMAIL, LETTER], every_days: 7}
  gentle:
    description: Fewer, softer letters.
    stop_when: [PAYMENT_RECEIVED, PROMISE_OPEN, PLAN_ACTIVE, DISPUTE_OPEN, BREATHING_SPACE]
    steps:
      - {step: LATE_NOTICE, from_dpd: 1, template: late_notice,
         channels: [LETTER, EMAIL], every_days: 14}
"""

# The arms add up to 90: the parser names the experiment and the sum.
ARMS_NOT_100 = THREE_SEGMENTS.replace("percent: 50, path", "percent: 40, path")


def active_default() -> models.StrategyVersion:
    """Store and activate the built-in default strategy, as a first run would."""
    return strategies.active_version(now=NOW)


def draft(
    source: str = THREE_SEGMENTS, *, based_on: models.StrategyVersion | None = None
) -> models.StrategyVersion:
    return strategies.save_draft(
        source=source,
        note="Three segments",
        based_on_id=based_on.pk if based_on else None,
        actor="user:mara",
        now=NOW,
    )
