"""Samverka's benchmark: `python -m bench` (or `make bench`). Run by hand, never by the tests.

For each database and dataset size it builds the data with `flask crm demo-data`, serves the
app with gunicorn on 127.0.0.1, drives it with wrk from a second process, measures the
baselines (hello world, bare insert) with the same gunicorn settings in the same run, and
writes bench/results/<date>-<db>.md. Every load is bounded in time and stays on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORK = ROOT / "bench" / "tmp"
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "report.lua"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-lösenord-som-är-långt"
USER = "bench@example.se"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        path = WORK / f"bench-{size}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"samverka_bench_{size}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                    "-c", f"CREATE DATABASE {name}"], check=True)  # fmt: skip
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def app_env(url: str) -> dict:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": url,
        "SAMVERKA_ENV": "production",
        "SECRET_KEY": "bench-only-secret-" + "x" * 40,
        "SESSION_COOKIE_SECURE": "false",  # plain http on loopback
        "RATELIMIT_ENABLED": "false",  # bench only: the load comes from one address
        "FORM_MIN_FILL_SECONDS": "0",  # bench only: wrk fills the form at once
        "SAMVERKA_INSTANCE_PATH": str(WORK / "instance"),
    }


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([PYTHON, "-m", "flask", *args], env=env, cwd=ROOT, input=stdin,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout


def build_dataset(url: str, size: int) -> dict:
    env = {**app_env(url), "SAMVERKA_ENV": "development"}  # demo data is refused in production
    flask(env, "db", "upgrade")
    flask(env, "crm", "create-user", "--email", USER, "--name", "Bench Sekreterare",
          "--role", "secretary_general", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    flask(env, "crm", "create-user", "--email", "chair@example.se", "--name", "Bench Ordförande",
          "--role", "chair", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    flask(env, "crm", "seed-partners")
    started = time.perf_counter()
    flask(env, "crm", "demo-data", "--inquiries", str(size),
          "--organisations", str(max(size // 20, 50)))  # fmt: skip
    seconds = time.perf_counter() - started
    settle(url)
    return {"seconds": seconds}


def settle(url: str) -> None:
    """Vacuum and analyse after the bulk load, as a live database would be by now.

    Without it PostgreSQL's autovacuum runs during the measurements and index-only scans
    still visit the heap, which measures the load, not the app.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    engine.dispose()


class Server:
    """gunicorn serving an app on a free loopback port, with its workers' peak memory tracked."""

    def __init__(self, app: str, env: dict, workers: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [GUNICORN, "-w", str(workers), "-k", "gthread", "--threads", "1", "-b",
             f"127.0.0.1:{self.port}", "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.peak_kb = 0
        self._stop = threading.Event()
        self._wait_until_up()
        threading.Thread(target=self._watch_memory, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self) -> None:
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start: " + self.process.stderr.read().decode()[-2000:])

    def worker_pids(self) -> list[str]:
        return subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                              text=True, check=False).stdout.split()  # fmt: skip

    def worker_rss_kb(self, pids: list[str] | None = None) -> list[int]:
        sizes = []
        for pid in pids if pids is not None else self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+)", status)
            if match:
                sizes.append(int(match.group(1)))
        return sizes

    def worker_private_kb(self) -> int:
        """The largest worker's private memory (USS): what one more worker costs. RSS also
        counts the pages a worker shares with gunicorn's master (the preloaded app and its
        compiled templates), which every worker shares."""
        sizes = []
        for pid in self.worker_pids():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            sizes.append(
                sum(
                    int(kb) for kb in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+)", rollup, re.M)
                )
            )
        return max(sizes, default=0)

    def _watch_memory(self) -> None:
        # Reading /proc is cheap; spawning pgrep is not, so look the workers up once a second.
        pids, looked_up = [], 0.0
        while not self._stop.is_set():
            if time.monotonic() - looked_up > 1:
                pids, looked_up = self.worker_pids(), time.monotonic()
            self.peak_kb = max([self.peak_kb, *self.worker_rss_kb(pids)])
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)


