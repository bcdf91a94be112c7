"""Reply templates: who may manage which, how placeholders are filled, the default set.

Services flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel.dates import format_date
from flask_babel import gettext as _
from sqlalchemy import exists, select

from crm.audit.models import AuditLog
from crm.audit.services import audit
from crm.auth.permissions import Permission
from crm.errors import DomainError, NotPermitted
from crm.extensions import db
from crm.reply_templates.models import NAME_MAX, TEXT_MAX, ReplyTemplate
from crm.timeutil import local_today

LANGUAGES = ("sv", "en")

# What each placeholder becomes (the same list is shown on the template form).
PLACEHOLDERS = {
    "kontakt": "the contact person's name as the submitter wrote it",
    "referens": "the inquiry's reference, SAM-YYYY-NNNN",
    "organisation": "the organisation's name as the submitter wrote it",
    "handläggare": "the name of the person sending the reply (not the assignee)",
    "datum": "today's date in Swedish time, written out in the reply's language",
}
# `{word}`: only such a token can be a placeholder; any other brace is plain text.
_TOKEN = re.compile(r"\{([^{}\s]{1,40})\}")


@dataclass(frozen=True)
class TemplateValues:
    kontakt: str | None
    referens: str | None
    organisation: str | None
    handläggare: str | None
    datum: str | None


def unknown_placeholders(text: str) -> list[str]:
    """The `{…}` tokens in the text that are no placeholder, each once, in order."""
    found = (match.group(1) for match in _TOKEN.finditer(text or ""))
    return list(dict.fromkeys(name for name in found if name not in PLACEHOLDERS))


def expand(text: str, values: dict[str, str | None]) -> str:
    """Fill in the placeholders; never raises. A placeholder without a value (an empty name)
    and anything that is no placeholder (`{x}`, `{`, `}}`) stay exactly as written, so the
    gap is seen in the text before it is sent."""

    def replace(match: re.Match) -> str:
        value = values.get(match.group(1))
        return value if value else match.group(0)

    return _TOKEN.sub(replace, text or "")


def reply_language(inquiry) -> str:
    """The submitter's language when known (the public form's), else Swedish."""
    return inquiry.language if inquiry.language in LANGUAGES else "sv"


def values_for(inquiry, writer, language: str) -> dict[str, str | None]:
    """What each placeholder stands for in a reply to this inquiry by `writer`."""
    return {
        "kontakt": inquiry.contact_name,
        "referens": inquiry.reference,
        "organisation": inquiry.organisation_name,
        "handläggare": writer.name if writer is not None else None,
        "datum": format_date(local_today(), "d MMMM y", locale=language),
    }


def render_for(template: ReplyTemplate, inquiry, writer, language: str | None = None) -> str:
    """The template's text for a reply to the inquiry: in `language` (else the submitter's),
    Swedish when the template has no English text, with the placeholders filled in."""
    language = language if language in LANGUAGES else reply_language(inquiry)
    if language == "en" and template.text_en:
        return expand(template.text_en, values_for(inquiry, writer, "en"))
    return expand(template.text_sv, values_for(inquiry, writer, "sv"))


# ---- who may do what -----------------------------------------------------------------------


def may_manage_shared(user) -> bool:
    return user.can(Permission.TEMPLATE_MANAGE)


def may_have_personal(user) -> bool:
    """Personal templates are for those who reply (inquiry:edit)."""
    return user.can(Permission.INQUIRY_EDIT)


def may_use_the_pages(user) -> bool:
    return may_manage_shared(user) or may_have_personal(user)


def is_visible_to(template: ReplyTemplate, user) -> bool:
    """Shared templates are seen by everyone who may reply or manage them; personal ones by
    their owner only (to anyone else they do not exist)."""
    return template.owner_id is None or template.owner_id == user.id


def may_manage(template: ReplyTemplate, user) -> bool:
    if template.owner_id is None:
        return may_manage_shared(user)
    return template.owner_id == user.id and may_have_personal(user)


def _require_may_manage(template: ReplyTemplate, user) -> None:
    if not may_manage(template, user):
        raise NotPermitted(_("Du får inte ändra den här svarsmallen."))


# ---- the verbs -----------------------------------------------------------------------------


def _checked(name: str, text_sv: str, text_en: str | None) -> tuple[str, str, str | None]:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Ge mallen ett namn."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("Högst %(max)d tecken.", max=NAME_MAX), field="name")
    text_sv, text_en = (text_sv or "").strip(), (text_en or "").strip() or None
    if not text_sv:
        raise DomainError(_("Skriv mallens svenska text."), field="text_sv")
    for field, text in (("text_sv", text_sv), ("text_en", text_en)):
        if text and len(text) > TEXT_MAX:
            raise DomainError(_("Högst %(max)d tecken.", max=TEXT_MAX), field=field)
        unknown = unknown_placeholders(text or "")
        if unknown:
            raise DomainError(
                _(
                    "Okänd platshållare: %(unknown)s. Du kan använda %(known)s.",
                    unknown=", ".join(f"{{{name}}}" for name in unknown),
                    known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                ),
                field=field,
            )
    return name, text_sv, text_en


def create_template(
    name: str, text_sv: str, text_en: str | None, actor, *, shared: bool
) -> ReplyTemplate:
    """A new shared template (template:manage) or a personal one of the actor's."""
    if shared and not may_manage_shared(actor):
        raise NotPermitted(
            _("Bara generalsekreteraren och administratören hanterar delade mallar.")
        )
    if not shared and not may_have_personal(actor):
        raise NotPermitted(_("Egna mallar är för dem som svarar på förfrågningar."))
    name, text_sv, text_en = _checked(name, text_sv, text_en)
    template = ReplyTemplate(
        name=name, text_sv=text_sv, text_en=text_en, owner_id=None if shared else actor.id
    )
    db.session.add(template)
    db.session.flush()
    audit("reply_template_created", actor, template, name=name, shared=shared)
    return template


