"""The rules for tags: how a name is written and folded, tagging, renaming, merging, deleting.

Services change state and flush; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError

from crm.activity.services import record_event
from crm.audit.services import audit
from crm.auth.permissions import Permission
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.inquiries.conflicts import require_may_act
from crm.tags.models import NAME_MAX, Tag, inquiry_tags, organisation_tags
from crm.tags.queries import tag_by_key, usage_of
from crm.validation import clean_line, has_hidden_characters

log = logging.getLogger(__name__)


def tag_name(raw: str | None, field: str = "name") -> str:
    """A tag name as it is stored: NFC, trimmed, inner white space one space, no control or
    invisible formatting characters (a right-to-left override would disguise a tag)."""
    name = clean_line(raw)
    if not name:
        raise DomainError(_("Skriv etikettens namn."), field=field)
    if len(name) > NAME_MAX:
        raise DomainError(_("Högst %(max)d tecken.", max=NAME_MAX), field=field)
    if has_hidden_characters(name):
        raise DomainError(_("Namnet innehåller otillåtna tecken."), field=field)
    return name


def fold(name: str) -> str:
    """The key two names share when they are the same tag: case-folded ("Remiss" = "REMISS",
    "Strasse" = "Straße"), after the same cleaning as the name."""
    return clean_line(name).casefold()


def find_or_create_tag(raw: str, actor, field: str = "name") -> Tag:
    """The tag with this name in any case, made now if there is none."""
    name = tag_name(raw, field)
    key = fold(name)
    tag = tag_by_key(key)
    if tag is not None:
        return tag
    tag = Tag(name=name, key=key)
    try:
        with db.session.begin_nested():
            db.session.add(tag)
    except IntegrityError:  # someone made the same tag at this moment: use theirs
        return tag_by_key(key)
    audit("tag_created", actor, tag, name=name)
    return tag


def _require_may_edit_organisation(actor) -> None:
    if actor is None or not actor.can(Permission.ORGANISATION_EDIT):
        raise NotPermitted(_("Du har inte behörighet att ändra organisationer."))


def _has(table, column, owner_id: int, tag_id: int) -> bool:
    return (
        db.session.scalar(select(literal(1)).where(column == owner_id, table.c.tag_id == tag_id))
        is not None
    )


def _link(table, column, owner_id: int, tag_id: int) -> bool:
    """Insert the link; False when it is there already, also when a concurrent request made
    it between our check and our insert (the primary key refuses the twin: inside a savepoint,
    so the rest of the transaction goes on, on PostgreSQL too)."""
    if _has(table, column, owner_id, tag_id):
        return False
    try:
        with db.session.begin_nested():
            db.session.execute(insert(table).values({column.name: owner_id, "tag_id": tag_id}))
    except IntegrityError:
        if _has(table, column, owner_id, tag_id):
            return False
        raise  # not the twin (e.g. the inquiry was deleted meanwhile)
    return True


def tag_inquiry(inquiry, raw: str, actor, field: str = "name") -> Tag | None:
    """Put the tag on the inquiry (made if new); None when the inquiry had it already."""
    require_may_act(inquiry, actor)
    tag = find_or_create_tag(raw, actor, field)
    if not _link(inquiry_tags, inquiry_tags.c.inquiry_id, inquiry.id, tag.id):
        return None
    record_event("tag_added", actor, inquiry=inquiry, tag=tag.name)
    audit("inquiry_tagged", actor, inquiry, tag_id=tag.id, tag=tag.name)
    db.session.flush()
    return tag


def untag_inquiry(inquiry, tag: Tag, actor) -> None:
    """Take the tag off the inquiry (the tag itself stays)."""
    require_may_act(inquiry, actor)
    removed = db.session.execute(
        delete(inquiry_tags).where(
            inquiry_tags.c.inquiry_id == inquiry.id, inquiry_tags.c.tag_id == tag.id
        )
    ).rowcount
    if not removed:
        return
    record_event("tag_removed", actor, inquiry=inquiry, tag=tag.name)
    audit("inquiry_untagged", actor, inquiry, tag_id=tag.id, tag=tag.name)
    db.session.flush()


def tag_organisation(organisation, raw: str, actor) -> Tag | None:
    """Put the tag on the organisation (made if new); None when it had it already."""
    _require_may_edit_organisation(actor)
    tag = find_or_create_tag(raw, actor)
    if not _link(organisation_tags, organisation_tags.c.organisation_id, organisation.id, tag.id):
        return None
    record_event("tag_added", actor, organisation=organisation, tag=tag.name)
    audit("organisation_tagged", actor, organisation, tag_id=tag.id, tag=tag.name)
    db.session.flush()
    return tag


def untag_organisation(organisation, tag: Tag, actor) -> None:
    """Take the tag off the organisation."""
    _require_may_edit_organisation(actor)
    removed = db.session.execute(
        delete(organisation_tags).where(
            organisation_tags.c.organisation_id == organisation.id,
            organisation_tags.c.tag_id == tag.id,
        )
    ).rowcount
    if not removed:
        return
    record_event("tag_removed", actor, organisation=organisation, tag=tag.name)
    audit("organisation_untagged", actor, organisation, tag_id=tag.id, tag=tag.name)
    db.session.flush()


def rename_tag(tag: Tag, raw: str, actor) -> None:
    """Give the tag a new name. A name that is already another tag is refused: joining two
    tags is a merge, which has its own page saying what will move."""
    name = tag_name(raw)
    key = fold(name)
    other = tag_by_key(key)
    if other is not None and other.id != tag.id:
        raise _name_taken(other.name)
    if name == tag.name:
        return
    old, old_key = tag.name, tag.key
    try:
        with db.session.begin_nested():
            tag.name, tag.key = name, key
            db.session.flush()
    except IntegrityError:  # a tag of that name was made since the check above
        raise _name_taken(name) from None
    audit("tag_renamed", actor, tag, old=old, new=name)
    _saved_views_follow(old_key, name)
    db.session.flush()


def _saved_views_follow(old_key: str, new_name: str) -> None:
    from crm.saved_views.services import follow_tag

    follow_tag(old_key, new_name)


def _name_taken(name: str) -> DomainError:
    return DomainError(
        _("Etiketten ”%(name)s” finns redan. Slå ihop etiketterna i stället.", name=name),
        field="name",
    )


@dataclass(frozen=True)
class MergeResult:
    """What a merge moved, and what was already on the target (and so only lost the source)."""

    inquiries_moved: int
    inquiries_had_both: int
    organisations_moved: int
    organisations_had_both: int


def _require_may_untag_everything_with(tag: Tag, actor) -> None:
    """Deleting or merging away a tag takes it off everything that has it: refuse it where
    untagging one would be refused (jäv on one of the inquiries, or organisations without
    organisation:edit)."""
    from crm.inquiries.models import ConflictDeclaration, Inquiry

    conflicted = db.session.scalar(
        select(Inquiry)
        .join(inquiry_tags, inquiry_tags.c.inquiry_id == Inquiry.id)
        .where(
            inquiry_tags.c.tag_id == tag.id,
            Inquiry.conflicts.any(ConflictDeclaration.user_id == actor.id),
        )
        .order_by(Inquiry.reference)
        .limit(1)
    )
    if conflicted is not None:
        require_may_act(conflicted, actor)  # the rule itself decides, and says why
    # Likewise for organisations: who may not untag one may not untag all of them at once.
    if not actor.can(Permission.ORGANISATION_EDIT) and _has_any(organisation_tags, tag):
        _require_may_edit_organisation(actor)


def _has_any(table, tag: Tag) -> bool:
    return (
        db.session.scalar(select(literal(1)).where(table.c.tag_id == tag.id).limit(1)) is not None
    )


def merge_tags(source: Tag, target: Tag, actor) -> MergeResult:
    """Move every use of `source` to `target` (once per inquiry or organisation) and remove
    `source`."""
    if source.id == target.id:
        raise DomainError(_("Välj en annan etikett att slå ihop med."), field="target")
    _require_may_untag_everything_with(source, actor)
    moved = {}
    for name, table, owner in (
        ("inquiries", inquiry_tags, inquiry_tags.c.inquiry_id),
        ("organisations", organisation_tags, organisation_tags.c.organisation_id),
    ):
        already = select(owner).where(table.c.tag_id == target.id)
        result = db.session.execute(
            insert(table).from_select(
                [owner.name, "tag_id"],
                select(owner, literal(target.id)).where(
                    table.c.tag_id == source.id, owner.not_in(already)
                ),
            ),
            # psycopg reports -1 rows for INSERT … SELECT unless SQLAlchemy is asked to keep it
            execution_options={"preserve_rowcount": True},
        )
        both = db.session.execute(delete(table).where(table.c.tag_id == source.id)).rowcount
        moved[name] = (result.rowcount, both - result.rowcount)
    outcome = MergeResult(*moved["inquiries"], *moved["organisations"])
    audit(
        "tag_merged", actor, target, source_id=source.id, source=source.name, target=target.name,
        inquiries_moved=outcome.inquiries_moved, organisations_moved=outcome.organisations_moved,
    )  # fmt: skip
    _saved_views_follow(source.key, target.name)
    db.session.delete(source)
    db.session.flush()
    log.info("tag_merged source=%s target=%s", source.id, target.id)
    return outcome


def delete_tag(tag: Tag, actor) -> tuple[int, int]:
    """Remove the tag from everything and delete it; returns how many inquiries and
    organisations had it."""
    _require_may_untag_everything_with(tag, actor)
    inquiries, organisations = usage_of(tag)
    db.session.execute(delete(inquiry_tags).where(inquiry_tags.c.tag_id == tag.id))
    db.session.execute(delete(organisation_tags).where(organisation_tags.c.tag_id == tag.id))
    audit(
        "tag_deleted", actor, tag, name=tag.name,
        inquiries=inquiries, organisations=organisations,
    )  # fmt: skip
    db.session.delete(tag)
    db.session.flush()
    return inquiries, organisations
