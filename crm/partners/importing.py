"""Importing organisations and contacts from a CSV or XLSX file: read, judge every row, write.

Reading (`read_rows`) turns a file into rows of text by column; judging (`classify`) gives each
row a verdict — new, matched, conflict or invalid, with the reason per field — using the
register's own matching rule (`services.choose_match`); writing (`apply`) does exactly what
the verdicts say. The web page shows the verdicts as a preview and keeps the rows server-side
(`OrganisationImport`) until the uploader confirms; the command line judges and writes at once.
Nothing here commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from crm.activity.services import record_event
from crm.audit.services import audit
from crm.choices import OrganisationType, Relationship
from crm.errors import DomainError
from crm.extensions import db
from crm.partners import services
from crm.partners.models import Contact, Organisation, OrganisationImport, email_key
from crm.regions import regions
from crm.timeutil import utcnow
from crm.validation import clean_line, normalise_email, normalise_org_number

MAX_BYTES = 2 * 1024 * 1024  # IMPORT_MAX_BYTES
MAX_ROWS = 2000  # IMPORT_MAX_ROWS
# An .xlsx is a zip: refuse one that would unpack to far more than any register needs.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
KEPT_FOR = timedelta(days=1)  # an unconfirmed import is forgotten after this
# Lines read at most, blank ones included, per row allowed (a sheet of formatted empty rows).
BLANK_LINES_FACTOR = 5
# Columns read from a sheet: its stated dimension cannot make every row 16 384 cells wide.
MAX_COLUMNS = 100
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Accepted headers, Swedish and English, for each column (compared case-insensitively, with
# spaces, hyphens and underscores alike).
COLUMNS = {
    "name": ("namn", "name"),
    "short_name": ("förkortning", "short_name"),
    "org_number": ("organisationsnummer", "org_number", "orgnr"),
    "type": ("typ", "type"),
    "relationship": ("relation", "relationship"),
    "region": ("län", "region"),
    "website": ("webbplats", "website"),
    "email_domain": ("e-postdomän", "email_domain"),
    "contact_name": ("kontaktperson", "contact_name"),
    "contact_email": ("e-post", "contact_email"),
    "contact_phone": ("telefon", "contact_phone"),
    "contact_title": ("titel", "contact_title"),
}
# The template's headers (Swedish, as staff write them) and one example row.
TEMPLATE_ROW = {
    "namn": "Kulturens hus", "förkortning": "", "organisationsnummer": "556036-0793",
    "typ": "museum", "relation": "prospect", "län": "01", "webbplats": "www.kulturenshus.se",
    "e-postdomän": "kulturenshus.se", "kontaktperson": "Kim Kontakt",
    "e-post": "kim@kulturenshus.se", "telefon": "070-123 45 67", "titel": "Intendent",
}  # fmt: skip
MAX_LENGTH = {
    "name": 200, "short_name": 60, "org_number": 20, "website": 300, "email_domain": 120,
    "contact_name": 200, "contact_email": 254, "contact_phone": 40, "contact_title": 120,
}  # fmt: skip
ORGANISATION_FIELDS = ("short_name", "org_number", "type", "relationship", "region", "website",
                       "email_domain")  # fmt: skip
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "contact_title")
PHONE = re.compile(r"^\+?[0-9 ()\-]{6,25}$")


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", (text or "").replace("\ufeff", "").casefold())


_HEADERS = {_header_key(header): field for field, names in COLUMNS.items() for header in names}


@dataclass
class ReadFile:
    rows: list[dict]  # {"line": n, "values": {field: text}}
    ignored_columns: list[str]
    sha256: str


# ---- reading ------------------------------------------------------------------------------


def limits() -> tuple[int, int]:
    config = current_app.config
    return config.get("IMPORT_MAX_BYTES", MAX_BYTES), config.get("IMPORT_MAX_ROWS", MAX_ROWS)


def read_rows(content: bytes, filename: str) -> ReadFile:
    """The file's rows by column; DomainError (field `file`) when it cannot be read at all."""
    max_bytes, max_rows = limits()
    if len(content) > max_bytes:
        raise _refusal(_("Filen är större än %(mb)s MB.", mb=megabytes(max_bytes)))
    if not content.strip():
        raise _refusal(_("Filen är tom."))
    is_zip = content[:4] == b"PK\x03\x04"
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in {"csv", "xlsx", "txt"}:
        raise _refusal(_("Välj en CSV- eller Excelfil (.csv eller .xlsx)."))
    if (extension == "xlsx") != is_zip:
        raise _refusal(_("Filens innehåll stämmer inte med dess namn (.%(ext)s).", ext=extension))
    with closing(_xlsx_table(content) if is_zip else _csv_table(content)) as table:
        header = next(table, [])
        fields = [_HEADERS.get(_header_key(cell)) for cell in header]
        if "name" not in fields:
            raise _refusal(_("Första raden måste vara rubriker, bland dem ”namn” eller ”name”."))
        ignored = [cell for cell, field in zip(header, fields, strict=True) if cell and not field]
        rows = []
        # Blank lines are skipped but still read, up to a bound, so that they cannot push a
        # row past the limit unseen: the limit counts rows with values.
        for line, cells in enumerate(table, start=2):
            values = {
                field: clean_line(cell)
                for field, cell in zip(fields, cells, strict=False)
                if field and clean_line(cell)
            }
            if values:
                rows.append({"line": line, "values": values})
            if len(rows) > max_rows or line > max_rows * BLANK_LINES_FACTOR:
                raise _refusal(_("Filen har fler än %(n)d rader. Dela upp den.", n=max_rows))
    if not rows:
        raise _refusal(_("Filen har inga rader under rubrikerna."))
    return ReadFile(rows, ignored, hashlib.sha256(content).hexdigest())


