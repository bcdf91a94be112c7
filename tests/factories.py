"""factory_boy factories; each commits so the row survives the request's session clean-up."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from crm.auth.passwords import hash_password
from crm.auth.permissions import Role
from crm.choices import Addressee, Category, OrganisationType, Relationship
from crm.extensions import db
from crm.inquiries.statuses import Status
from crm.models import FollowUp, Inquiry, Note, Organisation, User
from crm.partners.services import normalise_name
from crm.timeutil import local_today, utcnow
from crm.workdays.services import response_due_at
from tests.conftest import TEST_PASSWORD


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.se")
    name = factory.Faker("name", locale="sv_SE")
    role = Role.SECRETARY_GENERAL
    active = True
    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Testmuseet nr {n}")
    name_key = factory.LazyAttribute(lambda o: normalise_name(o.name))
    type = OrganisationType.MUSEUM
    relationship = Relationship.PROSPECT


class InquiryFactory(BaseFactory):
    class Meta:
        model = Inquiry

    reference = factory.Sequence(lambda n: f"SAM-2099-{n + 1:04d}")
    organisation_name = "Exempelmuseet"
    organisation_type = OrganisationType.MUSEUM
    contact_name = "Anna Andersson"
    email = factory.Sequence(lambda n: f"anna{n}@exempel.se")
    category = Category.EXHIBITION
    subject = "Vandringsutställning om textilhantverk"
    message = "Vi vill gärna samarbeta kring en utställning."
    addressee = Addressee.NO_PREFERENCE
    status = Status.NEW
    first_response_due_at = factory.LazyFunction(lambda: response_due_at(utcnow(), 5, ()))


class NoteFactory(BaseFactory):
    class Meta:
        model = Note

    body = "En intern anteckning."


class FollowUpFactory(BaseFactory):
    class Meta:
        model = FollowUp

    title = "Återkoppla"
    due_on = factory.LazyFunction(local_today)


def make_attachment(content: bytes | None = None, filename: str = "projektplan.pdf",
                    scan_status=None, **owner):  # fmt: skip
    """A stored attachment with its file on disk; `owner` as for `attach_files` (inquiry=,
    message=, note=, inbound_mail=)."""
    import io

    from crm.attachments import storage
    from crm.attachments.detection import identify
    from crm.attachments.models import Attachment, ScanStatus
    from tests.attachments.samples import pdf

    stream = io.BytesIO(pdf() if content is None else content)
    kind = identify(stream, filename)
    stored = storage.store(stream, db.session)
    message, note = owner.get("message"), owner.get("note")
    inquiry = owner.get("inquiry")
    attachment = Attachment(
        inquiry_id=inquiry.id if inquiry else getattr(message or note, "inquiry_id", None),
        message_id=getattr(message, "id", None), note_id=getattr(note, "id", None),
        inbound_mail_id=getattr(owner.get("inbound_mail"), "id", None),
        filename=filename, content_type=kind.mime, extension=kind.extension, size=stored.size,
        sha256=stored.sha256, storage_key=stored.storage_key,
        scan_status=scan_status or ScanStatus.NOT_SCANNED,
    )  # fmt: skip
    db.session.add(attachment)
    db.session.flush()
    return attachment
