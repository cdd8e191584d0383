"""Limited-content voicemails say only what 12 CFR 1006.2(j) allows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.domain import limited_content as lc

EXAMPLE_12 = (
    "Hi, this is Sam Lee from Northwind Services, please call me back on 555-0100; "
    "any of our representatives can help"
)
FACTS = {
    "business_name": "Northwind Services",
    "person_names": ["Sam Lee"],
    "reply_phones": ["555-0100"],
}


def codes(violations: list[lc.Violation]) -> set[lc.ViolationCode]:
    return {violation.code for violation in violations}


class TestWorkedExample12:
    def test_the_message_with_only_name_business_number_and_any_representative_qualifies(
        self,
    ) -> None:
        """12 CFR 1006.2(j)(1), (2)(iv); COMPLIANCE.md example 12."""
        assert lc.check_message(EXAMPLE_12, **FACTS) == []  # type: ignore[arg-type]

    def test_adding_about_your_overdue_balance_is_rejected_for_limited_content(self) -> None:
        """12 CFR 1006.2(j); COMPLIANCE.md example 12: any other content stops it being one."""
        violations = lc.check_message(
            EXAMPLE_12 + " about your overdue balance",
            **FACTS,  # type: ignore[arg-type]
        )
        assert {(v.code, v.detail) for v in violations} >= {
            (lc.ViolationCode.DEBT_WORD, "overdue"),
            (lc.ViolationCode.DEBT_WORD, "balance"),
            (lc.ViolationCode.WORD_NOT_ALLOWED, "about"),
        }
        assert all(v.rule == "12 CFR 1006.2(j)" for v in violations)


class TestCheckTemplate:
    @pytest.mark.parametrize("language", ["en", "es"])
    def test_the_default_templates_are_limited_content(self, language: str) -> None:
        """12 CFR 1006.2(j)."""
        assert lc.check_template(lc.DEFAULT_TEMPLATES[language], language=language) == []

    @pytest.mark.parametrize(
        "addition", ["You owe $120.50.", "Your balance is 120.", "Quedan 3 días."]
    )
    def test_refuses_amounts_and_numbers(self, addition: str) -> None:
        """12 CFR 1006.2(j): an amount is not one of the permitted items."""
        template = f"{lc.DEFAULT_TEMPLATES['en']} {addition}"
        assert lc.ViolationCode.AMOUNT_OR_NUMBER in codes(lc.check_template(template))

    @pytest.mark.parametrize("word", ["debt", "overdue", "balance", "collection", "payment"])
    def test_refuses_words_about_a_debt(self, word: str) -> None:
        """12 CFR 1006.2(j)."""
        template = f"{lc.DEFAULT_TEMPLATES['en']} It is about a {word}."
        assert (lc.ViolationCode.DEBT_WORD, word) in {
            (v.code, v.detail) for v in lc.check_template(template)
        }

    def test_refuses_a_spanish_word_about_a_debt(self) -> None:
        template = f"{lc.DEFAULT_TEMPLATES['es']} Sobre su deuda."
        assert lc.ViolationCode.DEBT_WORD in codes(lc.check_template(template, language="es"))

    def test_refuses_a_required_disclosure_a_state_might_want(self) -> None:
        """12 CFR 1006.2(j), COMPLIANCE.md: even content a state requires stops it being one."""
        template = lc.DEFAULT_TEMPLATES["en"] + " This is a communication from a debt collector."
        assert lc.ViolationCode.DEBT_WORD in codes(lc.check_template(template))

    @pytest.mark.parametrize("missing", lc.REQUIRED_PLACEHOLDERS)
    def test_requires_business_name_person_name_and_reply_number(self, missing: str) -> None:
        """12 CFR 1006.2(j)(1)(i), (iii), (iv)."""
        template = lc.DEFAULT_TEMPLATES["en"].replace(f"{{{{ {missing} }}}}", "")
        assert (lc.ViolationCode.MISSING_ELEMENT, missing) in {
            (v.code, v.detail) for v in lc.check_template(template)
        }

    def test_requires_a_request_to_reply(self) -> None:
        """12 CFR 1006.2(j)(1)(ii)."""
        template = "This is {{ person_name }} from {{ business_name }}, {{ reply_phone }}."
        assert codes(lc.check_template(template)) == {lc.ViolationCode.NO_REQUEST_TO_REPLY}

    def test_refuses_placeholders_beyond_the_permitted_items(self) -> None:
        template = lc.DEFAULT_TEMPLATES["en"] + " {{ amount }}"
        assert (lc.ViolationCode.UNKNOWN_PLACEHOLDER, "amount") in {
            (v.code, v.detail) for v in lc.check_template(template)
        }

    def test_refuses_template_logic(self) -> None:
        template = lc.DEFAULT_TEMPLATES["en"] + "{% if late %} x{% endif %}"
        assert lc.ViolationCode.TEMPLATE_LOGIC in codes(lc.check_template(template))

    def test_refuses_a_language_without_a_vocabulary(self) -> None:
        assert codes(lc.check_template("Bonjour", language="fr")) == {
            lc.ViolationCode.UNSUPPORTED_LANGUAGE
        }

    @given(
        st.sampled_from(sorted(lc.DEBT_WORDS)),
        st.integers(min_value=0, max_value=len(lc.DEFAULT_TEMPLATES["en"])),
    )
    def test_a_word_about_a_debt_anywhere_is_refused(self, word: str, at: int) -> None:
        """12 CFR 1006.2(j): wherever it is inserted (between words), it is found."""
        base = lc.DEFAULT_TEMPLATES["en"]
        cut = base.rfind(" ", 0, at) + 1
        template = f"{base[:cut]}{word} {base[cut:]}"
        assert lc.ViolationCode.DEBT_WORD in codes(lc.check_template(template))


class TestBusinessName:
    @pytest.mark.parametrize(
        "name", ["Acme Collections LLC", "Debt Recovery Partners", "Cobranzas del Sur"]
    )
    def test_refuses_a_name_that_indicates_debt_collection(self, name: str) -> None:
        """12 CFR 1006.2(j)(1)(i): a business name that does not indicate debt collection."""
        assert codes(lc.check_business_name(name)) == {lc.ViolationCode.COLLECTION_BUSINESS_NAME}

    def test_accepts_a_neutral_name(self) -> None:
        assert lc.check_business_name("Northwind Services") == []


class TestCompose:
    def test_fills_the_permitted_items_in_english(self) -> None:
        """12 CFR 1006.2(j)(1), (2)(i), (iii), (iv)."""
        text = lc.compose(
            lc.VoicemailFacts(
                business_name="Northwind Services",
                person_name="Sam Lee",
                reply_phone="+1 555 0100",
                salutation="Hello Ana",
                reply_times="weekdays between 9 a.m. and 5 p.m.",
            )
        )
        assert text == (
            "Hello Ana, this is Sam Lee from Northwind Services. Please call me back on "
            "+1 555 0100, weekdays between 9 a.m. and 5 p.m. Any of our representatives "
            "can help you."
        )

    def test_leaves_out_optional_items_cleanly_in_spanish(self) -> None:
        text = lc.compose(
            lc.VoicemailFacts(
                business_name="Northwind Services", person_name="Sam Lee", reply_phone="555-0100"
            ),
            language="es",
        )
        assert text == (
            "Le habla Sam Lee de Northwind Services. Por favor, llámenos al 555-0100. "
            "Cualquiera de nuestros representantes puede ayudarle."
        )

    def test_the_composed_message_passes_its_own_check(self) -> None:
        facts = lc.VoicemailFacts(
            business_name="Northwind Services", person_name="Sam Lee", reply_phone="555-0100"
        )
        assert (
            lc.check_message(
                lc.compose(facts),
                business_name=facts.business_name,
                person_names=[facts.person_name],
                reply_phones=[facts.reply_phone],
            )
            == []
        )

    def test_refuses_a_collection_business_name(self) -> None:
        """12 CFR 1006.2(j)(1)(i)."""
        facts = lc.VoicemailFacts(
            business_name="Acme Collections", person_name="Sam Lee", reply_phone="555-0100"
        )
        with pytest.raises(lc.NotLimitedContent, match="indicates debt collection"):
            lc.compose(facts)

    def test_refuses_a_template_that_says_more(self) -> None:
        facts = lc.VoicemailFacts(
            business_name="Northwind Services", person_name="Sam Lee", reply_phone="555-0100"
        )
        with pytest.raises(lc.NotLimitedContent) as raised:
            lc.compose(facts, template=lc.DEFAULT_TEMPLATES["en"] + " About your debt.")
        assert lc.ViolationCode.DEBT_WORD in codes(list(raised.value.violations))
