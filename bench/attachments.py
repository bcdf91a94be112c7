"""The attachments' benchmark: `python -m bench.attachments` (by hand, never by the tests).

1. A public submission carrying 25 MB of files (10 + 10 + 5 MB, the default limits) to one
   gunicorn worker, against the same submission without files in the same run: time per
   request, and the worker's resident memory idle and at its peak (the upload streams to
   disk in chunks, so the peak must stay flat, not grow by 25 MB).
2. The staff thread page with 50 attachments against the same page with none: SQL
   statements (must be equal) and server time (Flask's test client, in process).

SQLite in a temporary folder by default; `--database-url` for PostgreSQL (emptied, migrated).
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.__main__ import WORK, Browser, Server, app_env, flask

SIZES = (10_000_000, 10_000_000, 5_000_000)


def pdf_of(size: int) -> bytes:
    head = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
    return head + b"%" * (size - len(head) - 6) + b"\n%%EOF"


def form_fields(browser: Browser) -> dict:
    page = browser.get("/samverkan")
    value = lambda name: re.search(rf'name="{name}" (?:type="hidden" )?value="([^"]*)"', page)  # noqa: E731
    return {
        "csrf_token": value("csrf_token").group(1), "started": value("started").group(1),
        "submission_id": value("submission_id").group(1), "website": "",
        "organisation_name": "Bänkföreningen", "organisation_type": "civil_society",
        "contact_name": "Bengt Bänk", "email": "bengt@example.se", "category": "research",
        "regions": "04", "subject": "Prestandaprov", "message": "Ett prov med bilagor.",
        "addressee": "no_preference", "consent": "y",
    }  # fmt: skip


def multipart(fields: dict, files: list[tuple[str, bytes]], folder: Path) -> tuple[Path, str]:
    """The request body in a file (so the sending side holds no 25 MB either)."""
    boundary = uuid.uuid4().hex
    path = folder / f"body-{boundary}"
    with path.open("wb") as out:
        for name, value in fields.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f"{value}\r\n".encode())  # fmt: skip
        for filename, content in files:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                      f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode())  # fmt: skip
            out.write(content)
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
    return path, boundary


def post_body(server: Server, browser: Browser, path: Path, boundary: str) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    started = time.perf_counter()
    with path.open("rb") as body:
        connection.request("POST", "/samverkan", body=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(path.stat().st_size), "Cookie": browser.cookie(),
            "Referer": server.url + "/samverkan",
        })  # fmt: skip
        response = connection.getresponse()
        response.read()
    connection.close()
    return response.status, time.perf_counter() - started


def bench_upload(url: str, rounds: int) -> list[str]:
    env = {**app_env(url), "SAMVERKA_ENV": "development"}
    flask(env, "db", "upgrade")
    folder = Path(tempfile.mkdtemp(prefix="samverka-bench-upload-", dir=WORK))
    env = {**app_env(url), "ATTACHMENTS_DIR": str(folder / "files")}
    server = Server("wsgi:app", env, workers=1)
    try:
        browser = Browser(server.url)
        browser.get("/samverkan")
        time.sleep(1)
        idle_mb = max(server.worker_rss_kb()) / 1024
        results = {}
        for name, files in (
            ("without files (baseline)", []),
            ("25 MB of files", [(f"plan-{n}.pdf", pdf_of(size)) for n, size in enumerate(SIZES)]),
        ):
            times, server.peak_kb = [], 0
            for _ in range(rounds):
                body, boundary = multipart(form_fields(browser), files, folder)
                status, seconds = post_body(server, browser, body, boundary)
                body.unlink()
                assert status == 302, status
                times.append(seconds)
            results[name] = (statistics.median(times), server.peak_kb / 1024)
    finally:
        server.stop()
    base = results["without files (baseline)"][0]
    lines = [
        f"Idle worker: {idle_mb:.0f} MB resident.",
        "",
        "| public submission | median s | time / baseline | worker peak RSS MB |",
        "|---|---|---|---|",
    ]
    for name, (median, peak) in results.items():
        lines.append(f"| {name} | {median:.3f} | {median / base:.1f} | {peak:.0f} |")
    return lines


def bench_thread(url: str, rounds: int) -> list[str]:
    from bench.conversation import build_app, p95, page_times, reset
    from crm.extensions import db
    from tests.conftest import TEST_PASSWORD
    from tests.factories import InquiryFactory, UserFactory, make_attachment

    app = build_app(url)
    app.config["ATTACHMENTS_DIR"] = tempfile.mkdtemp(prefix="samverka-bench-files-", dir=WORK)
    reset(app)
    with app.test_request_context():
        UserFactory(role="secretary_general", email="bench@exempel.se")
        bare, with_files = InquiryFactory(), InquiryFactory()
        for n in range(50):
            make_attachment(inquiry=with_files, content=pdf_of(2000), filename=f"bilaga-{n}.pdf")
        db.session.commit()
        references = bare.reference, with_files.reference
    client = app.test_client()
    client.post("/login", data={"email": "bench@exempel.se", "password": TEST_PASSWORD})
    with app.app_context():
        (base_count, base), (count, times) = (
            page_times(client, f"/inquiries/{reference}", rounds) for reference in references
        )
    return [
        "| detail page | SQL statements | p50 ms | p95 ms | p95 / baseline |",
        "|---|---|---|---|---|",
        f"| no attachments (baseline) | {base_count} | {statistics.median(base):.1f} | "
        f"{p95(base):.1f} | 1.00 |",
        f"| 50 attachments | {count} | {statistics.median(times):.1f} | {p95(times):.1f} | "
        f"{p95(times) / p95(base):.2f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-rounds", type=int, default=200)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    url = (
        args.database_url
        or f"sqlite:///{tempfile.mkdtemp(prefix='samverka-bench-', dir=WORK)}/b.db"
    )
    print(f"Database: {url.split('://')[0]}\n")
    print("\n".join(bench_upload(url, args.rounds)), "\n")
    print("\n".join(bench_thread(url, args.page_rounds)))


if __name__ == "__main__":
    main()