def _refusal(message: str) -> DomainError:
    return DomainError(message, field="file")


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}".replace(".", ",")


def _csv_table(content: bytes) -> Iterator[list[str]]:
    text = _decoded(content)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise _refusal(_("Filen kunde inte läsas som CSV: %(error)s", error=str(exc))) from None


def _decoded(content: bytes) -> str:
    """The CSV file's text: UTF-8 (with or without BOM), else Windows-1252, which is what
    Swedish Excel's plain "CSV (semikolonavgränsad)" writes. The preview shows the result
    before anything is stored. Control characters mean it is no text file at all."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise _refusal(
                _("Filen är inte sparad som UTF-8. Välj ”CSV UTF-8” när du sparar den.")
            ) from None
    if CONTROL_CHARACTERS.search(text):
        raise _refusal(_("Filen är ingen textfil. Spara den som ”CSV UTF-8” eller .xlsx."))
    return text


def _xlsx_table(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise _refusal(_("Excelfilen är för stor när den packas upp."))
            names = set(archive.namelist())
        if "xl/vbaProject.bin" in names:
            raise _refusal(_("Filen innehåller makron. Spara den som vanlig .xlsx."))
        # read_only streams the sheet; data_only reads stored values, never formulas
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except DomainError:
        raise
    except Exception:  # a broken or foreign zip: openpyxl's errors have no common base
        raise _refusal(_("Filen kunde inte läsas som Excelfil (.xlsx).")) from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield [_cell_text(value) for value in row]
    except DomainError:
        raise
    except Exception:  # a broken sheet inside a sound zip
        raise _refusal(_("Filen kunde inte läsas som Excelfil (.xlsx).")) from None
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# ---- judging ------------------------------------------------------------------------------


def _choice(value: str | None, enum_cls) -> str | None:
    """An enum value from its stored value or its Swedish or English label, any case."""
    if not value:
        return None
    wanted = value.casefold()
    for member in enum_cls:
        labels = {member.value.casefold(), member.label.casefold()}
        with_english = {str(_LABELS_EN.get(member.value, "")).casefold()}
        if wanted in labels | with_english:
            return member.value
    return ""  # given but unknown


_LABELS_EN = {
    "museum": "museum", "government_agency": "government agency",
    "municipality_region": "municipality or region", "university": "university",
    "civil_society": "civil society", "company": "company", "other": "other",
    "member": "member", "prospect": "prospect", "active_partner": "active partner",
    "former_partner": "former partner",
}  # fmt: skip


def _region(value: str | None) -> str | None:
    if not value:
        return None
    known = regions()
    if value.zfill(2) in known:
        return value.zfill(2)
    wanted = value.casefold().removesuffix(" län").strip()
    for code, name in known.items():
        if str(name).casefold().removesuffix(" län") == wanted:
            return code
    return ""


def validate_row(values: dict) -> tuple[dict, dict]:
    """The row's values cleaned for storing, and its errors by column (none: a valid row)."""
    errors: dict[str, str] = {}
    clean: dict = {}
    for field, limit in MAX_LENGTH.items():
        if len(values.get(field, "")) > limit:
            errors[field] = _("Högst %(max)d tecken.", max=limit)
    name = values.get("name", "")
    if not name:
        errors["name"] = _("Namn saknas.")
    clean["name"] = name
    clean["short_name"] = values.get("short_name") or None
    if values.get("org_number"):
        clean["org_number"] = normalise_org_number(values["org_number"])
        if clean["org_number"] is None:
            errors["org_number"] = _(
                "Organisationsnumret ska vara NNNNNN-NNNN med rätt kontrollsiffra."
            )
    for field, enum_cls in (("type", OrganisationType), ("relationship", Relationship)):
        clean[field] = _choice(values.get(field), enum_cls)
        if clean[field] == "":
            allowed = ", ".join(member.value for member in enum_cls)
            errors[field] = _("Okänt värde ”%(value)s”. Använd något av: %(allowed)s.",
                              value=values[field], allowed=allowed)  # fmt: skip
    clean["region"] = _region(values.get("region"))
    if clean["region"] == "":
        errors["region"] = _("Okänt län ”%(value)s”. Ange länskod (01–25) eller namn.",
                             value=values["region"])  # fmt: skip
    try:
        clean["website"] = services.normalise_website(values.get("website"))
    except DomainError as refused:
        errors["website"] = refused.message
    domain = (values.get("email_domain") or "").lower().lstrip("@") or None
    if domain and ("." not in domain or " " in domain or "/" in domain or "@" in domain):
        errors["email_domain"] = _("Ange bara domänen, till exempel museum.se.")
    elif domain in services.PUBLIC_MAIL_DOMAINS:
        errors["email_domain"] = _("%(domain)s är en allmän e-posttjänst, inte organisationens.",
                                   domain=domain)  # fmt: skip
    clean["email_domain"] = domain
    clean["contact_name"] = values.get("contact_name") or None
    clean["contact_title"] = values.get("contact_title") or None
    clean["contact_phone"] = values.get("contact_phone") or None
    clean["contact_email"] = None
    if values.get("contact_email"):
        try:
            clean["contact_email"] = normalise_email(values["contact_email"])
        except EmailNotValidError:
            errors["contact_email"] = _("Ogiltig e-postadress.")
    phone = clean["contact_phone"]
    if phone and (not PHONE.match(phone) or sum(c.isdigit() for c in phone) < 6):
        errors["contact_phone"] = _("Ange ett telefonnummer med siffror.")
    if not clean["contact_name"] and any(values.get(f) for f in CONTACT_FIELDS[1:]):
        errors["contact_name"] = _("Kontaktperson saknas för e-post, telefon eller titel.")
    return clean, errors


