"""External certificates: a person documents a competence with a certificate from
elsewhere (a PDF, PNG or JPEG file), and it counts once their organisation approves it.

The record is made *pending* and belongs, for the decision, to the person's employer
(``User.employer``) while they are a member there (:func:`deciding_organisation`): its
admins, and the leader of the person's unit there, approve or reject it
(:func:`frikomport.permissions.can_decide_record`); nobody decides on their own. Only
while the person is a member: someone who has left is no longer the organisation's
business, so it no longer lists, opens or decides their records. The person is told the
decision by e-mail. The file is the person's: it is shown to them and to those who
decide, and the person may delete their record at any time.

Files are checked by their content, not their name alone (the first bytes, and for
images that Pillow can read them), and stored under the data directory in a folder per
person under a random name, so deleting a person's data can remove the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload

from frikomport.audit import services as audit
from frikomport.competence import catalogue, records
from frikomport.competence.models import (
    Competence,
    CompetenceRecord,
    RecordSource,
    RecordStatus,
)
from frikomport.courses.attachments import MAGIC, write_file
from frikomport.db import lock_row, utcnow
from frikomport.errors import DomainError, NotFoundError, PermissionDeniedError
from frikomport.i18n import recipient_locale
from frikomport.inputs import single_line
from frikomport.notifications.rendering import Rendered, queue_deferred, renderer
from frikomport.notifications.services import render_email
from frikomport.permissions import (
    Permission,
    can,
    can_decide_record,
    led_unit_ids,
    role_in,
)
from frikomport.privacy.files import remove_after_commit, remove_if_rolled_back
from frikomport.tenancy.models import Membership, Organisation
from frikomport.tenancy.scoping import get_organisation_by_id, get_scoped
from frikomport.units.models import Unit
from frikomport.urls import external_url

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a phone photo of a page is ~12 million
FILE_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg",
              "jpeg": "image/jpeg"}
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}  # Pillow's names
PENDING_SHOWN = 200  # the approvals page lists this many, oldest first
EMAIL = "competence_record_decided"


def user_folder(user_id: int) -> Path:
    """Where one person's certificate files are kept."""
    return Path(current_app.config["DATA_DIR"]) / "external-certificates" / str(user_id)


def stored_path(record: CompetenceRecord) -> Path:
    return user_folder(record.user_id) / record.stored_name


# Adding and deleting one's own -------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """What the person sends: the competence, what the certificate is called and who
    issued it, the day it was achieved (valid from), and the file's bytes (read once by
    the view, at most MAX_FILE_BYTES + 1 of them: the service may run twice when its
    commit loses a lock race, and a stream can be read only once)."""

    competence_id: int
    title: str
    issuer: str
    achieved_on: date
    filename: str
    data: bytes


def deciding_organisation(person) -> Organisation | None:
    """The organisation that decides a person's new certificate: their employer if they
    are still a member there (a home organisation left before it was moved on is not),
    else the one they joined first; None for someone in no organisation."""
    employer = person.employer
    if employer is not None and person.role_in(employer.id) is not None:
        return employer
    memberships = sorted(person.memberships, key=lambda membership: membership.id)
    return memberships[0].organisation if memberships else None


def competence_choices(session: Session, person) -> list[Competence]:
    """What a person may document: what the deciding organisation uses (the region's
    catalogue and its own), never another organisation's own, which it could not judge."""
    organisation = deciding_organisation(person)
    return catalogue.usable(session, organisation) if organisation is not None else []


