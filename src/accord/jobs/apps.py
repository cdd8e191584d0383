"""Django app for the background tasks: wires use-case announcements to the tasks."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class JobsConfig(AppConfig):
    name = "accord.jobs"
    label = "jobs"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        """Enqueue dispatch, snapshots after runs and requested dry runs; check SMS."""
        from accord.usecases import outbox

        outbox.contacts_queued.connect(
            _dispatch_queued_contacts, dispatch_uid="accord.jobs.dispatch_queued_contacts"
        )
        from accord.jobs import experiments

        experiments.connect()  # fold experiment assignments, snapshot figures after each run
        from accord.jobs import dry_runs

        dry_runs.connect()  # work requested dry runs in the background
        checks.register(_sms_provider_check, checks.Tags.compatibility)
        checks.register(_contact_policy_check)


def _sms_provider_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn (on `accord serve`, `migrate`, `check` ...) when SMS would not reach customers.

    That is: the fake provider outside demo/debug mode, an unknown provider, or Twilio
    without its account SID, auth token or sender.
    """
    from accord.channels import sms

    env = settings.ENV
    warning = sms.production_warning(
        provider=env.sms_provider,
        demo=env.demo,
        debug=env.debug,
        missing=sms.missing_settings(),
    )
    if warning is None:
        return []
    return [checks.Warning(f"SMS is not configured for production: {warning}", id="accord.W001")]


def _contact_policy_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse to start with policy packs or an operator settings file that cannot be used."""
    from accord.usecases import contact_policy

    try:
        contact_policy.configured_policy()
    except contact_policy.PolicyConfigurationError as error:
        return [checks.Error(f"The contact policy is misconfigured: {error}", id="accord.E001")]
    return []


def _dispatch_queued_contacts(sender: Any, **kwargs: Any) -> None:
    from accord.jobs import tasks

    tasks.enqueue_dispatch()
