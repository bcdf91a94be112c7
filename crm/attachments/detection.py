"""What an uploaded file is, told from its content, and a file name that is safe to keep.

The type is read from the bytes (magic numbers through `filetype`, the package inside an Office
or OpenDocument zip), never from the name or the browser's Content-Type; the name's extension
must then agree with it.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

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

TEXT_EXTENSIONS = {"txt", "csv"}
# Types `filetype` names that are all a zip: what is inside decides.
PACKAGE_EXTENSIONS = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp"}
# An animated PNG is still a PNG to every program that shows PNGs.
DETECTED_ALIASES = {"apng": "png"}
LEGACY_OFFICE = {"doc": "docx", "xls": "xlsx", "ppt": "pptx"}
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
OOXML_MACRO_MARKERS = (b"macroenabled", b"vbaproject")
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
ODF_MACRO_FOLDERS = ("basic/", "scripts/")

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
            names = {name.lower(): name for name in package.namelist()}
            if "[content_types].xml" in names:
                return _office_open_xml_kind(package, names)
            if "mimetype" in names:
                return _open_document_kind(package, names)
    except ZIP_ERRORS:
        raise _Refusal(Reason.DAMAGED) from None
    raise _Refusal(Reason.NOT_ALLOWED)


def _office_open_xml_kind(package: zipfile.ZipFile, names: dict[str, str]) -> FileKind:
    content_types = _read_member(
        package, names["[content_types].xml"], CONTENT_TYPES_MAX_BYTES
    ).lower()
    if any(name.endswith("vbaproject.bin") for name in names) or any(
        marker in content_types for marker in OOXML_MACRO_MARKERS
    ):
        raise _Refusal(Reason.MACROS)
    found = {ext for main_part, ext in OOXML_MAIN_PARTS.items() if main_part in content_types}
    if len(found) != 1:
        raise _Refusal(Reason.NOT_ALLOWED)
    return _kind(found.pop())


def _open_document_kind(package: zipfile.ZipFile, names: dict[str, str]) -> FileKind:
    if any(name.startswith(ODF_MACRO_FOLDERS) for name in names):
        raise _Refusal(Reason.MACROS)
    mimetype = _read_member(package, names["mimetype"], ODF_MIMETYPE_MAX_BYTES).strip()
    extension = ODF_MIMETYPES.get(mimetype)
    if extension is None:
        raise _Refusal(Reason.NOT_ALLOWED)
    return _kind(extension)


def _read_member(package: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with package.open(name) as member:
        content = member.read(limit + 1)
    if len(content) > limit:
        raise _Refusal(Reason.DAMAGED)
    return content


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
