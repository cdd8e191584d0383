"""Read a SQLite database into Arrow through ADBC, in a process of its own, in one snapshot.

``python -m accord.storage.sqlite_reader DATABASE`` opens the database with the ADBC SQLite
driver (autocommit off: one read transaction, so one WAL snapshot for every query), then
answers requests on stdin, one JSON line each::

    {"sql": "SELECT ... WHERE x = ?", "params": [...], "batch_rows": 65536, "out": "/tmp/t.arrow"}

It writes the rows as an Arrow IPC file at ``out`` and answers ``{"rows": N}`` (or
``{"error": "..."}``) on stdout. End of input ends the transaction and the process.

Why a process: the ADBC driver links its own copy of SQLite. Two copies of SQLite in one
process do not see each other's POSIX locks, so when one closes the database it may take
itself for the last connection, checkpoint and delete the WAL under the other's feet
(https://www.sqlite.org/howtocorrupt.html, "multiple copies of SQLite linked into the same
application"). Django's connection uses Python's ``sqlite3``; the reader therefore never
shares a process with it. It imports no Django.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any


def serve(database: str, requests: IO[str], answers: IO[str]) -> None:
    """Answer the requests read from ``requests`` inside one read transaction."""
    import adbc_driver_sqlite.dbapi
    import pyarrow as pa

    connection = adbc_driver_sqlite.dbapi.connect(database)
    try:
        for line in requests:
            if not line.strip():
                continue
            request: dict[str, Any] = json.loads(line)
            try:
                cursor = connection.cursor()
                try:
                    cursor.adbc_statement.set_options(
                        **{"adbc.sqlite.query.batch_rows": str(int(request["batch_rows"]))}
                    )
                    cursor.execute(request["sql"], request["params"])
                    table = cursor.fetch_arrow_table()
                finally:
                    cursor.close()
                with (
                    pa.OSFile(request["out"], "wb") as sink,
                    pa.ipc.new_file(sink, table.schema) as writer,
                ):
                    writer.write_table(table)
                answer: dict[str, Any] = {"rows": table.num_rows}
            except Exception as error:  # reported to the reading process, which raises it
                answer = {"error": f"{type(error).__name__}: {error}"}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()
    finally:
        connection.rollback()
        connection.close()


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin, sys.stdout)