class _Register:
    """The organisations a file can match and their contacts' addresses, loaded in four
    statements for the whole file."""

    def __init__(self, cleaned: list[dict]):
        keys = {services.normalise_name(c["name"]) for c in cleaned if c.get("name")}
        numbers = {c["org_number"] for c in cleaned if c.get("org_number")}
        domains = {d for c in cleaned for d in _domains(c)}
        self.by_key = self._load(Organisation.name_key, keys)
        self.by_number = self._load(Organisation.org_number, numbers)
        self.by_domain: dict[str, list[Organisation]] = {}
        for organisation in self._fetch(Organisation.email_domain, domains):
            self.by_domain.setdefault(organisation.email_domain, []).append(organisation)
        ids = {o.id for o in [*self.by_key.values(), *self.by_number.values()]} | {
            o.id for group in self.by_domain.values() for o in group
        }
        contacts = db.session.execute(
            select(Contact.organisation_id, Contact.email_key, Contact.name).where(
                Contact.organisation_id.in_(ids)
            )
        ).all() if ids else []  # fmt: skip
        self.addresses = {(c.organisation_id, c.email_key) for c in contacts if c.email_key}
        self.names = {(c.organisation_id, _name_key(c.name)) for c in contacts}

    @staticmethod
    def _fetch(column, values):
        if not values:
            return []
        return db.session.scalars(select(Organisation).where(column.in_(values))).all()

    def _load(self, column, values) -> dict:
        return {getattr(o, column.key): o for o in self._fetch(column, values)}

    def match(self, clean: dict) -> Organisation | None:
        """`match_organisation`'s rule, over what was loaded."""
        key = services.normalise_name(clean["name"])
        number, domain = clean.get("org_number"), _match_domain(clean)
        ranked = []
        if number and number in self.by_number:
            ranked.append((0, self.by_number[number]))
        if key in self.by_key:
            ranked.append((1, self.by_key[key]))
        for organisation in self.by_domain.get(domain, []) if domain else []:
            ranked.append((2, organisation))
        ranked.sort(key=lambda pair: (pair[0], pair[1].id))
        return services.choose_match([o for _rank, o in ranked[:3]], number, key, domain)