def add_external(session: Session, actor, upload: Upload) -> CompetenceRecord:
    """A pending record with the checked file, to be decided by the person's organisation.

    The file is removed again if the transaction is rolled back (a refused commit, or
    a lost race that run_service retries), so no file is left without its row."""
    organisation = deciding_organisation(actor)
    if organisation is None:
        raise DomainError(_("Only members of an organisation can add certificates: the "
                            "organisation approves them."))
    competence = next((c for c in competence_choices(session, actor)
                       if c.id == upload.competence_id), None)
    if competence is None:
        raise DomainError(_("Choose a competence from the list: %(name)s approves "
                            "certificates for the region's competences and its own.",
                            name=organisation.name))
    if upload.achieved_on > records.today():
        raise DomainError(_("The date achieved cannot be in the future."))
    filename = _display_name(upload.filename)
    content_type = _checked_file(filename, upload.data)
    record = CompetenceRecord(
        user_id=actor.id, competence_id=competence.id, source=RecordSource.EXTERNAL,
        status=RecordStatus.PENDING, valid_from=upload.achieved_on,
        valid_until=records.valid_until_for(competence, upload.achieved_on),
        title=single_line(upload.title)[:200], issuer=single_line(upload.issuer)[:200],
        organisation_id=organisation.id, filename=filename, content_type=content_type,
        stored_name=write_file(user_folder(actor.id), upload.data))
    remove_if_rolled_back(session, [stored_path(record)])
    session.add(record)
    session.flush()
    return record


def delete_own(session: Session, actor, record_id: int) -> None:
    """The person deletes one of their external records, whatever its state: the
    certificate and the file are their data."""
    record = session.get(CompetenceRecord, record_id)
    if record is None or record.user_id != actor.id or record.source != RecordSource.EXTERNAL:
        raise NotFoundError()
    session.delete(record)
    if record.stored_name:
        remove_after_commit(session, [stored_path(record)])


def _display_name(raw: str) -> str:
    """The uploaded file's own name without any folder (old browsers send the path)."""
    return single_line(raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[-200:]


def _checked_file(filename: str, data: bytes) -> str:
    """The content type of an acceptable file; refuses anything else with a message."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    content_type = FILE_TYPES.get(extension)
    if content_type is None:
        raise DomainError(_("Upload the certificate as a PDF, PNG or JPEG file."))
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(_("The file is too large: a certificate can be at most 5 MB."))
    if not data.startswith(MAGIC[content_type]):
        raise DomainError(_("The file's content does not match its name."))
    if content_type in IMAGE_FORMATS:
        _check_image(data, IMAGE_FORMATS[content_type])
    return content_type


def _check_image(data: bytes, expected_format: str) -> None:
    unreadable = DomainError(_("The image could not be read. Upload a PNG or JPEG file."))
    try:
        with Image.open(BytesIO(data)) as image:
            if image.format != expected_format:
                raise unreadable
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise DomainError(_("The image has too many pixels. Scan or photograph the "
                                    "certificate at a lower resolution."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as error:
        raise unreadable from error


# Who decides, and the decision --------------------------------------------------------

def owner_membership(session: Session, record: CompetenceRecord) -> Membership | None:
    """The person's membership of the organisation that decides their record (which
    says their unit there); None once they have left it."""
    return session.scalar(select(Membership).where(
        Membership.user_id == record.user_id,
        Membership.organisation_id == record.organisation_id))


def ensure_may_decide(session: Session, actor, organisation: Organisation,
                      record: CompetenceRecord) -> None:
    """Admins and the person's unit leader may; other members are refused (403), and
    everyone else is told the record does not exist (404). So is everyone when the
    person is no longer a member of the organisation: it is not theirs to handle."""
    membership = owner_membership(session, record)
    if membership is None:
        raise NotFoundError()
    if can_decide_record(actor, organisation, membership.unit_id):
        return
    if role_in(actor, organisation) is not None:
        raise PermissionDeniedError()
    raise NotFoundError()


def ensure_may_list(actor, organisation: Organisation) -> None:
    """The approvals page is for the organisation's admins and its unit leaders."""
    if can(actor, Permission.MANAGE_COMPETENCE, organisation) or led_unit_ids(
            actor, organisation.id):
        return
    if role_in(actor, organisation) is not None:
        raise PermissionDeniedError()
    raise NotFoundError()


def deciding_organisations(actor) -> list[Organisation]:
    """The organisations whose units ``actor`` sees and whose certificates they decide:
    where they are admin, or lead a unit."""
    led = {leadership.organisation_id for leadership in actor.unit_leaderships}
    return [m.organisation for m in actor.memberships if m.organisation_id in led
            or can(actor, Permission.MANAGE_COMPETENCE, m.organisation)]


