"""The fake SMS provider is never chosen silently in production; delivery statuses only advance."""

from __future__ import annotations

import pytest

from accord.channels import sms
from accord.channels.message import DeliveryStatus, advance


class TestProductionWarning:
    def test_the_fake_provider_outside_demo_and_debug_mode_is_warned_about(self) -> None:
        warning = sms.production_warning(provider="fake", demo=False, debug=False)
        assert warning is not None
        assert "no text message reaches a customer" in warning

    @pytest.mark.parametrize(("demo", "debug"), [(True, False), (False, True), (True, True)])
    def test_the_fake_provider_in_demo_or_debug_mode_is_fine(self, demo: bool, debug: bool) -> None:
        assert sms.production_warning(provider="fake", demo=demo, debug=debug) is None

    def test_a_configured_real_provider_in_production_is_fine(self) -> None:
        assert sms.production_warning(provider="twilio", demo=False, debug=False) is None

    @pytest.mark.parametrize(("demo", "debug"), [(False, False), (True, False)])
    def test_twilio_without_its_settings_is_warned_about_in_every_mode(
        self, demo: bool, debug: bool
    ) -> None:
        warning = sms.production_warning(
            provider="twilio", demo=demo, debug=debug, missing=["ACCORD_TWILIO_AUTH_TOKEN"]
        )
        assert warning is not None
        assert "ACCORD_TWILIO_AUTH_TOKEN" in warning

    def test_an_unknown_provider_is_warned_about(self) -> None:
        warning = sms.production_warning(provider="http", demo=True, debug=False)
        assert warning is not None
        assert "not a known provider" in warning


Q, S, D, F, B = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.BOUNCED,
)


class TestDeliveryStatusesOnlyAdvance:
    @pytest.mark.parametrize(
        ("current", "reported", "recorded"),
        [
            (None, Q, Q),
            (None, D, D),
            (Q, S, S),
            (S, D, D),
            (S, F, F),
            (S, B, B),
            (F, D, D),
            (B, D, D),
        ],
    )
    def test_a_report_that_goes_further_is_recorded(
        self, current: DeliveryStatus | None, reported: DeliveryStatus, recorded: DeliveryStatus
    ) -> None:
        assert advance(current, reported) is recorded

    @pytest.mark.parametrize(
        ("current", "reported"),
        [(D, S), (D, Q), (D, F), (D, B), (D, D), (S, Q), (S, S), (F, S), (F, B), (B, F)],
    )
    def test_a_late_or_repeated_report_never_moves_a_message_back(
        self, current: DeliveryStatus, reported: DeliveryStatus
    ) -> None:
        assert advance(current, reported) is None
