"""gunicorn settings for production: `gunicorn wsgi:app` reads this file."""

import gc
import os

from gunicorn.glogging import Logger, SafeAtoms
from gunicorn.http.wsgi import Response

from crm.logs import escape

# Read by config.py when the app is loaded (preload_app): web workers skip Flask-Migrate.
os.environ.setdefault("SAMVERKA_WEB_WORKER", "true")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind a TLS-terminating proxy
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))  # one per core on the 2-core host
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# A gthread worker accepts up to worker_connections connections into its own queue, and they
# all die with it. Taking only as many as it has threads leaves the rest in the kernel's listen
# queue, shared by every worker: a killed worker then loses only the requests it was running.
# (on_starting below keeps this true when --threads comes from the command line.)
worker_connections = threads
timeout = 30
graceful_timeout = 20
# No keep-alive: an idle kept-alive connection would hold one of those slots, and be lost with
# the worker. The TLS proxy in front talks to us over loopback, where a connection is cheap.
keepalive = 0
max_requests = 2000  # recycle workers now and then, bounding any slow leak
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# No query strings in the access log: status links carry their token in the path only,
# but filters can hold names people searched for.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss rid=%({x-request-id}o)s'
preload_app = True


class EscapedAtoms(SafeAtoms):
    """Access-log values with control characters escaped, as in the app's own log: the path is
    logged percent-decoded, so /x%0d%0a… would otherwise start a forged line (ASVS 7.3.1)."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        return escape(value) if isinstance(value, str) else value


class OneLineLogger(Logger):
    atoms_wrapper_class = EscapedAtoms


logger_class = OneLineLogger


def _without_server_header(default_headers):
    """Gunicorn has no setting for it, and names itself in a Server header on every response;
    the app drops its own (crm/security.py). HTTP/1 only: HTTP/2 is not enabled here."""

    def headers(self):
        return [line for line in default_headers(self) if not line.startswith("Server:")]

    headers.without_server = True
    return headers


# The config file is read again on SIGHUP: wrap only once.
if not getattr(Response.default_headers, "without_server", False):
    Response.default_headers = _without_server_header(Response.default_headers)


def on_starting(server):
    server.cfg.set("worker_connections", server.cfg.threads)
    from crm.extensions import check_limits_are_shared

    check_limits_are_shared(server.app.wsgi().config, server.cfg.workers)
    from crm.core.templating import compile_templates

    compile_templates(server.app.wsgi())  # once, shared by the workers forked from here


def pre_fork(server, worker):
    # The app is loaded once, in the master (preload_app). Its start-up objects live as long as
    # the workers: freezing them keeps the cyclic GC from walking them in every full collection
    # (pauses of tens of ms) and from touching their pages, which the workers share.
    gc.freeze()
