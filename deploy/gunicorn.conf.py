"""gunicorn settings for the router's web process.

Threads give keep-alive and overlap database round trips; two processes per
core keep the GIL from capping throughput.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
keepalive = 5
timeout = 30
graceful_timeout = 20
max_requests = 20_000
max_requests_jitter = 2_000
accesslog = None
limit_request_line = 8190


def post_worker_init(worker):
    """Leave the application's long-lived objects (directory, rule index,
    schemas) out of every garbage collection: each request then pays only for
    the objects it made itself."""
    gc.freeze()