def _name_key(name: str | None) -> str:
    """A contact's name as two spellings of one person share it (case, spacing)."""
    return " ".join((name or "").split()).casefold()


def _domains(clean: dict) -> list[str]:
    domain = _match_domain(clean)
    return [domain] if domain else []


def _match_domain(clean: dict) -> str | None:
    """The row's organisation domain: its own column, else its contact's address."""
    if clean.get("email_domain"):
        return clean["email_domain"]
    return services.email_domain_of(clean.get("contact_email") or "")


def classify(rows: list[dict]) -> list[dict]:
    """A verdict per row, in the file's order (see the module docstring)."""
    cleaned = [validate_row(row["values"]) for row in rows]
    register = _Register([clean for clean, errors in cleaned if not errors])
    pending: dict[str, dict] = {}  # new organisations of earlier rows, by name key
    pending_numbers: dict[str, str] = {}
    filled: dict[int, dict] = {}  # empty fields of registered organisations, filled by a row
    filled_numbers: dict[str, int] = {}
    addresses = set(register.addresses)
    names = set(register.names)
    verdicts = []
    for row, (clean, errors) in zip(rows, cleaned, strict=True):
        verdict = {"line": row["line"], "name": row["values"].get("name", ""), "errors": errors,
                   "changes": {}, "contact": None, "organisation_id": None}  # fmt: skip
        verdicts.append(verdict)
        if errors:
            verdict["kind"] = "invalid"
            continue
        key = services.normalise_name(clean["name"])
        number = clean.get("org_number")
        found = register.match(clean)
        conflicts: dict[str, str] = {}
        if number and number in register.by_number and key in register.by_key:
            owner, namesake = register.by_number[number], register.by_key[key]
            if owner is not namesake:
                conflicts["org_number"] = _(
                    "Numret tillhör %(owner)s, namnet %(namesake)s.",
                    owner=owner.name,
                    namesake=namesake.name,
                )
        if found is None and key in pending:
            first = pending[key]
            verdict.update(kind="new", same_as=first["line"])
            conflicts.update(_differences_from_row(clean, first["clean"]))
            if number and (pending_numbers.get(number, key) != key or number in filled_numbers):
                conflicts["org_number"] = _("Numret står på en annan rad med ett annat namn.")
            if not conflicts:
                # What this row adds to the organisation the first row creates is created too.
                for field in ORGANISATION_FIELDS:
                    if clean.get(field) and not first["clean"].get(field):
                        first["clean"][field] = first["verdict"]["changes"][field] = clean[field]
                if number:
                    pending_numbers[number] = key
        elif found is None:
            if number and (pending_numbers.get(number, key) != key or number in filled_numbers):
                conflicts["org_number"] = _("Numret står på en annan rad med ett annat namn.")
            if not clean["type"]:
                verdict["errors"] = {"type": _("Ange typ för en ny organisation.")}
                verdict["kind"] = "invalid"
                continue
            verdict["kind"] = "new"
            verdict["changes"] = {
                field: clean[field] for field in ("name", *ORGANISATION_FIELDS) if clean.get(field)
            }
            if not conflicts:
                pending[key] = {"line": row["line"], "clean": dict(clean), "verdict": verdict}
                if number:
                    pending_numbers[number] = key
        else:
            verdict.update(kind="matched", organisation_id=found.id, organisation=found.name)
            conflicts.update(_differences_from_record(clean, found))
            # An empty field is filled once: by the first row that gives it, and a later row
            # that gives another value is in conflict (the last must not silently win).
            earlier = filled.setdefault(found.id, {})
            conflicts.update(_differences_from_row(clean, earlier))
            verdict["changes"] = {
                field: clean[field]
                for field in ORGANISATION_FIELDS
                if clean.get(field) and getattr(found, field) is None and field not in earlier
            }
            if "org_number" in verdict["changes"] and (
                number in pending_numbers or filled_numbers.get(number, found.id) != found.id
            ):
                conflicts["org_number"] = _("Numret står på en annan rad med ett annat namn.")
            if not conflicts:
                earlier.update(verdict["changes"])
                if "org_number" in verdict["changes"]:
                    filled_numbers[number] = found.id
        if conflicts:
            verdict.update(kind="conflict", conflicts=conflicts, changes={})
            continue
        if clean["contact_name"]:
            target = verdict["organisation_id"] or f"new:{key}"
            address = email_key(clean["contact_email"])
            # One contact per address; one without an address is known by its name, so that
            # importing a file again adds nobody twice.
            known = (target, address) in addresses if address else (
                (target, _name_key(clean["contact_name"])) in names
            )  # fmt: skip
            verdict["contact"] = "exists" if known else "add"
            if address:
                addresses.add((target, address))
            names.add((target, _name_key(clean["contact_name"])))
            verdict["contact_values"] = {
                "name": clean["contact_name"], "email": clean["contact_email"],
                "phone": clean["contact_phone"], "title": clean["contact_title"],
            }  # fmt: skip
    return verdicts


