"""The fake SMS provider is never chosen silently outside demo or debug mode."""

from __future__ import annotations

import pytest

from accord.channels import sms


class TestProductionWarning:
    def test_the_fake_provider_outside_demo_and_debug_mode_is_warned_about(self) -> None:
        warning = sms.production_warning(provider="fake", demo=False, debug=False)
        assert warning is not None
        assert "no text message reaches a customer" in warning

    @pytest.mark.parametrize(("demo", "debug"), [(True, False), (False, True), (True, True)])
    def test_the_fake_provider_in_demo_or_debug_mode_is_fine(self, demo: bool, debug: bool) -> None:
        assert sms.production_warning(provider="fake", demo=demo, debug=debug) is None

    def test_a_real_provider_in_production_is_fine(self) -> None:
        assert sms.production_warning(provider="http", demo=False, debug=False) is None
