#!/usr/bin/env bash
# Benchmark the portfolio import on a scratch SQLite database (or PostgreSQL with
# ACCORD_DATABASE_URL set to an empty database) and write the JSON result.
# Usage: benchmarks/run-import.sh [ACCOUNTS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-1000000}
scratch=$(mktemp -d /tmp/accord-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export ACCORD_DATA_DIR="$scratch" ACCORD_SECRET_KEY="${ACCORD_SECRET_KEY:-benchmark-only}"
mkdir -p benchmarks/results
make install >/dev/null
.venv/bin/accord migrate -v0
engine=$(.venv/bin/python -c 'import os; print("postgresql" if os.environ.get("ACCORD_DATABASE_URL","").startswith("postgres") else "sqlite")')
.venv/bin/accord bench import --accounts "$accounts" --json "benchmarks/results/import-${accounts}-${engine}.json"
