"""The exports' memory: `python -m bench.export_memory [--inquiries N]` (by hand, never by the
tests).

Builds an SQLite database with `flask crm demo-data`, then, in one process, exports every
inquiry as CSV (streamed) and as Excel (XlsxWriter's constant-memory mode, to a temporary
file) and reports for each the time, the peak of Python allocations (tracemalloc) and the
growth of the process's peak resident memory. Both must stay flat as N grows: run with
10 000 and 100 000 and compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.__main__ import app_env, flask


def measure(label: str, work) -> None:
    """Time one run untraced, then the memory of a second run (tracemalloc slows it down)."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    size = work()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{label:6} {seconds:6.1f} s  {size / 1e6:6.1f} MB written  "
          f"Python peak {peak / 1e6:6.1f} MB  max RSS +{(rss_after - rss_before) / 1e3:6.1f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="an SQLite file built by an earlier run")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="samverka-export-"))
    database = options.database or folder / "bench.sqlite3"
    env = {**app_env(f"sqlite:///{database}"), "SAMVERKA_ENV": "development"}
    if options.database is None:
        flask(env, "db", "upgrade")
        flask(env, "crm", "demo-data", "--inquiries", str(options.inquiries),
              "--organisations", str(max(options.inquiries // 20, 50)))  # fmt: skip
    os.environ.update(env)

    from crm.reports.export import csv_rows, xlsx_file
    from wsgi import app

    try:
        with app.test_request_context():
            print(f"{options.inquiries} inquiries, SQLite")
            measure("csv", lambda: sum(len(chunk.encode()) for chunk in csv_rows([], ";")))

            def excel() -> int:
                with xlsx_file([]) as handle:
                    return len(handle.read())

            measure("xlsx", excel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
