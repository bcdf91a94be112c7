"""What an uploaded file is, told from its content, and a file name that is safe to keep.

The type is read from the bytes (magic numbers through `filetype`, the package inside an Office
or OpenDocument zip), never from the name or the browser's Content-Type; the name's extension
must then agree with it.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import filetype
from flask_babel import lazy_gettext as _l

from crm.errors import DomainError


@dataclass(frozen=True)
class FileKind:
    extension: str  # canonical, without the dot: "jpg", "docx"
    mime: str


ALLOWED: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "txt": "text/plain",
    "csv": "text/csv",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
}

# Other spellings of an allowed type in a file name. `filetype` knows HEIC only by its brand, so
# a .heif name is taken only for content that is HEIC.
EXTENSION_ALIASES = {"jpeg": "jpg", "heif": "heic"}

LABELS = {
    "pdf": _l("PDF"),
    "docx": _l("Word"),
    "xlsx": _l("Excel"),
    "pptx": _l("PowerPoint"),
    "odt": _l("OpenDocument-text"),
    "ods": _l("OpenDocument-kalkylblad"),
    "odp": _l("OpenDocument-presentation"),
    "txt": _l("Text"),
    "csv": _l("CSV"),
    "jpg": _l("Bild (JPEG)"),
    "png": _l("Bild (PNG)"),
    "gif": _l("Bild (GIF)"),
    "webp": _l("Bild (WebP)"),
    "heic": _l("Bild (HEIC)"),
}

# `filetype` looks at no more than its first 8 KiB; text is judged on a larger sample.
MAGIC_BYTES = 8 * 1024
TEXT_SAMPLE_BYTES = 64 * 1024
# Limits on what is read out of a zip, so a zip bomb cannot fill the memory.
CONTENT_TYPES_MAX_BYTES = 256 * 1024
ODF_MIMETYPE_MAX_BYTES = 128
# A relationships part or an ODF manifest lists one entry per link, picture or sheet; a large
# document's can be bigger than its content types, but no larger than this.
PACKAGE_XML_MAX_BYTES = 1024 * 1024
# All the XML read out of one package together, so many small parts cannot add up to a bomb.
PACKAGE_XML_TOTAL_MAX_BYTES = 8 * 1024 * 1024

TEXT_EXTENSIONS = {"txt", "csv"}
# Types `filetype` names that are all a zip: what is inside decides.
PACKAGE_EXTENSIONS = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp"}
# An animated PNG is still a PNG to every program that shows PNGs.
DETECTED_ALIASES = {"apng": "png"}
LEGACY_OFFICE = {"doc": "docx", "xls": "xlsx", "ppt": "pptx"}
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
# Looked for in every content type, lowercased after parsing (so character references count).
OOXML_MACRO_CONTENT_TYPES = (
    "macroenabled",
    "vbaproject",
    "vbadata",
    "keymapcustomizations",
    "ms-office.activex",
    "ms-excel.sheet.binary.macroenabled",
)
# Looked for in every relationship type, lowercased.
OOXML_MACRO_RELATIONSHIPS = ("vbaproject", "wordvbadata", "keymapcustomizations")
OOXML_MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")
# Relationships that make Office fetch a template, an object or a page from elsewhere when the
# file is opened (remote template injection and the like). External links and pictures are fine.
OOXML_REMOTE_RELATIONSHIPS = ("/attachedtemplate", "/oleobject", "/frame", "/subdocument")
OOXML_MAIN_RELATIONSHIP = "/officedocument"
OOXML_ROOT_RELATIONSHIPS = "_rels/.rels"
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
ODF_MACRO_FOLDERS = ("basic/", "scripts/")
ODF_MANIFEST = "meta-inf/manifest.xml"

ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    EOFError,
    OSError,
    ValueError,
    zlib.error,
)

# Browsers render these as pages or scripts if anything ever serves the file as such.
MARKUP_STARTS = (
    "<!doctype",
    "<html",
    "<head",
    "<body",
    "<iframe",
    "<svg",
    "<?xml",
    "<script",
    "<!--",
    "#!",
)
MARKUP_ANYWHERE = ("<script", "<html", "<svg")
LEADING_BLANKS = " \t\r\n\f\ufeff"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

MAX_FILENAME_LENGTH = 150
MAX_EXTENSION_LENGTH = 16
UNSAFE_IN_FILENAMES = re.compile(r'[<>:"/\\|?*]')
PATH_SEPARATORS = re.compile(r"[/\\]")
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs"}
WHITESPACE_CONTROLS = "\t\n\r\f\v"
WINDOWS_RESERVED_NAMES = (
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in [*range(1, 10), "¹", "²", "³"]}
    | {f"LPT{n}" for n in [*range(1, 10), "¹", "²", "³"]}
)
FALLBACK_STEM = "fil"


class Reason(StrEnum):
    NOT_ALLOWED = "not_allowed"
    LEGACY_OFFICE = "legacy_office"
    MISMATCH = "mismatch"
    MACROS = "macros"
    REMOTE_CONTENT = "remote_content"
    EMPTY = "empty"
    DAMAGED = "damaged"


ALLOWED_TYPES_TEXT = _l(
    "PDF, Word (docx), Excel (xlsx), PowerPoint (pptx), OpenDocument (odt, ods, odp), "
    "text (txt, csv) och bilder (jpg, png, gif, webp, heic)"
)
MESSAGES = {
    Reason.NOT_ALLOWED: _l(
        "Filen ”%(name)s” är av en typ som inte tas emot. Tillåtna typer: %(allowed)s."
    ),
    Reason.LEGACY_OFFICE: _l(
        "Filen ”%(name)s” är i ett äldre Office-format som inte tas emot. "
        "Spara den som %(modern)s och försök igen."
    ),
    Reason.MISMATCH: _l("Innehållet i ”%(name)s” stämmer inte med filändelsen."),
    Reason.MACROS: _l(
        "Filen ”%(name)s” innehåller makron och tas inte emot. "
        "Spara en kopia utan makron och försök igen."
    ),
    Reason.REMOTE_CONTENT: _l(
        "Filen ”%(name)s” hämtar innehåll från en annan adress när den öppnas och tas inte "
        "emot. Spara en kopia utan mallar eller länkade objekt och försök igen."
    ),
    Reason.EMPTY: _l("Filen ”%(name)s” är tom."),
    Reason.DAMAGED: _l("Filen ”%(name)s” är skadad och kan inte läsas."),
}


class RefusedFile(DomainError):
    """An uploaded file that is not taken in; the message names the file and says why."""

    def __init__(
        self,
        reason: Reason,
        filename: str,
        field: str | None = "files",
        modern_extension: str | None = None,
    ) -> None:
        message = MESSAGES[reason] % {
            "name": filename,
            "allowed": ALLOWED_TYPES_TEXT,
            "modern": modern_extension,
        }
        super().__init__(message, field)
        self.reason = reason
        self.filename = filename


class _Refusal(Exception):
    """Why the content is refused; `identify` adds the file's name and field."""

    def __init__(self, reason: Reason, modern_extension: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.modern_extension = modern_extension


def identify(stream: BinaryIO, filename: str, field: str = "files") -> FileKind:
    """The allowed type of an uploaded file, from its content; raises RefusedFile otherwise.
    The stream is left at its start."""
    shown_name = clean_filename(filename)
    name_extension = _name_extension(shown_name)
    try:
        kind = _kind_from_content(stream, name_extension)
    except _Refusal as refusal:
        raise RefusedFile(refusal.reason, shown_name, field, refusal.modern_extension) from None
    finally:
        stream.seek(0)
    if name_extension not in ALLOWED:
        raise RefusedFile(Reason.NOT_ALLOWED, shown_name, field)
    if name_extension != kind.extension:
        raise RefusedFile(Reason.MISMATCH, shown_name, field)
    return kind


def label(kind: FileKind) -> str:
    """A short name for the type, for lists of files."""
    return str(LABELS[kind.extension])


def _kind(extension: str) -> FileKind:
    return FileKind(extension, ALLOWED[extension])


def _name_extension(filename: str) -> str:
    _, dot, extension = filename.rpartition(".")
    extension = extension.lower()
    return EXTENSION_ALIASES.get(extension, extension) if dot else ""


def _kind_from_content(stream: BinaryIO, name_extension: str) -> FileKind:
    stream.seek(0)
    sample = stream.read(TEXT_SAMPLE_BYTES)
    if not sample:
        raise _Refusal(Reason.EMPTY)
    detected = _detected_extension(sample)
    if sample.startswith(OLE2_SIGNATURE):
        raise _legacy_office(detected or name_extension)
    if detected is None:
        return _text_kind(sample, name_extension, complete=len(sample) < TEXT_SAMPLE_BYTES)
    if detected in PACKAGE_EXTENSIONS:
        return _package_kind(stream)
    if detected in ALLOWED:
        return _kind(detected)
    raise _Refusal(Reason.NOT_ALLOWED)


def _detected_extension(sample: bytes) -> str | None:
    detected = filetype.guess(sample[:MAGIC_BYTES])
    if detected is None:
        return None
    return DETECTED_ALIASES.get(detected.extension, detected.extension)


def _legacy_office(extension: str | None) -> _Refusal:
    """Old Word, Excel and PowerPoint files share one container, which `filetype` does not
    always tell apart; the name then says which program made it."""
    modern = LEGACY_OFFICE.get(extension or "")
    if modern is None:
        return _Refusal(Reason.NOT_ALLOWED)
    return _Refusal(Reason.LEGACY_OFFICE, modern)


# ---- text -----------------------------------------------------------------------------------


def _text_kind(sample: bytes, name_extension: str, *, complete: bool) -> FileKind:
    """Text has no magic number: the name says whether it is meant as CSV."""
    text = _as_text(sample, complete=complete)
    if text is None or _looks_like_markup_or_script(text):
        raise _Refusal(Reason.NOT_ALLOWED)
    return _kind("csv" if name_extension == "csv" else "txt")


def _as_text(sample: bytes, *, complete: bool) -> str | None:
    if b"\x00" in sample:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            # Not final unless the whole file was read: the sample may end inside a character.
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
        except UnicodeDecodeError:
            continue
        return None if CONTROL_CHARACTERS.search(text) else text
    return None


def _looks_like_markup_or_script(text: str) -> bool:
    lowered = text.lower()
    return lowered.lstrip(LEADING_BLANKS).startswith(MARKUP_STARTS) or any(
        tag in lowered for tag in MARKUP_ANYWHERE
    )


# ---- Office Open XML and OpenDocument --------------------------------------------------------


def _package_kind(stream: BinaryIO) -> FileKind:
    """`filetype` guesses Office files from the order of the first zip entries; the package's
    own manifest is what decides, and it also tells whether there are macros."""
    try:
        with zipfile.ZipFile(stream) as package:
            reader = _PackageReader(package)
            if "[content_types].xml" in reader.names:
                return _office_open_xml_kind(reader)
            if "mimetype" in reader.names:
                return _open_document_kind(reader)
    except ZIP_ERRORS:
        raise _Refusal(Reason.DAMAGED) from None
    raise _Refusal(Reason.NOT_ALLOWED)


class _PackageReader:
    """The members of a zip by lowercased part name, read with limits on size."""

    def __init__(self, package: zipfile.ZipFile) -> None:
        self.package = package
        self.names: dict[str, str] = {}
        for name in package.namelist():
            key = _part_key(name)
            # Two members for one part: a program may read the one not checked here.
            if key in self.names:
                raise _Refusal(Reason.DAMAGED)
            self.names[key] = name
        self.xml_budget = PACKAGE_XML_TOTAL_MAX_BYTES

    def read(self, key: str, limit: int) -> bytes:
        with self.package.open(self.names[key]) as member:
            content = member.read(limit + 1)
        if len(content) > limit:
            raise _Refusal(Reason.DAMAGED)
        return content

    def xml(self, key: str, limit: int = PACKAGE_XML_MAX_BYTES) -> ElementTree.Element:
        content = self.read(key, min(limit, self.xml_budget))
        self.xml_budget -= len(content)
        return _parse_xml(content)


def _part_key(name: str) -> str:
    """A zip member's or a part's name as OPC compares them: unescaped, case-insensitive."""
    return unquote(name).lstrip("/").lower()


class _NoDoctype(ElementTree.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        # Package XML never has a DTD; refusing it leaves no entities to expand.
        raise _Refusal(Reason.DAMAGED)


def _parse_xml(content: bytes) -> ElementTree.Element:
    # defusedxml is not needed: a DTD is refused before any entity is declared, ElementTree
    # fetches nothing external, and expat (2.4 and later) also caps amplification.
    parser = ElementTree.XMLParser(target=_NoDoctype())  # noqa: S314
    try:
        parser.feed(content)
        return parser.close()
    except ElementTree.ParseError:
        raise _Refusal(Reason.DAMAGED) from None


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _attribute(element: ElementTree.Element, name: str) -> str | None:
    """An attribute by its local name, in whatever namespace."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _elements(root: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (element for element in root.iter() if _local(element.tag) == name)


def _office_open_xml_kind(reader: _PackageReader) -> FileKind:
    if any(key.endswith(OOXML_MACRO_PARTS) for key in reader.names):
        raise _Refusal(Reason.MACROS)
    overrides, defaults = _content_types(reader.xml("[content_types].xml", CONTENT_TYPES_MAX_BYTES))
    main_part = None
    for key in sorted(reader.names):
        if key.endswith(".rels"):
            found = _check_relationships(reader.xml(key), key)
            if found is not None:
                if main_part not in (None, found):
                    raise _Refusal(Reason.DAMAGED)
                main_part = found
    if main_part is None:
        raise _Refusal(Reason.NOT_ALLOWED)
    if main_part not in reader.names:
        raise _Refusal(Reason.DAMAGED)
    content_type = overrides.get(main_part)
    if content_type is None:
        content_type = defaults.get(posixpath.splitext(main_part)[1].lstrip("."))
    extension = OOXML_MAIN_PARTS.get(content_type or "")
    if extension is None:
        raise _Refusal(Reason.NOT_ALLOWED)
    return _kind(extension)


def _content_types(root: ElementTree.Element) -> tuple[dict[str, str], dict[str, str]]:
    """Content types by part name and by extension, lowercased; refuses those for macros."""
    if _local(root.tag) != "Types":
        raise _Refusal(Reason.DAMAGED)
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for element in root.iter():
        content_type = (_attribute(element, "ContentType") or "").strip().lower()
        if any(marker in content_type for marker in OOXML_MACRO_CONTENT_TYPES):
            raise _Refusal(Reason.MACROS)
        if _local(element.tag) == "Override":
            overrides[_part_key(element.get("PartName", ""))] = content_type
        elif _local(element.tag) == "Default":
            defaults[element.get("Extension", "").lower()] = content_type
    return overrides, defaults


def _check_relationships(root: ElementTree.Element, key: str) -> str | None:
    """Refuses relationships to macros and to content fetched from elsewhere; for the package's
    own relationships, returns the main document part they name."""
    main_parts = set()
    for relationship in _elements(root, "Relationship"):
        kind = (_attribute(relationship, "Type") or "").strip().lower()
        external = (_attribute(relationship, "TargetMode") or "").strip().lower() == "external"
        if kind.endswith("/vbaproject") or any(
            marker in kind for marker in OOXML_MACRO_RELATIONSHIPS
        ):
            raise _Refusal(Reason.MACROS)
        if (
            external
            and kind.endswith(OOXML_REMOTE_RELATIONSHIPS)
            and _fetches_from_elsewhere(relationship.get("Target", ""))
        ):
            raise _Refusal(Reason.REMOTE_CONTENT)
        if key == OOXML_ROOT_RELATIONSHIPS and kind.endswith(OOXML_MAIN_RELATIONSHIP):
            if external:
                raise _Refusal(Reason.DAMAGED)
            main_parts.add(_package_target(relationship.get("Target", "")))
    if len(main_parts) > 1:
        raise _Refusal(Reason.DAMAGED)
    return main_parts.pop() if main_parts else None


def _fetches_from_elsewhere(target: str) -> bool:
    """A target on another machine (http, ftp, a UNC or file://host path). Word records the
    local template a document was made from (`file:///C:\\…\\Mall.dotx`) as an external
    attachedTemplate in ordinary documents; opening it reaches no network, so it is allowed."""
    target = target.strip().replace("\\", "/").lower()
    if target.startswith("//"):
        return True  # UNC: \\server\share
    scheme, _, rest = target.partition(":")
    if not rest or len(scheme) == 1:
        return False  # a relative path or a drive letter (c:/…)
    if scheme != "file":
        return True
    host = rest.removeprefix("//").split("/", 1)[0]
    return host not in ("", "localhost")


def _package_target(target: str) -> str:
    """The part a relationship of the package itself points at; its source is the root."""
    path = urlsplit(target.strip()).path
    return _part_key(posixpath.normpath(posixpath.join("/", unquote(path))))


def _open_document_kind(reader: _PackageReader) -> FileKind:
    if any(key.startswith(ODF_MACRO_FOLDERS) for key in reader.names):
        raise _Refusal(Reason.MACROS)
    if ODF_MANIFEST not in reader.names:
        raise _Refusal(Reason.DAMAGED)
    for entry in _elements(reader.xml(ODF_MANIFEST), "file-entry"):
        path = _part_key((_attribute(entry, "full-path") or "").strip())
        media_type = (_attribute(entry, "media-type") or "").lower()
        if path.startswith(ODF_MACRO_FOLDERS) or "script" in media_type:
            raise _Refusal(Reason.MACROS)
    mimetype = reader.read("mimetype", ODF_MIMETYPE_MAX_BYTES).strip()
    extension = ODF_MIMETYPES.get(mimetype)
    if extension is None:
        raise _Refusal(Reason.NOT_ALLOWED)
    return _kind(extension)


# ---- file names -----------------------------------------------------------------------------


def clean_filename(name: str) -> str:
    """A name that is safe to show and to offer for download: no path, no invisible or
    direction-changing characters, nothing a common file system refuses."""
    name = unicodedata.normalize("NFC", name)
    name = "".join(_visible(ch) for ch in name)
    name = PATH_SEPARATORS.split(name)[-1]
    name = UNSAFE_IN_FILENAMES.sub("_", name)
    name = " ".join(name.split()).strip(". ")
    stem, extension = _split_extension(name)
    stem = stem or FALLBACK_STEM
    if stem.split(".")[0].rstrip().upper() in WINDOWS_RESERVED_NAMES:
        stem = f"_{stem}"
    if not extension:
        return stem[:MAX_FILENAME_LENGTH].rstrip(". ")
    stem = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip(". ")
    return f"{stem}.{extension}"


def _visible(ch: str) -> str:
    # Tabs and line breaks separate words; other control characters join them.
    if ch in WHITESPACE_CONTROLS:
        return " "
    return "" if unicodedata.category(ch) in INVISIBLE_CATEGORIES else ch


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension or " " in extension or len(extension) > MAX_EXTENSION_LENGTH:
        return name, ""
    return stem, extension
