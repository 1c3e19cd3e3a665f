"""Course attachments: stored on disk under a random name, served only to those who may
see the course."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from frikomport.audit.services import record
from frikomport.courses.models import Course, CourseAttachment
from frikomport.errors import DomainError, NotFoundError
from frikomport.permissions import Permission, ensure, ensure_can_view_course
from frikomport.tenancy.scoping import get_scoped

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_COURSE = 20
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
# The first bytes each kind of file must start with (Office 2007+/ODF files are ZIPs).
MAGIC = {
    "application/pdf": (b"%PDF",),
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/msword": (b"\xd0\xcf\x11\xe0",),
    "application/vnd.ms-excel": (b"\xd0\xcf\x11\xe0",),
    "application/vnd.ms-powerpoint": (b"\xd0\xcf\x11\xe0",),
}
ZIP_MAGIC = (b"PK\x03\x04",)


def storage_dir(organisation_id: int) -> Path:
    return Path(current_app.config["DATA_DIR"]) / "attachments" / str(organisation_id)


def stored_path(attachment: CourseAttachment) -> Path:
    return storage_dir(attachment.organisation_id) / attachment.stored_name


def write_file(folder: Path, data: bytes) -> str:
    """Store ``data`` in ``folder`` under a new random name, and return the name (never
    the uploader's: it may hold path tricks, and it must not be guessable)."""
    stored_name = secrets.token_hex(16)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(data)
    return stored_name


def _content_type(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in CONTENT_TYPES:
        raise DomainError(_("This kind of file is not allowed. Use PDF, Office or "
                            "OpenDocument files, or images."))
    return CONTENT_TYPES[extension]


def add_attachment(session: Session, actor, course: Course, filename: str,
                   stream) -> CourseAttachment:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    if len(course.attachments) >= MAX_ATTACHMENTS_PER_COURSE:
        raise DomainError(_("A course can have at most %(n)d attachments.",
                            n=MAX_ATTACHMENTS_PER_COURSE))
    safe_name = secure_filename(filename) or "vedlegg"
    content_type = _content_type(safe_name)
    data = stream.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise DomainError(_("An attachment can be at most 10 MB."))
    if not data.startswith(MAGIC.get(content_type, ZIP_MAGIC)):
        raise DomainError(_("The file's content does not match its name."))
    stored_name = write_file(storage_dir(course.organisation_id), data)
    attachment = CourseAttachment(organisation_id=course.organisation_id, course=course,
                                  filename=filename[:200] or safe_name,
                                  stored_name=stored_name, content_type=content_type,
                                  size=len(data))
    session.add(attachment)
    session.flush()
    record(session, actor, "course.attachment_added", course, course.organisation,
           filename=attachment.filename)
    return attachment


def get_attachment_for_viewer(session: Session, user, course: Course,
                              attachment_id: int) -> CourseAttachment:
    ensure_can_view_course(user, course)
    attachment = get_scoped(session, CourseAttachment, course.organisation, attachment_id)
    if attachment.course_id != course.id:
        raise NotFoundError()
    return attachment


def delete_attachment(session: Session, actor, course: Course, attachment_id: int) -> None:
    ensure(actor, Permission.MANAGE_COURSES, course.organisation)
    attachment = get_scoped(session, CourseAttachment, course.organisation, attachment_id)
    record(session, actor, "course.attachment_deleted", course, course.organisation,
           filename=attachment.filename)
    session.delete(attachment)
    stored_path(attachment).unlink(missing_ok=True)


def copy_files(session: Session, source: Course, target: Course) -> None:
    """Duplicate a course's attachments (used when copying a course)."""
    for attachment in source.attachments:
        stored_name = secrets.token_hex(16)
        folder = storage_dir(target.organisation_id)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored_path(attachment), folder / stored_name)
        session.add(CourseAttachment(
            organisation_id=target.organisation_id, course=target, filename=attachment.filename,
            stored_name=stored_name, content_type=attachment.content_type,
            size=attachment.size))
