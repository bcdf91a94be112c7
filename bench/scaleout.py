"""Scale-out benchmark: `python -m bench.scaleout`. Run by hand, never by the tests.

Throughput of a staff page and a public page served by one app instance, then by two, on one
PostgreSQL database and one Redis (rate limits and cached figures, as docs/deploy.md's
"Scaling out" sets them), and the factor between the two.

Method: the dataset is built with `flask crm demo-data` (as `python -m bench` builds it); each
instance is gunicorn with gunicorn.conf.py and `--workers` gthread workers of one thread (the
main benchmark's setting). Both measurements run two wrk processes at once with the same
connections each, for the same time: against the one instance, or one per instance, and the
requests per second of the two are summed. So the client side (two wrk processes, the same
number of connections in all) is the same in both, and only the number of instances changes.
No load balancer: each wrk stands for the balancer's share of one instance. Both instances run
throughout (an idle one costs nothing); one and two alternate for `--rounds` rounds, and each
one's best round is reported, so another process busy on the machine for a while shows as one
slow round rather than as a factor.

Everything runs on this machine: wrk, PostgreSQL, Redis and every instance share its cores,
so the factor shows what a second instance buys here, not on a second host.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import threading
import uuid
from datetime import date
from pathlib import Path

from bench.__main__ import (
    RESULTS,
    ROOT,
    Browser,
    Server,
    app_env,
    build_dataset,
    prepare,
    wrk,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
PAGES = {
    "staff: inquiry list": "/inquiries",
    "staff: dashboard (figures cached in Redis)": "/dashboard",
    "public: the form": "/samverkan",
}


def scratch_database(size: int) -> str:
    name = f"samverka_bench_scaleout_{size}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                    "-c", f"CREATE DATABASE {name}"], check=True)  # fmt: skip
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)  # fmt: skip


def forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    stale = list(client.scan_iter(match=f"*{prefix}*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()


def together(targets: list[tuple[str, str | None]], seconds: int, connections: int) -> dict:
    """Run one wrk per target (url, cookie) at the same time; their sum and their worst p95."""
    results: list[dict] = [{} for _ in targets]

    def load(index: int, url: str, cookie: str | None) -> None:
        results[index] = wrk(url, seconds, connections, cookie=cookie)

    threads = [threading.Thread(target=load, args=(n, url, cookie))
               for n, (url, cookie) in enumerate(targets)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "rps": sum(r["rps"] for r in results),
        "p95": max(r["p95"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "each": [round(r["rps"]) for r in results],
    }


def logged_in_cookie(server: Server) -> str:
    browser = Browser(server.url)
    browser.log_in()
    landed = browser.opener.open(server.url + "/inquiries", timeout=60).geturl()
    if "/login" in landed:  # wrk counts redirects as successes: make sure we're in
        raise RuntimeError("not logged in: redirected to " + landed)
    return browser.cookie()


def measure(servers: list[Server], cookie: str, page: str, seconds: int, connections: int) -> dict:
    """One page with two wrk processes at once: both on the one server, or one per server."""
    path = PAGES[page]
    cookie_or_none = cookie if page.startswith("staff") else None
    targets = [(server.url + path, cookie_or_none) for server in (servers * 2)[:2]]
    together(targets, 1, connections)  # warm every worker (first requests, caches)
    return together(targets, seconds, connections)


def run(size: int, seconds: int, connections: int, workers: int, rounds: int) -> dict:
    url = scratch_database(size)
    prefix = f"bench-scaleout-{uuid.uuid4().hex[:8]}"
    measured: dict = {page: {"one": [], "two": []} for page in PAGES}
    try:
        print(f"building {size} inquiries …", flush=True)
        dataset = build_dataset(url, size)
        env = {**app_env(url), "RATELIMIT_STORAGE_URI": REDIS_URL, "CACHE_STORAGE_URI": REDIS_URL,
               "REDIS_KEY_PREFIX": prefix}  # fmt: skip
        servers = [Server("wsgi:app", env, workers=workers) for _ in range(2)]
        try:
            cookie = logged_in_cookie(servers[0])  # valid on every instance: one SECRET_KEY
            # Alternate one and two instances, so a disturbance (another process on the
            # machine) is seen in one round and not taken for the effect of the second instance.
            for number in range(1, rounds + 1):
                for page in PAGES:
                    for label, used in (("one", servers[:1]), ("two", servers)):
                        result = measure(used, cookie, page, seconds, connections)
                        measured[page][label].append(result)
                        print(f"round {number}, {page}, {label}: {result['rps']:.0f} req/s "
                              f"{result['each']}", flush=True)  # fmt: skip
        finally:
            for server in servers:
                server.stop()
    finally:
        drop_database(url)
        forget_redis_keys(prefix)
    return {"size": size, "dataset": dataset, "measured": measured, "seconds": seconds,
            "connections": connections, "workers": workers, "rounds": rounds}  # fmt: skip


def markdown(result: dict) -> str:
    cores = os.cpu_count()
    size = f"{result['size']:,}".replace(",", " ")
    lines = [
        f"# Scale-out benchmark {date.today().isoformat()} — PostgreSQL + Redis",
        "",
        f"{size} inquiries (built in {result['dataset']['seconds']:.0f} s). Each "
        f"instance: gunicorn, {result['workers']} worker(s) × 1 thread. Two wrk processes "
        f"at once, {result['connections']} connections each, {result['seconds']} s: both on "
        "one instance, or one per instance; req/s summed, p95 the worse of the two. "
        f"{result['rounds']} rounds, one and two instances alternating; the table takes each "
        "one's best round (the least disturbed by anything else on the machine), the rounds "
        "are listed below it. "
        f"**This machine has {cores} cores**, shared by wrk, PostgreSQL, Redis and every "
        "instance: the factor is what a second instance buys on the same machine, not on a "
        "second host.",
        "",
        "| page | 1 instance req/s | p95 ms | 2 instances req/s | p95 ms | factor | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rounds = []
    for name, runs in result["measured"].items():
        one = max(runs["one"], key=lambda r: r["rps"])
        two = max(runs["two"], key=lambda r: r["rps"])
        errors = sum(r["errors"] for r in runs["one"] + runs["two"])
        lines.append(
            f"| {name} | {one['rps']:.0f} | {one['p95']:.1f} | {two['rps']:.0f} | "
            f"{two['p95']:.1f} | {two['rps'] / one['rps']:.2f} | {errors} |"
        )
        rounds.append(
            f"- {name}: 1 instance "
            + ", ".join(f"{r['rps']:.0f}" for r in runs["one"])
            + "; 2 instances "
            + ", ".join(f"{r['rps']:.0f}" for r in runs["two"])
            + " req/s"
        )
    return "\n".join([*lines, "", "Every round:", "", *rounds]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--size", type=int, default=10_000, help="inquiries in the dataset")
    parser.add_argument("--seconds", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=4, help="connections per wrk")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per instance")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one and two instances")
    args = parser.parse_args()
    prepare()
    result = run(args.size, min(args.seconds, 60), args.connections, args.workers, args.rounds)
    report = markdown(result)
    workers = f"{args.workers}worker" + ("s" if args.workers > 1 else "")
    path = RESULTS / f"{date.today().isoformat()}-scaleout-{workers}.md"
    path.write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {Path(path).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