def update_template(template: ReplyTemplate, name: str, text_sv: str, text_en: str | None, actor):
    """Change a template's name and texts (whether it is shared stays as it was made)."""
    _require_may_manage(template, actor)
    template.name, template.text_sv, template.text_en = _checked(name, text_sv, text_en)
    db.session.flush()
    audit("reply_template_updated", actor, template, name=template.name, shared=template.shared)


def delete_template(template: ReplyTemplate, actor) -> None:
    """Remove a template; replies already sent with it keep their text."""
    _require_may_manage(template, actor)
    audit("reply_template_deleted", actor, template, name=template.name, shared=template.shared)
    db.session.delete(template)
    db.session.flush()


# ---- the default set -----------------------------------------------------------------------

DEFAULTS = (
    (
        "Bekräftelse",
        "Hej {kontakt},\n\nTack för er förfrågan ({referens}). Vi har tagit emot den och "
        "återkommer så snart vi har gått igenom den.\n\nMed vänliga hälsningar\n{handläggare}",
        "Dear {kontakt},\n\nThank you for your inquiry ({referens}). We have received it and "
        "will get back to you as soon as we have looked into it.\n\nKind regards\n{handläggare}",
    ),
    (
        "Avböjer med tack",
        "Hej {kontakt},\n\nTack för att {organisation} hörde av sig om ett samarbete. Vi har "
        "gått igenom förfrågan ({referens}) och kan tyvärr inte gå vidare med den just nu. "
        "Vi hoppas att vi får anledning att samarbeta längre fram.\n\n"
        "Med vänliga hälsningar\n{handläggare}",
        "Dear {kontakt},\n\nThank you for contacting us on behalf of {organisation}. We have "
        "considered your inquiry ({referens}) and are unfortunately unable to take it further "
        "at this time. We hope there will be other opportunities to work together.\n\n"
        "Kind regards\n{handläggare}",
    ),
    (
        "Hänvisning till länsmuseum",
        "Hej {kontakt},\n\nTack för er förfrågan ({referens}). Den gäller främst ett län, och "
        "länsmuseet där är bäst skickat att hjälpa er. Vi har lämnat över den till museet, som "
        "kontaktar er direkt. Kontaktuppgifter: [fyll i museum och kontaktperson].\n\n"
        "Med vänliga hälsningar\n{handläggare}",
        "Dear {kontakt},\n\nThank you for your inquiry ({referens}). It mainly concerns one "
        "county, and the regional museum there is best placed to help you. We have passed it "
        "on to the museum, which will contact you directly. Contact: [fill in museum and "
        "contact person].\n\nKind regards\n{handläggare}",
    ),
    (
        "Tas upp på styrelsemötet",
        "Hej {kontakt},\n\nTack för er förfrågan ({referens}). Vi tar upp den på "
        "samarbetsrådets nästa styrelsemöte och hör av oss efter mötet med besked.\n\n"
        "Med vänliga hälsningar\n{handläggare}",
        "Dear {kontakt},\n\nThank you for your inquiry ({referens}). We will bring it up at "
        "the council's next board meeting and will let you know the outcome after the "
        "meeting.\n\nKind regards\n{handläggare}",
    ),
)


SEEDED = "reply_templates_seeded"


def seed_templates() -> int:
    """Add the default shared templates once, and only when there are no shared templates;
    returns how many were added. Once the set exists it is the council's: running this again
    (every `make run`) never brings back a default someone removed or renamed, not even when
    they removed them all. The audit row written here, which is never purged, is what
    remembers that the defaults were given."""
    given = exists().where(AuditLog.action == SEEDED)
    shared = exists().where(ReplyTemplate.owner_id.is_(None))
    if db.session.scalar(select(given | shared)):
        return 0
    for name, text_sv, text_en in DEFAULTS:
        db.session.add(ReplyTemplate(name=name, text_sv=text_sv, text_en=text_en))
    db.session.flush()
    audit(SEEDED, None, None, actor_label="flask crm seed-templates")
    return len(DEFAULTS)
