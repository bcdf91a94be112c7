"""The audit log in words: "Greta ändrade status på SAM-2026-0042 från Ny till Bedömd".

Each action has a short name (for the filter) and a sentence. The sentence names the person,
the object and the details that matter; the remaining details follow as a readable list.
Objects are named in bulk for a page (one statement per kind of object), never per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm.extensions import db

# action: (short name, sentence). Placeholders: %(actor)s, %(object)s and detail keys.
ACTIONS = {
    "after_restore": (_l("Återställning"), _l("Databasen återställdes från en säkerhetskopia")),
    "attachment_downloaded": (_l("Fil hämtad"), _l("%(actor)s hämtade filen %(object)s")),
    "attachment_quarantined": (
        _l("Fil i karantän"),
        _l("Virussökningen satte filen %(object)s i karantän"),
    ),
    "calendar_link_created": (_l("Kalenderlänk skapad"), _l("%(actor)s skapade en kalenderlänk")),
    "calendar_link_revoked": (
        _l("Kalenderlänk återkallad"),
        _l("%(actor)s återkallade sin kalenderlänk"),
    ),
    "closure_day_added": (
        _l("Stängningsdag tillagd"),
        _l("%(actor)s lade till stängningsdagen %(day)s"),
    ),
    "closure_day_deleted": (
        _l("Stängningsdag borttagen"),
        _l("%(actor)s tog bort stängningsdagen %(day)s"),
    ),
    "conflict_declared": (_l("Jäv anmält"), _l("%(actor)s anmälde jäv i %(object)s")),
    "contact_added": (
        _l("Kontaktperson tillagd"),
        _l("%(actor)s lade till kontaktpersonen %(object)s"),
    ),
    "contact_logged": (
        _l("Kontakt registrerad"),
        _l("%(actor)s registrerade en kontakt (%(channel)s) i %(object)s"),
    ),
    "contact_removed": (
        _l("Kontaktperson borttagen"),
        _l("%(actor)s tog bort kontaktpersonen %(object)s"),
    ),
    "contact_updated": (
        _l("Kontaktperson ändrad"),
        _l("%(actor)s ändrade kontaktpersonen %(object)s"),
    ),
    "eml_uploaded": (_l("E-post uppladdad"), _l("%(actor)s laddade upp ett e-postmeddelande")),
    "follow_up_added": (_l("Uppföljning tillagd"), _l("%(actor)s lade till en uppföljning")),
    "follow_up_completed": (
        _l("Uppföljning klar"),
        _l("%(actor)s markerade en uppföljning som klar"),
    ),
    "follow_up_handed_over": (
        _l("Uppföljning överlämnad"),
        _l("%(actor)s lämnade över en uppföljning till %(owner_id)s"),
    ),
    "follow_up_rescheduled": (
        _l("Uppföljning flyttad"),
        _l("%(actor)s flyttade en uppföljning till %(due_on)s"),
    ),
    "gdpr_erase": (_l("Personuppgifter raderade"), _l("%(actor)s raderade personuppgifter")),
    "gdpr_export": (_l("Personuppgifter exporterade"), _l("%(actor)s tog ut ett registerutdrag")),
    "inbound_mail_attached": (
        _l("E-post sorterad"),
        _l("%(actor)s lade ett inkommet e-postmeddelande till %(object)s"),
    ),
    "inbound_mail_discarded": (
        _l("E-post slängd"),
        _l("%(actor)s slängde ett inkommet e-postmeddelande"),
    ),
    "inbound_mail_made_inquiry": (
        _l("E-post blev förfrågan"),
        _l("%(actor)s gjorde ett inkommet e-postmeddelande till %(object)s"),
    ),
    "inquiry_anonymised": (_l("Förfrågan avidentifierad"), _l("%(object)s avidentifierades")),
    "inquiry_assigned": (
        _l("Ansvarig ändrad"),
        _l("%(actor)s gav %(object)s till %(assignee_id)s"),
    ),
    "inquiry_counterpart_reference_changed": (
        _l("Motpartens diarienummer ändrat"),
        _l("%(actor)s ändrade motpartens diarienummer på %(object)s till %(new)s"),
    ),
    "inquiry_logged": (
        _l("Förfrågan registrerad"),
        _l("%(actor)s registrerade %(object)s (%(channel)s)"),
    ),
    "inquiry_organisation_changed": (
        _l("Organisation ändrad"),
        _l("%(actor)s kopplade %(object)s till %(organisation_id)s"),
    ),
    "inquiry_priority_changed": (
        _l("Prioritet ändrad"),
        _l("%(actor)s ändrade prioritet på %(object)s till %(new)s"),
    ),
    "inquiry_status_changed": (
        _l("Status ändrad"),
        _l("%(actor)s ändrade status på %(object)s från %(old)s till %(new)s"),
    ),
    "inquiry_viewed": (_l("Förfrågan öppnad"), _l("%(actor)s öppnade %(object)s")),
    "invitation_resent": (
        _l("Inbjudan skickad igen"),
        _l("%(actor)s skickade inbjudan till %(object)s igen"),
    ),
    "login_attack_suspected": (
        _l("Misstänkt lösenordsgissning"),
        _l("Misstänkt lösenordsgissning mot %(actor)s"),
    ),
    "login_failed": (_l("Misslyckad inloggning"), _l("Misslyckad inloggning: %(reason)s")),
    "login_password_ok": (_l("Rätt lösenord"), _l("%(actor)s angav rätt lösenord")),
    "login_second_factor_failed": (_l("Fel kod"), _l("%(actor)s angav fel kod vid inloggning")),
    "login_second_factor_ok": (_l("Rätt kod"), _l("%(actor)s angav rätt kod vid inloggning")),
    "login_succeeded": (_l("Inloggning"), _l("%(actor)s loggade in")),
    "logout": (_l("Utloggning"), _l("%(actor)s loggade ut")),
    "mail_discarded": (
        _l("Utgående e-post slängd"),
        _l("%(actor)s slängde ett utgående e-postmeddelande"),
    ),
    "mail_sent_again": (
        _l("E-post skickad igen"),
        _l("%(actor)s skickade ett e-postmeddelande igen"),
    ),
    "note_added": (_l("Anteckning skriven"), _l("%(actor)s skrev en anteckning")),
    "note_edited": (_l("Anteckning ändrad"), _l("%(actor)s ändrade en anteckning")),
    "organisation_created": (
        _l("Organisation skapad"),
        _l("%(actor)s skapade organisationen %(object)s"),
    ),
    "organisation_updated": (
        _l("Organisation ändrad"),
        _l("%(actor)s ändrade organisationen %(object)s"),
    ),
    "organisations_merged": (
        _l("Organisationer sammanslagna"),
        _l("%(actor)s slog ihop organisation nr %(merged_id)s med %(object)s"),
    ),
    "organisations_imported": (
        _l("Organisationer importerade"),
        _l(
            "%(actor)s importerade %(filename)s: %(new)s nya organisationer, %(matched)s "
            "kompletterade, %(contacts)s nya kontakter"
        ),
    ),
    "password_change_failed": (
        _l("Fel lösenord vid byte"),
        _l("%(actor)s angav fel nuvarande lösenord vid lösenordsbyte"),
    ),
    "password_changed": (_l("Lösenord bytt"), _l("%(actor)s bytte lösenord")),
    "password_reset": (
        _l("Lösenord återställt"),
        _l("%(actor)s valde ett nytt lösenord via en återställningslänk"),
    ),
    "password_reset_requested": (
        _l("Återställning begärd"),
        _l("Någon bad om en länk för nytt lösenord till %(actor)s"),
    ),
    "password_set": (_l("Lösenord valt"), _l("%(actor)s valde lösenord via sin inbjudan")),
    "personal_data_exported": (
        _l("Export med personuppgifter"),
        _l("%(actor)s exporterade förfrågningar (%(what)s)"),
    ),
    "public_reply_sent": (_l("Svar skickat"), _l("%(actor)s svarade avsändaren i %(object)s")),
    "recovery_code_used": (
        _l("Reservkod använd"),
        _l("%(actor)s loggade in med en reservkod (%(left)s kvar)"),
    ),
    "reply_template_created": (
        _l("Svarsmall skapad"),
        _l("%(actor)s skapade svarsmallen %(name)s"),
    ),
    "reply_template_deleted": (
        _l("Svarsmall borttagen"),
        _l("%(actor)s tog bort svarsmallen %(name)s"),
    ),
    "reply_template_updated": (
        _l("Svarsmall ändrad"),
        _l("%(actor)s ändrade svarsmallen %(name)s"),
    ),
    "reply_templates_seeded": (
        _l("Svarsmallar tillagda"),
        _l("Standardmallarna för svar lades till"),
    ),
    "retention_purge": (_l("Gallring"), _l("Gamla personuppgifter gallrades")),
    "routing_rule_created": (
        _l("Fördelningsregel skapad"),
        _l("%(actor)s skapade fördelningsregeln %(name)s"),
    ),
    "routing_rule_deleted": (
        _l("Fördelningsregel borttagen"),
        _l("%(actor)s tog bort fördelningsregeln %(name)s"),
    ),
    "routing_rule_moved": (
        _l("Fördelningsregel flyttad"),
        _l("%(actor)s flyttade fördelningsregeln %(object)s"),
    ),
    "routing_rule_updated": (
        _l("Fördelningsregel ändrad"),
        _l("%(actor)s ändrade fördelningsregeln %(name)s"),
    ),
    "inquiry_tagged": (
        _l("Etikett tillagd"),
        _l("%(actor)s satte etiketten %(tag)s på %(object)s"),
    ),
    "inquiry_untagged": (
        _l("Etikett borttagen"),
        _l("%(actor)s tog bort etiketten %(tag)s från %(object)s"),
    ),
    "organisation_tagged": (
        _l("Etikett på organisation"),
        _l("%(actor)s satte etiketten %(tag)s på %(object)s"),
    ),
    "organisation_untagged": (
        _l("Etikett borttagen från organisation"),
        _l("%(actor)s tog bort etiketten %(tag)s från %(object)s"),
    ),
    "saved_view_created": (_l("Vy sparad"), _l("%(actor)s sparade vyn %(name)s")),
    "saved_view_deleted": (_l("Vy borttagen"), _l("%(actor)s tog bort vyn %(name)s")),
    "tag_created": (_l("Etikett skapad"), _l("%(actor)s skapade etiketten %(name)s")),
    "tag_deleted": (_l("Etikett raderad"), _l("%(actor)s raderade etiketten %(name)s")),
    "tag_merged": (
        _l("Etiketter sammanslagna"),
        _l("%(actor)s slog ihop etiketten %(source)s med %(target)s"),
    ),
    "tag_renamed": (_l("Etikett omdöpt"), _l("%(actor)s döpte om etiketten %(old)s till %(new)s")),
    "two_factor_disable_failed": (
        _l("Avstängning nekad"),
        _l("%(actor)s försökte stänga av tvåstegsverifiering men angav fel uppgifter"),
    ),
    "two_factor_disabled": (_l("Tvåsteg avstängt"), _l("%(actor)s stängde av tvåstegsverifiering")),
    "two_factor_enabled": (_l("Tvåsteg påslaget"), _l("%(actor)s slog på tvåstegsverifiering")),
    "two_factor_policy_changed": (
        _l("Krav på tvåsteg ändrat"),
        _l("%(actor)s ändrade vilka roller som måste ha tvåstegsverifiering"),
    ),
    "two_factor_reset": (
        _l("Tvåsteg nollställt"),
        _l("%(actor)s nollställde tvåstegsverifieringen för %(object)s"),
    ),
    "user_created": (
        _l("Användare skapad"),
        _l("%(actor)s skapade användaren %(object)s (%(role)s)"),
    ),
    "user_deactivated": (_l("Användare avstängd"), _l("%(actor)s stängde av %(object)s")),
    "user_invited": (_l("Användare inbjuden"), _l("%(actor)s bjöd in %(object)s som %(role)s")),
    "user_reactivated": (_l("Användare återaktiverad"), _l("%(actor)s återaktiverade %(object)s")),
    "user_role_changed": (
        _l("Roll ändrad"),
        _l("%(actor)s ändrade rollen för %(object)s från %(old)s till %(new)s"),
    ),
}

# Details the sentence does not use are listed under these names.
DETAIL_NAMES = {
    "channel": _l("Kanal"),
    "day": _l("Dag"),
    "direction": _l("Riktning"),
    "duplicate": _l("Redan inläst"),
    "filters": _l("Filter"),
    "held": _l("Hållna meddelanden"),
    "inquiry": _l("Förfrågan"),
    "inquiry_id": _l("Förfrågan"),
    "ip_seen": _l("IP-adress"),
    "kind": _l("Slag"),
    "known": _l("Känd adress"),
    "mail": _l("E-postmeddelande"),
    "name": _l("Namn"),
    "new": _l("Ny"),
    "old": _l("Tidigare"),
    "old_status": _l("Tidigare status"),
    "organisation_id": _l("Organisation"),
    "reason": _l("Orsak"),
    "roles": _l("Roller"),
    "role": _l("Roll"),
    "signature": _l("Fynd"),
    "via": _l("Via"),
    "what": _l("Vad"),
}

REASONS = {
    "unknown_or_inactive": _l("okänd eller avstängd adress"),
    "wrong_password": _l("fel lösenord"),
}


def action_name(action: str) -> str:
    """The short name of an action for the filter; the code itself for an unknown one."""
    known = ACTIONS.get(action)
    return str(known[0]) if known else action


@dataclass
class Names:
    """Readable names for the objects a page of audit rows mentions."""

    users: dict[int, str] = field(default_factory=dict)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)
    references: dict[int, str] = field(default_factory=dict)
    organisations: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Description:
    sentence: str
    details: list[tuple[str, str]]


def names_for(rows, users) -> Names:
    """Look up, in one statement per kind, every object the rows mention."""
    from crm.attachments.models import Attachment
    from crm.inquiries.models import Inquiry
    from crm.partners.models import Contact, Organisation
    from crm.routing.models import RoutingRule
    from crm.tags.models import Tag

    names = Names(users={user.id: user.name for user in users})
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row.object_type and row.object_id and row.object_id.isdigit():
            wanted[row.object_type].add(int(row.object_id))
        details = row.details or {}
        for key in ("inquiry", "inquiry_id"):
            if isinstance(details.get(key), int):
                wanted["Inquiry"].add(details[key])
        for key in ("organisation_id", "merged_id"):
            if isinstance(details.get(key), int):
                wanted["Organisation"].add(details[key])
    kinds = {
        "Inquiry": (Inquiry, Inquiry.reference),
        "Organisation": (Organisation, Organisation.name),
        "Contact": (Contact, Contact.name),
        "RoutingRule": (RoutingRule, RoutingRule.name),
        "Attachment": (Attachment, Attachment.filename),
        "Tag": (Tag, Tag.name),
    }
    for kind, ids in wanted.items():
        if kind == "User":
            names.objects.update(
                {("User", str(i)): names.users[i] for i in ids if i in names.users}
            )
            continue
        if kind not in kinds:
            continue
        model, label = kinds[kind]
        found = dict(db.session.execute(select(model.id, label).where(model.id.in_(ids))).all())
        names.objects.update({(kind, str(i)): text for i, text in found.items()})
        if kind == "Inquiry":
            names.references = found
        if kind == "Organisation":
            names.organisations = found
    return names


class _Words(dict):
    """Placeholder values for a sentence; a missing one reads as a dash, never an error."""

    def __missing__(self, key):
        return "–"


def describe(row, names: Names) -> Description:
    """The row as a sentence plus the details the sentence does not already say."""
    details = dict(row.details or {})
    words = _Words(actor=_actor(row, names), object=_object(row, names))
    for key, value in details.items():
        words[key] = _value(row.action, key, value, names)
    known = ACTIONS.get(row.action)
    if known is None:
        sentence = f"{words['actor']}: {row.action} {words['object'] if row.object_type else ''}"
        return Description(sentence.strip(), _listed(details, words, used=set()))
    template = str(known[1])
    used = {key for key in details if f"%({key})s" in template}
    return Description(template % words, _listed(details, words, used))


# Ids kept beside a name in the details: the name already says it.
UNSAID = {"tag_id", "source_id"}


def _listed(details: dict, words: _Words, used: set[str]) -> list[tuple[str, str]]:
    return [
        (str(DETAIL_NAMES.get(key, key)), words[key])
        for key in sorted(details)
        if key not in used | UNSAID and details[key] not in (None, "", [], {})
    ]


def _actor(row, names: Names) -> str:
    if row.actor_id and row.actor_id in names.users:
        return names.users[row.actor_id]
    return row.actor_label or _("Okänd")


def _object(row, names: Names) -> str:
    if not row.object_type:
        return ""
    found = names.objects.get((row.object_type, row.object_id or ""))
    if found:
        return found
    return _("%(kind)s nr %(id)s", kind=_kind(row.object_type), id=row.object_id or "?")


def _kind(object_type: str) -> str:
    kinds = {
        "Inquiry": _("förfrågan"), "User": _("användare"), "Organisation": _("organisation"),
        "Contact": _("kontaktperson"), "Note": _("anteckning"), "FollowUp": _("uppföljning"),
        "RoutingRule": _("fördelningsregel"), "ClosureDay": _("stängningsdag"),
        "Tag": _("etikett"), "SavedView": _("sparad vy"), "ReplyTemplate": _("svarsmall"),
        "Attachment": _("fil"), "OutboundMessage": _("e-postmeddelande"),
    }  # fmt: skip
    return kinds.get(object_type, object_type)


def _value(action: str, key: str, value, names: Names) -> str:
    from crm.auth.permissions import Role
    from crm.choices import Channel, Priority
    from crm.inquiries.statuses import Status

    if isinstance(value, bool):
        return _("ja") if value else _("nej")
    if isinstance(value, list):
        return ", ".join(_value(action, key, item, names) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(action, k, v, names)}" for k, v in value.items())
    enums = {"channel": Channel, "role": Role, "roles": Role}
    if action == "inquiry_status_changed" and key in ("old", "new"):
        enums[key] = Status
    if action == "user_role_changed" and key in ("old", "new"):
        enums[key] = Role
    if action == "inquiry_priority_changed" and key == "new":
        enums[key] = Priority
    if key in enums:
        try:
            return enums[key](value).label
        except ValueError:
            return str(value)
    if key in ("assignee_id", "owner_id") and isinstance(value, int):
        return names.users.get(value, f"#{value}")
    if key in ("inquiry", "inquiry_id") and isinstance(value, int):
        return names.references.get(value, f"#{value}")
    if key == "organisation_id" and isinstance(value, int):
        return names.organisations.get(value, f"#{value}")
    if key == "reason":
        return str(REASONS.get(value, value))
    return "–" if value is None else str(value)
