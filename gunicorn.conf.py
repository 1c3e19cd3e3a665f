"""gunicorn settings, read by ``gunicorn wsgi:app`` from the working directory (flags on
the command line win).

Processes, not threads. Under load, a worker serving requests from several threads
(``--threads 4``, the gthread worker) dies now and then with SIGSEGV: the heap of
CPython's small-object allocator is corrupted (``pymalloc_alloc`` in the C stack, the
Python stack at a random place: SQLAlchemy, MarkupSafe, Jinja). Measured on the 2-core
machine with CPython 3.11.7 (issue 12): 1 to 6 crashes in every 150 s of 12 concurrent
clients, with SQLite and PostgreSQL, SQLAlchemy 2.0 and 2.1, gunicorn 23 and 27; none in
32,863 requests with one thread per worker. A crashed worker loses the requests it was
serving, so one thread per process until the cause is found.
"""

import faulthandler
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = 1
timeout = 60


def post_fork(server, worker):
    """A crash still writes the Python stack of every thread to the log."""
    faulthandler.enable()
