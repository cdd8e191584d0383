"""Small, intention-named CSV files for import tests."""

from __future__ import annotations

from pathlib import Path

CUSTOMERS = """external_ref,debtor_type,name,date_of_birth,country,region,phones,emails,language
C1,CONSUMER,Ana García,1980-02-29,ES,,+34 612 345 678,ana@Example.COM,es
C2,CONSUMER,Bob Smith,1975-05-01,US,TX,(512) 234-5678,bob@example.com,en
"""
ACCOUNTS = """external_ref,customer_ref,product_type,currency,credit_limit,opened_date
A1,C1,CREDIT_CARD,EUR,1500.00,2024-01-10
A2,C2,LOAN,USD,,2023-06-01
"""
CHARGES = """external_ref,account_ref,kind,amount,currency,due_date
CH1,A1,INVOICE,120.50,EUR,2026-09-01
CH2,A2,INSTALMENT,300,USD,2026-10-01
"""
PAYMENTS = """external_ref,account_ref,amount,currency,received_date,method,provider_reference
P1,A1,50,EUR,2026-09-15,CARD,PSP-1
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
