"""Configuration comes from the environment, typed, and refuses unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.config import environment


class TestLoad:
    def test_refuses_to_start_without_a_secret_key_outside_demo_and_debug(self) -> None:
        with pytest.raises(environment.ConfigurationError, match="ACCORD_SECRET_KEY"):
            environment.load({})

    @pytest.mark.parametrize("flag", ["ACCORD_DEBUG", "ACCORD_DEMO"])
    def test_uses_the_demo_key_in_demo_or_debug(self, flag: str) -> None:
        assert environment.load({flag: "1"}).secret_key == environment.DEMO_SECRET_KEY

    def test_defaults_to_sqlite_inside_the_data_folder(self, tmp_path: Path) -> None:
        env = environment.load({"ACCORD_SECRET_KEY": "k", "ACCORD_DATA_DIR": str(tmp_path)})
        assert env.database.engine == "sqlite"
        assert env.database.name == str(tmp_path / "accord.sqlite3")
        assert env.port == 8000

    def test_reads_a_postgresql_url(self) -> None:
        env = environment.load(
            {
                "ACCORD_SECRET_KEY": "k",
                "ACCORD_DATABASE_URL": "postgresql://acc%40rd:p%2Fw@db.internal:6543/books",
            }
        )
        assert env.database == environment.Database(
            engine="postgresql",
            name="books",
            user="acc@rd",
            password="p/w",
            host="db.internal",
            port="6543",
        )

    @pytest.mark.parametrize(
        "url", ["mysql://x/y", "sqlite://", "postgresql://host:5432/", "nonsense"]
    )
    def test_refuses_an_unusable_database_url(self, url: str) -> None:
        with pytest.raises(environment.ConfigurationError):
            environment.load({"ACCORD_SECRET_KEY": "k", "ACCORD_DATABASE_URL": url})

    def test_refuses_a_port_that_is_not_a_number(self) -> None:
        with pytest.raises(environment.ConfigurationError, match="ACCORD_PORT"):
            environment.load({"ACCORD_SECRET_KEY": "k", "ACCORD_PORT": "eighty"})


class TestContactPolicies:
    def test_the_live_checks_apply_regulation_f_by_default(self) -> None:
        env = environment.load({"ACCORD_DEBUG": "1"})
        assert env.contact_policies == ("us-reg-f",)
        assert env.operator_policy_file == ""

    def test_packs_are_read_from_a_comma_list_without_repeats(self) -> None:
        env = environment.load(
            {"ACCORD_DEBUG": "1", "ACCORD_CONTACT_POLICIES": "us-reg-f, US-MA,us-ma"}
        )
        assert env.contact_policies == ("us-reg-f", "us-ma")

    def test_an_unknown_pack_stops_startup_naming_the_setting(self) -> None:
        with pytest.raises(environment.ConfigurationError, match="ACCORD_CONTACT_POLICIES"):
            environment.load({"ACCORD_DEBUG": "1", "ACCORD_CONTACT_POLICIES": "us-reg-f,us-tx"})


class TestDispatchMaxAttempts:
    def test_five_attempts_unless_told(self) -> None:
        assert environment.load({"ACCORD_SECRET_KEY": "k"}).dispatch_max_attempts == 5

    def test_the_setting_is_read(self) -> None:
        env = environment.load({"ACCORD_SECRET_KEY": "k", "ACCORD_DISPATCH_MAX_ATTEMPTS": "2"})
        assert env.dispatch_max_attempts == 2

    @pytest.mark.parametrize("raw", ["0", "51", "many"])
    def test_a_value_outside_1_to_50_is_refused(self, raw: str) -> None:
        with pytest.raises(environment.ConfigurationError, match="ACCORD_DISPATCH_MAX_ATTEMPTS"):
            environment.load({"ACCORD_SECRET_KEY": "k", "ACCORD_DISPATCH_MAX_ATTEMPTS": raw})