@dataclass(frozen=True)
class Pending:
    record: CompetenceRecord
    unit_name: str | None


def pending(session: Session, actor, organisation: Organisation) -> list[Pending]:
    """Pending certificates the actor decides, oldest first (at most PENDING_SHOWN + 1,
    so the page can say there are more): all of the organisation's current members for
    admins, those of the people in their units for leaders; never the actor's own."""
    ensure_may_list(actor, organisation)
    statement = (
        select(CompetenceRecord, Unit.name)
        .join(Membership, and_(Membership.user_id == CompetenceRecord.user_id,
                               Membership.organisation_id == organisation.id))
        .outerjoin(Unit, Unit.id == Membership.unit_id)
        .where(CompetenceRecord.organisation_id == organisation.id,
               CompetenceRecord.source == RecordSource.EXTERNAL,
               CompetenceRecord.status == RecordStatus.PENDING,
               CompetenceRecord.user_id != actor.id)
        .options(joinedload(CompetenceRecord.user), joinedload(CompetenceRecord.competence))
        .order_by(CompetenceRecord.created_at, CompetenceRecord.id)
        .limit(PENDING_SHOWN + 1))
    if not can(actor, Permission.MANAGE_COMPETENCE, organisation):
        led = sorted(led_unit_ids(actor, organisation.id))
        statement = statement.where(Membership.unit_id.in_(led))
    return [Pending(record, unit_name) for record, unit_name in session.execute(statement)]


def decide(session: Session, actor, organisation: Organisation, record_id: int,
           approve: bool, note: str = "") -> CompetenceRecord:
    """Approve or reject a pending certificate, and tell the person by e-mail."""
    record = get_scoped(session, CompetenceRecord, organisation, record_id)
    if record.source != RecordSource.EXTERNAL:
        raise NotFoundError()
    ensure_may_decide(session, actor, organisation, record)
    if record.user_id == actor.id:
        raise DomainError(_("You cannot decide on your own certificate."))
    record = lock_row(session, CompetenceRecord, record.id)
    if record.status != RecordStatus.PENDING:
        raise DomainError(_("This certificate has already been decided."))
    note = single_line(note or "")[:300]
    record.status = RecordStatus.APPROVED if approve else RecordStatus.REJECTED
    record.decided_by_id, record.decided_at, record.decision_note = actor.id, utcnow(), note
    details = {"competence": record.competence.name, "user": record.user.name}
    if note:
        details["reason"] = note
    audit.record(session, actor,
                 "competence_record.approved" if approve else "competence_record.rejected",
                 record, organisation, **details)
    queue_deferred(session, record.user.email, EMAIL, {"record": record.id,
                                                       "approved": approve})
    return record


def file_for_viewer(session: Session, actor, record_id: int) -> CompetenceRecord:
    """An external record whose file ``actor`` may open: their own, or one they decide."""
    record = session.get(CompetenceRecord, record_id)
    if record is None or record.source != RecordSource.EXTERNAL or not record.stored_name:
        raise NotFoundError()
    if record.user_id == actor.id:
        return record
    if record.organisation_id is None:
        raise NotFoundError()
    ensure_may_decide(session, actor,
                      get_organisation_by_id(session, record.organisation_id), record)
    return record


@renderer(EMAIL)
def _write_decision(session: Session, arguments: dict) -> Rendered | None:
    """The decision as it was made (a later change sends its own e-mail); nothing if the
    person has deleted the record meanwhile."""
    record = session.get(CompetenceRecord, arguments["record"])
    if record is None:
        return None
    organisation = (session.get(Organisation, record.organisation_id)
                    if record.organisation_id else None)
    subject, body = render_email(
        EMAIL, recipient_locale(record.user, host=organisation), record=record,
        approved=arguments["approved"], url=external_url("my_competence.overview"))
    return Rendered(subject, body)
