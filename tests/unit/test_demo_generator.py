from __future__ import annotations

import datetime
import zoneinfo

import phonenumbers
import polars as pl
import pytest

from accord.usecases.import_portfolio import columns as cols
from accord.usecases.seed_demo import generator

AS_OF = datetime.date(2026, 11, 25)
ACCOUNTS = 20_000

# The generator's files must be exactly what the CSV import reads.
CUSTOMER_COLUMNS = list(cols.column_names(cols.RecordKind.CUSTOMERS))
ACCOUNT_COLUMNS = list(cols.column_names(cols.RecordKind.ACCOUNTS))
CHARGE_COLUMNS = list(cols.column_names(cols.RecordKind.CHARGES))
PAYMENT_COLUMNS = list(cols.column_names(cols.RecordKind.PAYMENTS))
CURRENCY_OF_COUNTRY = {
    "US": "USD",
    "GB": "GBP",
    "ES": "EUR",
    "IE": "EUR",
    "DE": "EUR",
    "MX": "MXN",
    "CL": "CLP",
}
DECIMALS = {"USD": 2, "GBP": 2, "EUR": 2, "MXN": 2, "CLP": 0, "JPY": 0}
# Currencies whose prices the brief's ranges (30-200 bills, 100-800 instalments) are in.
NOMINAL = ["USD", "GBP", "EUR"]


@pytest.fixture(scope="module")
def book() -> generator.Portfolio:
    return generator.generate(accounts=ACCOUNTS, seed=11, as_of=AS_OF)


def frames(book: generator.Portfolio) -> dict[str, pl.DataFrame]:
    return {
        "customers": book.customers,
        "accounts": book.accounts,
        "charges": book.charges,
        "payments": book.payments,
    }


def minor_units(amount: pl.Expr) -> pl.Expr:
    """Read an amount with its currency's fixed decimals as an integer of minor units."""
    return amount.str.replace(".", "", literal=True).cast(pl.Int64)


def share(mask: pl.Series) -> float:
    """Return the fraction of rows where ``mask`` holds."""
    return int(mask.sum()) / mask.len()


