"""Organisation logos: validated with Pillow, re-encoded as PNG, stored on disk.

Re-encoding strips metadata and anything that is not pixels (no SVG: it can carry
scripts), and bounds the size of what we serve.
"""

from __future__ import annotations

import secrets
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from frikomport.audit.services import record
from frikomport.errors import DomainError
from frikomport.permissions import Permission, ensure
from frikomport.tenancy.models import Organisation

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_SOURCE_PIXELS = 4000 * 4000
LOGO_BOX = (600, 300)
ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}


def logo_dir() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "logos"


def logo_path(organisation: Organisation) -> Path | None:
    if not organisation.logo_filename:
        return None
    return logo_dir() / organisation.logo_filename


def save_logo(session: Session, actor, organisation: Organisation, stream) -> None:
    ensure(actor, Permission.EDIT_ORGANISATION, organisation)
    data = stream.read(MAX_LOGO_BYTES + 1)
    if len(data) > MAX_LOGO_BYTES:
        raise DomainError(_("The logo can be at most 2 MB."))
    image = _open_image(data)
    image.thumbnail(LOGO_BOX)
    filename = f"{organisation.slug}-{secrets.token_hex(6)}.png"
    logo_dir().mkdir(parents=True, exist_ok=True)
    image.save(logo_dir() / filename, format="PNG", optimize=True)
    old = logo_path(organisation)
    organisation.logo_filename = filename
    record(session, actor, "organisation.logo_changed", organisation, organisation)
    if old is not None:
        old.unlink(missing_ok=True)


def _open_image(data: bytes) -> Image.Image:
    error = DomainError(_("The logo must be a PNG, JPEG, WebP or GIF image."))
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise error
            if probe.width * probe.height > MAX_SOURCE_PIXELS:
                raise DomainError(_("The logo image is too large (at most 4000 × 4000 pixels)."))
            probe.verify()
        image = Image.open(BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise error from exc
    return image.convert("RGBA")
