"""Account states for the web pages agree with the batch engine and with the strategy run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from accord.analytics import account_state
from accord.domain import arrears
from accord.domain.money import Money
from accord.storage import models
from accord.usecases import strategy_run
from accord.usecases.seed_demo import portfolio

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


class TestAccountStates:
    def test_a_few_accounts_agree_with_the_whole_book_computed_in_batch(
        self, tmp_path: Path
    ) -> None:
        portfolio.seed_demo_portfolio(accounts=300, seed=3, folder=tmp_path, now=NOW)
        whole = account_state.account_states(as_of=TODAY)
        assert len(whole) == 300
        assert any(state.days_past_due > 0 for state in whole)
        sample = [state.account_id for state in whole[::7]]
        few = account_state.account_states(as_of=TODAY, account_ids=sample)
        assert len(few) == len(sample) <= account_state.SMALL_SET
        by_id = {state.account_id: state for state in whole}
        assert few == [by_id[account_id] for account_id in sample]

    def test_agree_with_the_decisions_of_the_strategy_run(self, tmp_path: Path) -> None:
        portfolio.seed_demo_portfolio(accounts=200, seed=5, folder=tmp_path, now=NOW)
        strategy_run.start_run(as_of=TODAY, actor="test", now=NOW)
        decided = {
            row[0]: row[1:]
            for row in models.Decision.objects.filter(as_of_date=TODAY).values_list(
                "account_id", "days_past_due", "bucket", "stage", "arrears_minor", "balance_minor"
            )
        }
        states = account_state.account_states(as_of=TODAY, account_ids=list(decided)[:150])
        assert states
        for state in states:
            assert decided[state.account_id] == (
                state.days_past_due,
                state.bucket,
                state.stage.value,
                state.arrears.to_minor_units(),
                state.balance.to_minor_units(),
            )

    def test_describe_one_late_account_with_money_and_labels(self) -> None:
        owner = models.Customer.objects.create(
            external_ref="C-1",
            debtor_type=models.DebtorType.CONSUMER,
            name="Late Payer",
            country="ES",
            time_zone_source=models.TimeZoneSource.ADDRESS,
            created_at=NOW,
            updated_at=NOW,
        )
        late = models.Account.objects.create(
            external_ref="A-1",
            customer=owner,
            product_type=models.ProductType.LOAN,
            currency="EUR",
            opened_date=date(2025, 1, 1),
            status=models.AccountStatus.OPEN,
            created_at=NOW,
            updated_at=NOW,
        )
        models.Charge.objects.create(
            external_ref="CH-1",
            account=late,
            kind=models.ChargeKind.INSTALMENT,
            amount_minor=12_050,
            currency="EUR",
            due_date=date(2026, 10, 1),
            created_at=NOW,
            updated_at=NOW,
        )
        [state] = account_state.account_states(as_of=TODAY, account_ids=[late.pk, 999_999])
        assert state.days_past_due == 55
        assert (state.bucket, state.bucket_label) == ("DPD_31_60", "31\N{EN DASH}60")
        assert state.stage is arrears.DelinquencyStage.MID
        assert state.arrears == Money.from_minor_units(12_050, "EUR")
        assert state.balance == state.arrears