def wrk(
    url: str, seconds: int, connections: int, cookie: str | None = None, body: str | None = None
) -> dict:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    env = {**os.environ, **({"POST_BODY": body} if body else {})}
    output = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


class Browser:
    """Just enough of a browser to log in and pick up a form's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path: str, data: dict) -> str:
        encoded = urllib.parse.urlencode(data, doseq=True).encode()
        return self.opener.open(self.base + path, encoded, timeout=30).read().decode()

    def token(self, path: str) -> str:
        return re.search(
            r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', self.get(path)
        ).group(1)

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def log_in(self) -> None:
        self.post(
            "/login", {"email": USER, "password": PASSWORD, "csrf_token": self.token("/login")}
        )


def submission_body(browser: Browser) -> str:
    page = browser.get("/samverkan")
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page)
    started = started or re.search(
        r'id="started" name="started" type="hidden" value="([^"]+)"', page
    )
    fields = {
        "csrf_token": token, "started": started.group(1), "website": "",
        "organisation_name": "Bänkföreningen", "organisation_type": "civil_society",
        "contact_name": "Bengt Bänk", "email": "bengt{n}@example.se", "category": "research",
        "regions": "04", "subject": "Prestandaprov", "message": "Ett prov.",
        "addressee": "no_preference", "consent": "y",
    }  # fmt: skip
    return urllib.parse.urlencode(fields).replace("%7Bn%7D", "{n}")


def count_inquiries(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM inquiries")).scalar()
    engine.dispose()
    return count


def sample_paths(url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        reference = connection.execute(
            text("SELECT reference FROM inquiries ORDER BY id DESC LIMIT 1")
        ).scalar()
        organisation = connection.execute(text(
            "SELECT organisation_id FROM inquiries WHERE organisation_id IS NOT NULL "
            "GROUP BY organisation_id ORDER BY count(*) DESC LIMIT 1")).scalar()  # fmt: skip
        total = connection.execute(text("SELECT count(*) FROM inquiries")).scalar()
        offset = min(499 * 50, max(total - 50, 0))
        created_at, row_id = connection.execute(text(
            "SELECT created_at, id FROM inquiries ORDER BY created_at DESC, id DESC "
            f"LIMIT 1 OFFSET {offset}")).one()  # fmt: skip
    engine.dispose()
    from datetime import UTC, datetime

    moment = (
        created_at if isinstance(created_at, datetime) else datetime.fromisoformat(str(created_at))
    )
    moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    cursor = f"{moment.strftime('%Y%m%dT%H%M%S.%f')}_{row_id}"
    return {
        # The logged-in floor: the full staff layout (menu with its counts, search box,
        # account and log-out forms) around static text, so no page can be cheaper.
        "floor": "/integritet",
        "account": "/account",
        "inbox": "/inbox",
        "list": "/inquiries",
        "list filtered": "/inquiries?status=in_dialogue&category=research",
        "search rare": "/inquiries?q=" + urllib.parse.quote(reference),
        "search common": "/inquiries?q=" + urllib.parse.quote("utställning"),
        "list page 500": "/inquiries?after=" + cursor,
        "detail": f"/inquiries/{reference}",
        "organisation": f"/organisations/{organisation}",
        "pipeline": "/pipeline",
        "dashboard": "/dashboard",
        "yearly report": f"/dashboard/arsrapport?year={date.today().year}",
        "search everything": "/sok?q=" + urllib.parse.quote("utställning"),
    }


def measure_export(server: Server, cookie: str) -> dict:
    server.peak_kb = 0
    started = time.perf_counter()
    request = urllib.request.Request(
        server.url + "/export/inquiries.csv", headers={"Cookie": cookie}
    )
    rows = 0
    with urllib.request.urlopen(request, timeout=120) as response:
        for _line in response:
            rows += 1
    csv = {
        "seconds": time.perf_counter() - started,
        "rows": rows - 1,
        "peak_rss_mb": server.peak_kb / 1024,
    }
    server.peak_kb = 0
    started = time.perf_counter()
    request = urllib.request.Request(
        server.url + "/export/inquiries.xlsx", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        size = len(response.read())
    csv["xlsx"] = {
        "seconds": time.perf_counter() - started,
        "bytes": size,
        "peak_rss_mb": server.peak_kb / 1024,
    }
    return csv


def run(kind: str, sizes: list[int], seconds: int, connections: int) -> dict:
    results: dict = {"db": kind, "date": date.today().isoformat(), "sizes": {}}
    for size in sizes:
        url = database_url(kind, size)
        print(f"[{kind} {size}] building the dataset …", flush=True)
        dataset = build_dataset(url, size)
        env = app_env(url)
        scenarios: dict = {}
        baseline = Server("bench.baseline_app:app", env, workers=1)
        try:
            scenarios["baseline hello"] = wrk(baseline.url + "/", seconds, connections)
            scenarios["baseline insert"] = wrk(
                baseline.url + "/insert", seconds, connections, body="x=1"
            )
            scenarios["baseline insert"]["peak_rss_mb"] = baseline.peak_kb / 1024
        finally:
            baseline.stop()
        server = Server("wsgi:app", env, workers=1)
        try:
            idle = max(server.worker_rss_kb(), default=0) / 1024
            idle_private = server.worker_private_kb() / 1024
            browser = Browser(server.url)
            browser.log_in()
            cookie = browser.cookie()
            before = count_inquiries(url)
            visitor = Browser(server.url)  # the CSRF token belongs to the visitor's session
            body = submission_body(visitor)
            scenarios["public submit"] = wrk(server.url + "/samverkan", seconds, connections,
                                             cookie=visitor.cookie(), body=body)  # fmt: skip
            scenarios["public submit"]["stored"] = count_inquiries(url) - before
            for name, path in sample_paths(url).items():
                print(f"[{kind} {size}] {name}", flush=True)
                landed = browser.opener.open(server.url + path, timeout=60).geturl()
                if "/login" in landed:  # wrk counts redirects as successes: make sure we're in
                    raise RuntimeError(f"{name}: not logged in, redirected to {landed}")
                scenarios[name] = wrk(server.url + path, seconds, 1, cookie=cookie)
            # The throughput ratios compare like with like: under the baselines' load.
            scenarios[f"floor, {connections} connections"] = wrk(
                server.url + "/integritet", seconds, connections, cookie=cookie
            )
            scenarios[f"list, {connections} connections"] = wrk(
                server.url + "/inquiries", seconds, connections, cookie=cookie
            )
            export = measure_export(server, cookie)
            peak = server.peak_kb / 1024
        finally:
            server.stop()
        results["sizes"][size] = {"dataset": dataset, "scenarios": scenarios, "export": export,
                                  "peak_rss_mb": peak, "idle_rss_mb": idle,
                                  "idle_private_mb": idle_private}  # fmt: skip
    return results


def markdown(results: dict) -> str:
    lines = [f"# Benchmark {results['date']} — {results['db']}", "",
             "One gunicorn worker (gthread, 1 thread) on this 2-core machine; wrk on loopback. "
             "Staff pages: 1 connection; baselines, public submit and the list used for the "
             "throughput ratio: the `--connections` given.", ""]  # fmt: skip
    sizes = sorted(results["sizes"])
    for size in sizes:
        data = results["sizes"][size]
        lines += [f"## {size:,} inquiries (built in {data['dataset']['seconds']:.0f} s)".replace(",", " "), "",
                  "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for name, s in data["scenarios"].items():
            lines.append(
                f"| {name} | {s['rps']:.0f} | {s['p50']:.1f} | {s['p95']:.1f} | {s['p99']:.1f} | {s['errors']} |"
            )
        e = data["export"]
        submit = data["scenarios"]["public submit"]
        x = e["xlsx"]
        lines += ["", f"- CSV export: {e['rows']} rows in {e['seconds']:.2f} s, worker peak RSS during export {e['peak_rss_mb']:.0f} MB",
                  f"- Excel export: {x['bytes'] / 1e6:.1f} MB in {x['seconds']:.2f} s, worker peak RSS during export {x['peak_rss_mb']:.0f} MB",
                  f"- RSS of the app worker: idle after start {data['idle_rss_mb']:.0f} MB (target ≤ 60; of it private to the worker {data.get('idle_private_mb', 0):.0f} MB), peak over the run {data['peak_rss_mb']:.0f} MB (target ≤ 100)",
                  f"- Public submissions: {submit['requests']} answered, {submit['stored']} rows stored, {submit['errors']} errors", ""]  # fmt: skip
    lines += [
        "## Ratios against the targets",
        "",
        "| size | measure | value | target |",
        "|---|---|---:|---|",
    ]
    for size in sizes:
        s = results["sizes"][size]["scenarios"]
        hello, insert = s["baseline hello"]["rps"], s["baseline insert"]["rps"]
        floor = next(value for name, value in s.items() if name.startswith("floor, "))
        same_load = next(value for name, value in s.items() if name.startswith("list, "))
        lines.append(
            f"| {size} | logged-in floor req/s ÷ hello-world req/s (same connections) | {floor['rps'] / hello:.3f} | ≥ 0.333 |"
        )
        lines.append(
            f"| {size} | list req/s ÷ hello-world req/s (same connections) | {same_load['rps'] / hello:.3f} | ≥ 0.167 |"
        )
        lines.append(
            f"| {size} | public submit req/s ÷ bare insert req/s | {s['public submit']['rps'] / insert:.2f} | ≥ 0.5 |"
        )
        for name in ("search rare", "search common", "search everything", "yearly report"):
            lines.append(f"| {size} | {name} p95 | {s[name]['p95']:.1f} ms | ≤ 50 ms |")
    if len(sizes) == 2:
        small, large = (results["sizes"][n]["scenarios"] for n in sizes)
        for name in (
            "floor",
            "account",
            "inbox",
            "list",
            "list filtered",
            "list page 500",
            "detail",
            "organisation",
            "pipeline",
            "dashboard",
            "yearly report",
            "search everything",
        ):
            ratio = large[name]["p95"] / max(small[name]["p95"], 0.001)
            lines.append(
                f"| {sizes[1]} | {name} p95 {large[name]['p95']:.1f} ms; ÷ p95 at {sizes[0]} | {ratio:.2f} | ≤ 50 ms; ≤ 1.5 |"
            )
    return "\n".join(lines) + "\n"


def prepare() -> None:
    """wrk (Debian's package) and the work and result folders, for every benchmark here."""
    if not shutil.which("wrk"):
        subprocess.run(
            ["bash", "-c", "apt-get install -y -qq wrk || sudo apt-get install -y -qq wrk"],
            check=True,
        )
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="1000,100000", help="comma-separated inquiry counts")
    parser.add_argument("--seconds", type=int, default=8, help="seconds per scenario (bounded)")
    parser.add_argument("--connections", type=int, default=4, help="connections for public submit")
    args = parser.parse_args()
    prepare()
    sizes = [int(size) for size in args.sizes.split(",")]
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        results = run(kind, sizes, min(args.seconds, 60), args.connections)
        report = markdown(results)
        path = RESULTS / f"{results['date']}-{kind}.md"
        path.write_text(report, encoding="utf-8")
        (RESULTS / f"{results['date']}-{kind}.json").write_text(
            json.dumps(results, indent=1), encoding="utf-8"
        )
        print(report)
        print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