def dates(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d")


def balances(book: generator.Portfolio) -> pl.DataFrame:
    """Return per account: charges due before as-of minus payments received by as-of."""
    due = (
        book.charges.filter(dates("due_date") < AS_OF)
        .group_by("account_ref")
        .agg(minor_units(pl.col("amount")).sum().alias("due"))
    )
    paid = (
        book.payments.filter(dates("received_date") <= AS_OF)
        .group_by("account_ref")
        .agg(minor_units(pl.col("amount")).sum().alias("paid"))
    )
    return (
        book.accounts.select(pl.col("external_ref").alias("account_ref"))
        .join(due, on="account_ref", how="left")
        .join(paid, on="account_ref", how="left")
        .fill_null(0)
        .with_columns((pl.col("due") - pl.col("paid")).alias("arrears"))
    )


class TestGenerate:
    def test_returns_identical_frames_for_the_same_arguments(self) -> None:
        first = generator.generate(accounts=500, seed=3, as_of=AS_OF)
        second = generator.generate(accounts=500, seed=3, as_of=AS_OF)
        for name, frame in frames(first).items():
            assert frame.equals(frames(second)[name]), name

    def test_returns_different_frames_for_another_seed(self) -> None:
        first = generator.generate(accounts=500, seed=3, as_of=AS_OF)
        second = generator.generate(accounts=500, seed=4, as_of=AS_OF)
        assert not first.customers.equals(second.customers)
        assert not first.charges.equals(second.charges)

    def test_makes_exactly_the_requested_number_of_accounts(
        self, book: generator.Portfolio
    ) -> None:
        assert book.accounts.height == ACCOUNTS

    def test_gives_about_one_customer_per_1_2_accounts(self, book: generator.Portfolio) -> None:
        assert 1.1 < ACCOUNTS / book.customers.height < 1.3

    def test_lets_some_customers_hold_two_or_three_accounts(
        self, book: generator.Portfolio
    ) -> None:
        held = book.accounts.group_by("customer_ref").len().get_column("len")
        assert held.min() == 1
        assert held.max() == 3

    @pytest.mark.parametrize(
        ("name", "columns"),
        [
            ("customers", CUSTOMER_COLUMNS),
            ("accounts", ACCOUNT_COLUMNS),
            ("charges", CHARGE_COLUMNS),
            ("payments", PAYMENT_COLUMNS),
        ],
    )
    def test_writes_only_string_columns_in_the_import_order(
        self, book: generator.Portfolio, name: str, columns: list[str]
    ) -> None:
        frame = frames(book)[name]
        assert frame.columns == columns
        assert set(frame.dtypes) == {pl.String}
        assert frame.null_count().sum_horizontal().item() == 0

    def test_publishes_the_column_orders_it_writes(self) -> None:
        assert list(generator.CUSTOMER_COLUMNS) == CUSTOMER_COLUMNS
        assert list(generator.ACCOUNT_COLUMNS) == ACCOUNT_COLUMNS
        assert list(generator.CHARGE_COLUMNS) == CHARGE_COLUMNS
        assert list(generator.PAYMENT_COLUMNS) == PAYMENT_COLUMNS

    def test_builds_a_book_of_a_single_account(self) -> None:
        single = generator.generate(accounts=1, seed=1, as_of=AS_OF)
        assert (single.customers.height, single.accounts.height) == (1, 1)
        assert single.charges.height >= 4

    def test_refuses_fewer_than_one_account(self) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            generator.generate(accounts=0, seed=1, as_of=AS_OF)


class TestReferences:
    @pytest.mark.parametrize(
        ("name", "pattern"),
        [
            ("customers", r"^C\d{7}$"),
            ("accounts", r"^A\d{7}$"),
            ("charges", r"^CH\d{8}$"),
            ("payments", r"^P\d{8}$"),
        ],
    )
    def test_are_unique_and_zero_padded(
        self, book: generator.Portfolio, name: str, pattern: str
    ) -> None:
        refs = frames(book)[name].get_column("external_ref")
        assert refs.is_unique().all()
        assert refs.str.contains(pattern).all()
        assert refs.sort().to_list() == refs.to_list()

    def test_of_accounts_name_existing_customers(self, book: generator.Portfolio) -> None:
        known = book.customers.get_column("external_ref")
        assert book.accounts.get_column("customer_ref").is_in(known.implode()).all()

    def test_name_every_customer_from_some_account(self, book: generator.Portfolio) -> None:
        holders = book.accounts.get_column("customer_ref").unique()
        assert holders.len() == book.customers.height

    @pytest.mark.parametrize("name", ["charges", "payments"])
    def test_of_money_name_existing_accounts(self, book: generator.Portfolio, name: str) -> None:
        known = book.accounts.get_column("external_ref")
        assert frames(book)[name].get_column("account_ref").is_in(known.implode()).all()


class TestCustomers:
    def test_are_about_85_percent_consumers(self, book: generator.Portfolio) -> None:
        types = book.customers.get_column("debtor_type")
        assert set(types.unique()) == {"CONSUMER", "BUSINESS"}
        assert 0.80 < share(types == "CONSUMER") < 0.90

    def test_give_businesses_a_company_name_and_no_date_of_birth(
        self, book: generator.Portfolio
    ) -> None:
        businesses = book.customers.filter(pl.col("debtor_type") == "BUSINESS")
        assert (businesses.get_column("date_of_birth") == "").all()
        legal = r" (Inc|LLC|Corp|Ltd|LLP|DAC|S\.L\.|S\.A\.|S\.A\. de C\.V\.|"
        legal += r"S\. de R\.L\. de C\.V\.|GmbH|AG|GmbH & Co\. KG|SpA|Ltda\.)$"
        assert businesses.get_column("name").str.contains(legal).all()

    def test_give_consumers_an_adult_date_of_birth(self, book: generator.Portfolio) -> None:
        born = book.customers.filter(pl.col("debtor_type") == "CONSUMER").select(
            dates("date_of_birth")
        )
        born_on = born.get_column("date_of_birth")
        assert born_on.is_between(datetime.date(1900, 1, 1), datetime.date(2008, 11, 25)).all()

    def test_live_in_several_countries(self, book: generator.Portfolio) -> None:
        countries = set(book.customers.get_column("country").unique())
        assert {"US", "GB", "ES", "MX"} <= countries
        assert countries & {"IE", "DE"}
        assert countries <= set(CURRENCY_OF_COUNTRY)

    def test_have_phone_numbers_valid_for_their_country(self, book: generator.Portfolio) -> None:
        numbers = (
            book.customers.filter(pl.col("phones") != "")
            .select("country", pl.col("phones").str.split(";"))
            .explode("phones")
        )
        assert numbers.height > 0.95 * book.customers.height
        invalid = []
        for country, raw in numbers.iter_rows():
            number = phonenumbers.parse(raw, country)
            if not phonenumbers.is_valid_number(number) or (
                phonenumbers.region_code_for_number(number) != country
            ):
                invalid.append((country, raw))
        assert invalid == []

    def test_write_phone_numbers_in_e164_or_national_format(
        self, book: generator.Portfolio
    ) -> None:
        numbers = (
            book.customers.select(pl.col("phones").str.split(";"))
            .explode("phones")
            .filter(pl.col("phones") != "")
            .get_column("phones")
        )
        e164 = numbers.str.contains(r"^\+[1-9]\d{7,14}$")
        assert 0.4 < share(e164) < 0.9
        assert numbers.filter(~e164).str.contains(r"^[(0-9][0-9() -]+$").all()

    def test_leave_about_one_in_ten_without_email_and_one_in_twenty_without_phone(
        self, book: generator.Portfolio
    ) -> None:
        customers = book.customers
        assert 0.07 < share(customers.get_column("emails") == "") < 0.13
        assert 0.03 < share(customers.get_column("phones") == "") < 0.07

    def test_use_only_domains_reserved_for_examples(self, book: generator.Portfolio) -> None:
        emails = (
            book.customers.select(pl.col("emails").str.split(";"))
            .explode("emails")
            .filter(pl.col("emails") != "")
            .get_column("emails")
        )
        assert emails.str.contains(r"^[a-z0-9._]+@example\.(com|org|net)$").all()

    def test_give_contact_hours_both_or_neither_with_start_before_end(
        self, book: generator.Portfolio
    ) -> None:
        hours = book.customers.select("contact_hours_start", "contact_hours_end")
        given = hours.filter(pl.col("contact_hours_start") != "")
        assert (hours.get_column("contact_hours_end") != "").sum() == given.height
        assert 0 < given.height < hours.height
        assert given.select(pl.all().str.contains(r"^([01]\d|2[0-3]):[0-5]\d$").all()).row(0) == (
            True,
            True,
        )
        assert (
            given.get_column("contact_hours_start") < given.get_column("contact_hours_end")
        ).all()

    def test_prefer_only_channels_they_can_be_reached_on(self, book: generator.Portfolio) -> None:
        customers = book.customers
        channels = set(customers.get_column("preferred_channel").unique())
        assert channels <= {"", "SMS", "EMAIL", "LETTER", "CALL", "CHAT"}
        assert "" in channels
        emailed = customers.filter(pl.col("preferred_channel") == "EMAIL")
        assert (emailed.get_column("emails") != "").all()
        phoned = customers.filter(pl.col("preferred_channel").is_in(["SMS", "CALL"]))
        assert (phoned.get_column("phones") != "").all()

    def test_speak_english_or_spanish_as_their_country_suggests(
        self, book: generator.Portfolio
    ) -> None:
        languages = book.customers.group_by("country").agg((pl.col("language") == "es").mean())
        share = dict(languages.iter_rows())
        assert set(book.customers.get_column("language").unique()) == {"en", "es"}
        assert share["ES"] > 0.9
        assert share["MX"] > 0.9
        assert share["GB"] == 0.0

    def test_mostly_leave_the_time_zone_to_inference(self, book: generator.Portfolio) -> None:
        zones = book.customers.get_column("time_zone")
        given = zones.filter(zones != "")
        assert 0 < given.len() < 0.1 * zones.len()
        assert set(given.unique()) <= zoneinfo.available_timezones()

    def test_give_us_customers_a_state_and_zip_code(self, book: generator.Portfolio) -> None:
        us = book.customers.filter(pl.col("country") == "US")
        assert us.get_column("region").str.contains(r"^[A-Z]{2}$").all()
        assert us.get_column("postcode").str.contains(r"^\d{5}$").all()
        assert {"TX", "FL", "IN"} <= set(us.get_column("region").unique())

    def test_give_british_customers_a_postcode_in_royal_mail_form(
        self, book: generator.Portfolio
    ) -> None:
        gb = book.customers.filter(pl.col("country") == "GB")
        shape = r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$"
        assert gb.get_column("postcode").str.contains(shape).all()


class TestAccounts:
    def test_use_the_currency_of_their_customer_country(self, book: generator.Portfolio) -> None:
        joined = book.accounts.join(
            book.customers.select(pl.col("external_ref").alias("customer_ref"), "country"),
            on="customer_ref",
        )
        expected = joined.get_column("country").replace_strict(CURRENCY_OF_COUNTRY)
        assert (joined.get_column("currency") == expected).all()

    def test_give_a_credit_limit_to_cards_only(self, book: generator.Portfolio) -> None:
        cards = pl.col("product_type") == "CREDIT_CARD"
        limits = book.accounts.filter(cards).get_column("credit_limit")
        assert limits.str.contains(r"^\d+(\.\d{2})?$").all()
        assert (book.accounts.filter(~cards).get_column("credit_limit") == "").all()

    def test_cover_every_product(self, book: generator.Portfolio) -> None:
        products = set(book.accounts.get_column("product_type").unique())
        assert products == {"CREDIT_CARD", "LOAN", "UTILITY", "TELCO", "BNPL"}

    def test_are_mostly_open_with_some_closed_settled_and_charged_off(
        self, book: generator.Portfolio
    ) -> None:
        statuses = book.accounts.get_column("status")
        assert set(statuses.unique()) == {"OPEN", "CLOSED", "SETTLED", "CHARGED_OFF"}
        assert share(statuses == "OPEN") > 0.85

    def test_were_opened_by_as_of_and_before_their_first_charge(
        self, book: generator.Portfolio
    ) -> None:
        first_due = book.charges.group_by("account_ref").agg(dates("due_date").min())
        opened = book.accounts.select(
            pl.col("external_ref").alias("account_ref"), dates("opened_date")
        ).join(first_due, on="account_ref")
        assert opened.height == ACCOUNTS
        assert (opened.get_column("opened_date") <= AS_OF).all()
        assert (opened.get_column("opened_date") <= opened.get_column("due_date")).all()


class TestCharges:
    def test_use_the_currency_of_their_account(self, book: generator.Portfolio) -> None:
        currency = book.accounts.select(pl.col("external_ref").alias("account_ref"), "currency")
        joined = book.charges.join(currency, on="account_ref", suffix="_account")
        assert joined.height == book.charges.height
        assert (joined.get_column("currency") == joined.get_column("currency_account")).all()

    @pytest.mark.parametrize("name", ["charges", "payments"])
    def test_and_payments_have_positive_amounts_with_their_currency_decimals(
        self, book: generator.Portfolio, name: str
    ) -> None:
        frame = frames(book)[name]
        for currency, amounts in frame.group_by("currency"):
            places = DECIMALS[str(currency[0])]
            shape = r"^\d+$" if places == 0 else rf"^\d+\.\d{{{places}}}$"
            assert amounts.get_column("amount").str.contains(shape).all(), currency
            assert (amounts.select(minor_units(pl.col("amount"))).to_series() > 0).all()
        assert "CLP" in set(frame.get_column("currency").unique())

    def test_are_never_issued_after_they_fall_due(self, book: generator.Portfolio) -> None:
        issued = book.charges.filter(pl.col("issued_date") != "")
        assert 0 < issued.height < book.charges.height
        assert (issued.select(dates("issued_date") <= dates("due_date")).to_series()).all()
        assert (issued.select(dates("issued_date") <= AS_OF).to_series()).all()

    def test_follow_a_monthly_schedule_on_a_fixed_day(self, book: generator.Portfolio) -> None:
        schedules = (
            book.charges.filter(pl.col("kind").is_in(["INSTALMENT", "INVOICE"]))
            .with_columns(dates("due_date"))
            .group_by("account_ref")
            .agg(
                pl.len().alias("count"),
                pl.col("due_date").dt.day().n_unique().alias("days"),
                pl.col("due_date").dt.day().max().alias("day"),
                (pl.col("due_date").dt.year() * 12 + pl.col("due_date").dt.month())
                .sort()
                .diff()
                .drop_nulls()
                .unique()
                .alias("steps"),
            )
        )
        assert schedules.height == ACCOUNTS
        assert (schedules.get_column("days") == 1).all()
        assert (schedules.get_column("day") <= 28).all()
        assert schedules.get_column("steps").list.eval(pl.element() == 1).list.all().all()
        assert set(schedules.get_column("count").unique()) <= {4, *range(6, 13)}

    def test_give_pay_in_4_exactly_four_instalments(self, book: generator.Portfolio) -> None:
        bnpl = book.accounts.filter(pl.col("product_type") == "BNPL").get_column("external_ref")
        counts = (
            book.charges.filter(
                pl.col("account_ref").is_in(bnpl.implode()) & (pl.col("kind") == "INSTALMENT")
            )
            .group_by("account_ref")
            .len()
        )
        assert (counts.get_column("len") == 4).all()

    def test_end_their_open_schedules_around_as_of(self, book: generator.Portfolio) -> None:
        open_accounts = book.accounts.filter(pl.col("status") == "OPEN").get_column("external_ref")
        last = (
            book.charges.filter(pl.col("account_ref").is_in(open_accounts.implode()))
            .group_by("account_ref")
            .agg(dates("due_date").max())
            .get_column("due_date")
        )
        near = (last >= datetime.date(2026, 9, 1)) & (last <= datetime.date(2027, 2, 1))
        assert share(near) > 0.8

    @pytest.mark.parametrize(
        ("product", "low", "high"),
        [("UTILITY", 30, 200), ("TELCO", 30, 200), ("LOAN", 100, 800)],
    )
    def test_stay_in_the_usual_range_for_the_product(
        self, book: generator.Portfolio, product: str, low: int, high: int
    ) -> None:
        accounts = book.accounts.filter(
            (pl.col("product_type") == product) & pl.col("currency").is_in(NOMINAL)
        ).get_column("external_ref")
        amounts = (
            book.charges.filter(
                pl.col("account_ref").is_in(accounts.implode())
                & pl.col("kind").is_in(["INSTALMENT", "INVOICE"])
            )
            .get_column("amount")
            .cast(pl.Float64)
        )
        assert amounts.len() > 0
        assert amounts.is_between(low, high).all()

    def test_add_fees_and_interest_only_to_accounts_in_arrears(
        self, book: generator.Portfolio
    ) -> None:
        extras = book.charges.filter(pl.col("kind").is_in(["FEE", "INTEREST"]))
        assert set(extras.get_column("kind").unique()) == {"FEE", "INTEREST"}
        late = balances(book).filter(pl.col("arrears") > 0).get_column("account_ref")
        assert extras.get_column("account_ref").is_in(late.implode()).all()


class TestPayments:
    def test_were_all_received_by_as_of(self, book: generator.Portfolio) -> None:
        received = book.payments.select(dates("received_date")).to_series()
        assert (received <= AS_OF).all()

    def test_use_the_currency_of_their_account(self, book: generator.Portfolio) -> None:
        currency = book.accounts.select(pl.col("external_ref").alias("account_ref"), "currency")
        joined = book.payments.join(currency, on="account_ref", suffix="_account")
        assert joined.height == book.payments.height
        assert (joined.get_column("currency") == joined.get_column("currency_account")).all()

    def test_use_every_method(self, book: generator.Portfolio) -> None:
        methods = set(book.payments.get_column("method").unique())
        assert methods == {"CARD", "BANK_TRANSFER", "DIRECT_DEBIT", "CASH", "CHEQUE", "OTHER"}

    def test_carry_provider_references_that_cannot_pass_for_card_numbers(
        self, book: generator.Portfolio
    ) -> None:
        references = book.payments.get_column("provider_reference")
        assert references.str.contains(r"^[A-Z]+-\d{7,}$").all()
        assert not references.str.contains(r"^[0-9][0-9 -]{11,21}[0-9]$").any()

    def test_include_part_payments(self, book: generator.Portfolio) -> None:
        charged = book.charges.select("account_ref", "amount").unique()
        parts = book.payments.join(charged, on=["account_ref", "amount"], how="anti")
        assert 0.01 * book.payments.height < parts.height < 0.1 * book.payments.height


class TestArrears:
    def test_leave_between_15_and_50_percent_of_accounts_behind(
        self, book: generator.Portfolio
    ) -> None:
        behind = share(balances(book).get_column("arrears") > 0)
        assert 0.15 <= behind <= 0.50

    def test_leave_a_few_accounts_in_credit_from_paying_early(
        self, book: generator.Portfolio
    ) -> None:
        ahead = share(balances(book).get_column("arrears") < 0)
        assert 0.0 < ahead < 0.1

    def test_spread_over_every_days_past_due_bucket(self, book: generator.Portfolio) -> None:
        # The oldest charge not covered by payments, applied oldest first.
        paid = balances(book).select("account_ref", "paid")
        oldest = (
            book.charges.filter(dates("due_date") < AS_OF)
            .with_columns(dates("due_date"), minor_units(pl.col("amount")).alias("minor"))
            .sort("account_ref", "due_date")
            .with_columns(pl.col("minor").cum_sum().over("account_ref").alias("cumulative"))
            .join(paid, on="account_ref")
            .filter(pl.col("cumulative") > pl.col("paid"))
            .group_by("account_ref")
            .agg(pl.col("due_date").min())
        )
        days = (pl.lit(AS_OF) - pl.col("due_date")).dt.total_days()
        past_due = oldest.select(days).to_series()
        buckets = [
            share(past_due.is_between(1, 30)),
            share(past_due.is_between(31, 60)),
            share(past_due.is_between(61, 90)),
            share(past_due.is_between(91, 180)),
            share(past_due > 180),
        ]
        assert all(part > 0.03 for part in buckets), buckets
        assert buckets[0] == max(buckets)