def _differences_from_record(clean: dict, organisation: Organisation) -> dict[str, str]:
    """Fields the row gives that differ from what the register holds (never overwritten)."""
    differences = {}
    for field in ORGANISATION_FIELDS:
        given, stored = clean.get(field), getattr(organisation, field)
        if given and stored is not None and str(given) != str(getattr(stored, "value", stored)):
            differences[field] = _(
                "Registret har ”%(stored)s”, filen ”%(given)s”.",
                stored=_shown(field, stored), given=_shown(field, given),
            )  # fmt: skip
    return differences


def _differences_from_row(clean: dict, earlier: dict) -> dict[str, str]:
    differences = {}
    for field in ORGANISATION_FIELDS:
        given, first = clean.get(field), earlier.get(field)
        if given and first and given != first:
            differences[field] = _(
                "En tidigare rad har ”%(first)s”, den här ”%(given)s”.",
                first=_shown(field, first), given=_shown(field, given),
            )  # fmt: skip
    return differences


def _shown(field: str, value) -> str:
    if field == "type":
        return OrganisationType(value).label
    if field == "relationship":
        return Relationship(value).label
    return str(value)


def summary(verdicts: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(("new", "matched", "conflict", "invalid"), 0)
    for verdict in verdicts:
        counts[verdict["kind"]] += 1
    counts["contacts"] = sum(1 for v in verdicts if v.get("contact") == "add")
    return counts


def comparable(verdicts: list[dict]) -> list:
    """What a confirmation must find unchanged: each row's verdict and what it would write."""
    return [
        (v["line"], v["kind"], v.get("organisation_id"), sorted(v["changes"].items()),
         v.get("contact"), sorted(v.get("conflicts", {}).items()))
        for v in verdicts
    ]  # fmt: skip


# ---- writing ------------------------------------------------------------------------------


def apply(rows: list[dict], verdicts: list[dict], actor, *, filename: str, sha256: str) -> dict:
    """Write what the verdicts say — new organisations, blanks filled on matched ones, their
    contacts — and skip conflicts and invalid rows; one audit entry for the whole file."""
    created: dict[str, Organisation] = {}
    for row, verdict in zip(rows, verdicts, strict=True):
        if verdict["kind"] == "new":
            key = services.normalise_name(row["values"]["name"])
            organisation = created.get(key)
            if organisation is None:
                values = dict(verdict["changes"])
                values.setdefault("relationship", Relationship.PROSPECT.value)
                organisation = services.save_organisation(None, values, actor)
                created[key] = organisation
        elif verdict["kind"] == "matched":
            organisation = db.session.get(Organisation, verdict["organisation_id"])
            if verdict["changes"]:
                for field, value in verdict["changes"].items():
                    setattr(organisation, field, value)
                record_event(
                    "updated", actor, organisation=organisation, source="import",
                    **verdict["changes"],
                )  # fmt: skip
        else:
            continue
        if verdict.get("contact") == "add":
            services.add_contact(organisation, verdict["contact_values"], actor)
    db.session.flush()
    counts = summary(verdicts)
    audit("organisations_imported", actor, None, filename=filename, sha256=sha256, **counts)
    return counts


# ---- the staged import of the web page ------------------------------------------------------


def stage(read: ReadFile, filename: str, actor) -> OrganisationImport:
    """Keep the file's rows and their verdicts until the uploader confirms."""
    staged = OrganisationImport(
        user_id=actor.id, filename=filename[:200], sha256=read.sha256, rows=read.rows,
        verdicts=classify(read.rows),
    )  # fmt: skip
    db.session.add(staged)
    db.session.flush()
    return staged


class PreviewOutdated(DomainError):
    """The register changed between the preview and the confirmation."""


def confirm(staged: OrganisationImport, actor) -> dict:
    """Write exactly the preview the person saw, or raise PreviewOutdated with a fresh one
    stored (so the next confirmation is of what they then see)."""
    fresh = classify(staged.rows)
    if comparable(fresh) != comparable(staged.verdicts):
        staged.verdicts = fresh
        db.session.flush()
        raise PreviewOutdated(
            _("Registret har ändrats sedan förhandsvisningen. Kontrollera raderna igen.")
        )
    counts = apply(staged.rows, fresh, actor, filename=staged.filename, sha256=staged.sha256)
    db.session.delete(staged)
    db.session.flush()
    return counts


def forget_old_imports(now: datetime | None = None) -> int:
    """Drop unconfirmed imports older than KEPT_FOR (run by `purge-expired`)."""
    cutoff = (now or utcnow()) - KEPT_FOR
    result = db.session.execute(
        delete(OrganisationImport).where(OrganisationImport.created_at < cutoff)
    )
    return result.rowcount


def template_csv() -> str:
    """The template file: the Swedish headers and one example row, `;`-separated with a BOM
    so Swedish Excel opens it in columns."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_ROW)
    writer.writerow(TEMPLATE_ROW.values())
    return "\ufeff" + out.getvalue()
