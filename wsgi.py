"""WSGI entry point: ``gunicorn wsgi:app`` (and ``flask`` finds it automatically)."""

from frikomport import create_app

app = create_app()
