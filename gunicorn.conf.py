"""gunicorn settings for production: `gunicorn wsgi:app` reads this file."""

import gc
import os

# Read by config.py when the app is loaded (preload_app): web workers skip Flask-Migrate.
os.environ.setdefault("SAMVERKA_WEB_WORKER", "true")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind a TLS-terminating proxy
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))  # one per core on the 2-core host
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
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


def pre_fork(server, worker):
    # The app is loaded once, in the master (preload_app). Its start-up objects live as long as
    # the workers: freezing them keeps the cyclic GC from walking them in every full collection
    # (pauses of tens of ms) and from touching their pages, which the workers share.
    gc.freeze()
