"""FriKomPort: a shared competence portal for Norwegian municipalities."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Application factory. ``config`` overrides the settings read from the environment."""
    settings = load_config()
    settings.update(config or {})
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings["DATA_DIR"]),
    )
    app.config.from_mapping(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic logs its plugin set-up at INFO on import; migration commands re-enable it.
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from frikomport import inputs, web

    inputs.install(app)
    web.init_extensions(app)
    web.connect_receivers()
    web.register_blueprints(app)
    web.register_cli(app)
    web.register_error_handlers(app)
    web.register_request_hooks(app)
    return app
