"""Telling an upload's type from its content, and cleaning its name. Every sample is built here."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from crm.attachments.detection import (
    ALLOWED,
    PACKAGE_XML_MAX_BYTES,
    PACKAGE_XML_TOTAL_MAX_BYTES,
    TEXT_SAMPLE_BYTES,
    FileKind,
    Reason,
    RefusedFile,
    clean_filename,
    identify,
    label,
)
from tests.attachments.samples import (
    DOCX_MAIN,
    HTML,
    MS_RELATIONSHIPS,
    OLE2,
    SVG,
    SWEDISH_CSV,
    XLSX_MAIN,
    content_types,
    disguised_docm,
    docx,
    docx_fetching,
    docx_with_links_and_chart,
    docx_with_relationship,
    elf,
    executable,
    gif,
    heic,
    jpeg,
    legacy_word,
    office,
    ooxml,
    open_document,
    pdf,
    png,
    relationship,
    relationships,
    webp,
    zip_of,
    zip_with_duplicates,
)


@pytest.fixture
def in_request(app):
    """Messages and labels go through Flask-Babel, as in a request (Swedish by default)."""
    with app.test_request_context():
        yield


# ---- samples --------------------------------------------------------------------------------


def kind(extension: str) -> FileKind:
    return FileKind(extension, ALLOWED[extension])


def refusal(content: bytes, filename: str, **kwargs) -> RefusedFile:
    with pytest.raises(RefusedFile) as caught:
        identify(io.BytesIO(content), filename, **kwargs)
    return caught.value


# ---- accepted -------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (pdf(), "Årsrapport.pdf", kind("pdf")),
        (office("docx"), "plan.docx", kind("docx")),
        (office("xlsx"), "budget.xlsx", kind("xlsx")),
        (office("pptx"), "bilder.pptx", kind("pptx")),
        (open_document("odt"), "plan.odt", kind("odt")),
        (open_document("ods"), "budget.ods", kind("ods")),
        (open_document("odp"), "bilder.odp", kind("odp")),
        (png(), "karta.png", kind("png")),
        (png(animated=True), "rörlig.png", kind("png")),
        (jpeg(), "foto.jpg", kind("jpg")),
        (jpeg(), "FOTO.JPG", kind("jpg")),
        (jpeg(), "foto.jpeg", kind("jpg")),
        (gif(), "logga.gif", kind("gif")),
        (webp(), "bild.webp", kind("webp")),
        (heic(), "IMG_0001.HEIC", kind("heic")),
        (heic(), "IMG_0001.heif", kind("heic")),
        (SWEDISH_CSV, "kontakter.csv", kind("csv")),
        (b"\xef\xbb\xbf" + SWEDISH_CSV, "kontakter.csv", kind("csv")),
        ("Hälsningar från Örebro – välkommen!\r\n".encode("cp1252"), "brev.txt", kind("txt")),
        (b"Rad ett\n\tindragen\fny sida\n", "anteckningar.txt", kind("txt")),
    ],
)
def test_identify_accepts_allowed_content_with_a_matching_name(content, filename, expected):
    assert identify(io.BytesIO(content), filename) == expected


@pytest.mark.usefixtures("in_request")
def test_office_package_is_judged_by_its_manifest_not_by_the_order_of_its_parts():
    # filetype looks for word/ among the first few entries only and calls this a plain zip.
    content = office("docx", parts_first=False)

    assert identify(io.BytesIO(content), "plan.docx") == kind("docx")


@pytest.mark.usefixtures("in_request")
def test_open_document_with_mimetype_not_first_is_still_recognised():
    content = open_document("odt", mimetype_first=False)

    assert identify(io.BytesIO(content), "plan.odt") == kind("odt")


@pytest.mark.usefixtures("in_request")
def test_text_cut_inside_a_character_at_the_sample_limit_is_still_text():
    content = b"a" * (TEXT_SAMPLE_BYTES - 1) + "å".encode() + b" och mer text\n"

    assert identify(io.BytesIO(content), "lång.txt") == kind("txt")


# ---- refused --------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (executable(), "program.exe"),
        (executable(), "faktura.pdf"),
        (elf(), "verktyg"),
        (zip_of({"a.txt": "hej"}), "filer.zip"),
        (zip_of({"a.txt": "hej"}), "filer.docx"),
        (zip_of({"word/document.xml": "<doc/>"}), "utan-manifest.docx"),
        (b"Rar!\x1a\x07\x00" + bytes(20), "filer.rar"),
        (b"7z\xbc\xaf\x27\x1c" + bytes(20), "filer.7z"),
        (gzip.compress(b"hej", mtime=0), "filer.gz"),
        (b"%!PS-Adobe-3.0\n%%EndComments\n", "utskrift.txt"),
        (HTML, "sida.txt"),
        (HTML, "sida.html"),
        (b"<HTML><BODY>Hej</BODY></HTML>", "sida.txt"),
        (SVG, "bild.png"),
        (SVG, "bild.txt"),
        (SVG, "bild.svg"),
        (b"\xef\xbb\xbf \n<svg/>", "bild.txt"),
        (b'<?xml version="1.0"?><data/>', "data.txt"),
        (b"#!/bin/sh\nrm -rf /\n", "skript.txt"),
        (b"Namn;Kommentar\nEva;<script>alert(1)</script>\n", "lista.csv"),
        (b"Namn;Kommentar\nEva;hej\x00\x00", "lista.csv"),
        ("abc \x1b[31mröd\x1b[0m\n".encode(), "färg.txt"),
        (b"abc \x81\x8d\n", "trasig.txt"),
        (b"Vanlig text\n", "anteckningar.md"),
        (b"Vanlig text\n", "anteckningar"),
        (pdf(), "rapport.exe"),
        (open_document("ott"), "mall.odt"),
        (OLE2 + bytes(1024), "meddelande.msg"),
    ],
)
def test_identify_refuses_types_that_are_not_allowed(content, filename):
    assert refusal(content, filename).reason is Reason.NOT_ALLOWED


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (pdf(), "plan.docx"),
        (png(), "bild.jpg"),
        (jpeg(), "bild.png"),
        (office("docx"), "budget.xlsx"),
        (open_document("odt"), "plan.docx"),
        (office("docx"), "plan.odt"),
        (SWEDISH_CSV, "kontakter.pdf"),
        (heic(), "bild.jpg"),
    ],
)
def test_identify_refuses_content_that_does_not_match_the_extension(content, filename):
    assert refusal(content, filename).reason is Reason.MISMATCH


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (office("docm"), "plan.docx"),
        (office("docm"), "plan.docm"),
        (office("xlsm"), "budget.xlsx"),
        (office("pptm"), "bilder.pptx"),
        (office("docx", vba_project=True), "plan.docx"),
        (office("docm", vba_project=False), "plan.docx"),
        (open_document("odt", macros=True), "plan.odt"),
    ],
)
def test_identify_refuses_office_files_with_macros(content, filename):
    assert refusal(content, filename).reason is Reason.MACROS


# ---- disguised Office files ----------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(disguised_docm(), id="docm-behind-character-references"),
        pytest.param(disguised_docm(vba_relationship=False), id="content-types-alone"),
        pytest.param(
            docx_with_relationship(f"{MS_RELATIONSHIPS}/vba&#80;roject", "x.bin"),
            id="moved-vba-project-named-by-its-relationship",
        ),
        pytest.param(
            docx_with_relationship(f"{MS_RELATIONSHIPS}/wordVbaData", "x.bin"),
            id="vba-data-relationship",
        ),
        pytest.param(
            docx_with_relationship(f"{MS_RELATIONSHIPS}/keyMapCustomizations", "x.bin"),
            id="key-map-customizations",
        ),
        pytest.param(docx(members={"word/VBADATA.xml": "<x/>"}), id="vba-data-part"),
        pytest.param(
            docx(overrides={"/word/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"}),
            id="activex-control",
        ),
    ],
)
def test_identify_refuses_a_docx_with_disguised_macros(content):
    assert refusal(content, "a.docx").reason is Reason.MACROS


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "main_type",
    [
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.ms-excel.sheet.macro&#69;nabled.main+xml",
        "application/vnd.ms-excel.sheet.binary.macroEnabled.main",
    ],
)
def test_identify_refuses_an_xlsm_renamed_xlsx_by_its_main_part_type(main_type):
    content = ooxml("xl/workbook.xml", main_type)

    assert refusal(content, "budget.xlsx").reason is Reason.MACROS


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("kind", "target", "part"),
    [
        ("attachedTemplate", "https://mallar.example.com/mall.dotm", "settings.xml"),
        ("attached&#84;emplate", "https://mallar.example.com/mall.dotm", "settings.xml"),
        ("attachedTemplate", "\\\\server.example.com\\mallar\\mall.dotm", "settings.xml"),
        (
            "oleObject",
            "mhtml:https://example.com/x.html!x-usc:https://example.com/x",
            "document.xml",
        ),
        ("frame", "https://example.com/ram.html", "webSettings.xml"),
        ("subDocument", "https://example.com/del.docx", "document.xml"),
        ("attachedTemplate", "file://server.example.com/mallar/mall.dotm", "settings.xml"),
    ],
)
def test_identify_refuses_a_docx_that_fetches_content_from_elsewhere(kind, target, part):
    content = docx_fetching(kind, target, of=part)

    assert refusal(content, "a.docx").reason is Reason.REMOTE_CONTENT


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "target",
    [
        "file:///C:\\Users\\asa\\Documents\\Anpassade Office-mallar\\Rapport.dotx",
        "file:///Users/asa/Library/Group%20Containers/Mallar/Rapport.dotx",
        "Rapport.dotx",
    ],
)
def test_a_docx_made_from_a_template_on_the_writers_own_disk_is_accepted(target):
    # Word records the local template as an external attachedTemplate; opening it reaches no
    # network, and refusing it would refuse a great many ordinary documents.
    content = docx_fetching("attachedTemplate", target, of="settings.xml")
    assert identify(io.BytesIO(content), "rapport.docx") == kind("docx")


@pytest.mark.usefixtures("in_request")
def test_a_docx_with_external_links_and_an_embedded_workbook_is_accepted():
    assert identify(io.BytesIO(docx_with_links_and_chart()), "rapport.docx") == kind("docx")


@pytest.mark.usefixtures("in_request")
def test_the_part_the_package_relationship_names_decides_the_type_not_a_decoy_override():
    content = ooxml("xl/workbook.xml", XLSX_MAIN, overrides={"/word/decoy.xml": DOCX_MAIN})

    assert identify(io.BytesIO(content), "budget.xlsx") == kind("xlsx")
    assert refusal(content, "plan.docx").reason is Reason.MISMATCH


@pytest.mark.usefixtures("in_request")
def test_part_names_are_compared_without_regard_to_case_or_escaping():
    content = zip_of(
        {
            "[Content_Types].xml": content_types(
                {"rels": "application/vnd.openxmlformats-package.relationships+xml"},
                {"/Word/Doc%75ment.XML": DOCX_MAIN},
            ),
            "_rels/.rels": relationships(relationship("officeDocument", "/word/document.xml")),
            "word/document.xml": "<w:document/>",
        }
    )

    assert identify(io.BytesIO(content), "plan.docx") == kind("docx")


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "main_type",
    [
        f"{DOCX_MAIN.removesuffix('.document.main+xml')}.template.main+xml",
        "application/xml",
        "",
    ],
    ids=["template", "plain-xml", "none"],
)
def test_identify_refuses_a_docx_whose_main_part_is_not_a_document(main_type):
    overrides = {"/word/document.xml": main_type} if main_type else {}
    content = zip_of(
        {
            "[Content_Types].xml": content_types({"rels": "application/xml"}, overrides),
            "_rels/.rels": relationships(relationship("officeDocument", "word/document.xml")),
            "word/document.xml": "<w:document/>",
        }
    )

    assert refusal(content, "plan.docx").reason is Reason.NOT_ALLOWED


@pytest.mark.usefixtures("in_request")
def test_identify_refuses_a_package_without_an_office_document():
    types = content_types({"xml": "application/xml"}, {"/word/document.xml": DOCX_MAIN})
    content = zip_of({"[Content_Types].xml": types, "word/document.xml": "<w:document/>"})

    assert refusal(content, "plan.docx").reason is Reason.NOT_ALLOWED


def links_of_size(size: int) -> str:
    """A relationships part of about `size` bytes (a little over) full of external links."""
    link = relationship("hyperlink", "https://example.com/" + "x" * 80, external=True)
    return relationships(*[link] * (size // len(link) + 1))


RELS_TOO_LARGE = links_of_size(PACKAGE_XML_MAX_BYTES)
RELS_LARGE = links_of_size(PACKAGE_XML_MAX_BYTES * 3 // 4)
RELS_PARTS_TOO_MANY = PACKAGE_XML_TOTAL_MAX_BYTES // len(RELS_LARGE) + 1


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "lol">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9))
    + ']><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&j;</Types>'
)


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"[Content_Types].xml": BILLION_LAUGHS}, id="dtd-in-content-types"),
        pytest.param({"[Content_Types].xml": "<Types>"}, id="broken-content-types"),
        pytest.param({"[Content_Types].xml": "<Typer/>"}, id="not-content-types"),
        pytest.param({"word/_rels/document.xml.rels": "<Relationships"}, id="broken-rels"),
        pytest.param({"word/_rels/document.xml.rels": RELS_TOO_LARGE}, id="rels-too-large"),
        pytest.param(
            {f"word/_rels/part{n}.xml.rels": RELS_LARGE for n in range(RELS_PARTS_TOO_MANY)},
            id="rels-too-large-together",
        ),
        pytest.param(
            {"_rels/.rels": relationships(relationship("officeDocument", "word/saknas.xml"))},
            id="main-part-missing",
        ),
        pytest.param(
            {
                "_rels/.rels": relationships(
                    relationship("officeDocument", "word/document.xml"),
                    relationship("officeDocument", "word/annan.xml"),
                )
            },
            id="two-main-parts",
        ),
    ],
)
def test_identify_refuses_a_damaged_office_package(members):
    content = ooxml("word/document.xml", DOCX_MAIN, members=members)

    assert refusal(content, "plan.docx").reason is Reason.DAMAGED


@pytest.mark.usefixtures("in_request")
def test_large_relationships_parts_are_read_up_to_their_limit():
    content = docx(members={"word/_rels/document.xml.rels": RELS_LARGE})

    assert identify(io.BytesIO(content), "lankar.docx") == kind("docx")


@pytest.mark.usefixtures("in_request")
def test_identify_refuses_a_package_with_two_members_of_one_name():
    benign = content_types({"xml": "application/xml"}, {"/word/document.xml": DOCX_MAIN})
    content = zip_with_duplicates(
        [
            ("[Content_Types].xml", benign),
            ("[CONTENT_TYPES].XML", benign.replace(DOCX_MAIN, "application/xml")),
            ("_rels/.rels", relationships(relationship("officeDocument", "word/document.xml"))),
            ("word/document.xml", "<w:document/>"),
        ]
    )

    assert refusal(content, "plan.docx").reason is Reason.DAMAGED


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "entries",
    [
        {"Scripts/": "", "Scripts/javascript/Library/x.js": ""},
        {"Basic/": "application/binary"},
        {"scr&#105;pts/python/x.py": ""},
        {"Pictures/x.png": "text/javascript"},
    ],
)
def test_identify_refuses_an_open_document_whose_manifest_lists_scripts(entries):
    content = open_document("odt", manifest_entries=entries)

    assert refusal(content, "plan.odt").reason is Reason.MACROS


@pytest.mark.usefixtures("in_request")
def test_an_open_document_with_pictures_in_its_manifest_is_accepted():
    content = open_document("odt", manifest_entries={"Pictures/bild.png": "image/png"})

    assert identify(io.BytesIO(content), "plan.odt") == kind("odt")


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(open_document("odt", manifest="<manifest:manifest/>"), id="unbound-prefix"),
        pytest.param(open_document("odt", manifest=""), id="empty"),
        pytest.param(
            zip_of({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}),
            id="missing",
        ),
    ],
)
def test_identify_refuses_an_open_document_with_a_broken_manifest(content):
    assert refusal(content, "plan.odt").reason is Reason.DAMAGED


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename", "modern"),
    [
        (legacy_word(), "gammal.doc", "docx"),
        (legacy_word(), "gammal.docx", "docx"),
        (OLE2 + bytes(1024), "gammal.xls", "xlsx"),
        (OLE2 + bytes(1024), "gammal.ppt", "pptx"),
    ],
)
def test_identify_refuses_legacy_office_files_and_names_the_modern_format(
    content, filename, modern
):
    refused = refusal(content, filename)

    assert refused.reason is Reason.LEGACY_OFFICE
    assert f"Spara den som {modern} och försök igen." in str(refused)


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04" + bytes(100), office("docx")[:200]],
    ids=["garbage", "truncated"],
)
def test_identify_refuses_a_broken_zip(content):
    assert refusal(content, "plan.docx").reason is Reason.DAMAGED


@pytest.mark.usefixtures("in_request")
def test_identify_refuses_an_empty_file_with_a_message_naming_it():
    refused = refusal(b"", "tom.pdf")

    assert refused.reason is Reason.EMPTY
    assert str(refused) == "Filen ”tom.pdf” är tom."


# ---- messages, field and stream -------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
def test_refusal_message_names_the_file_and_the_allowed_types():
    refused = refusal(executable(), "program.exe")

    assert str(refused) == (
        "Filen ”program.exe” är av en typ som inte tas emot. Tillåtna typer: PDF, Word (docx), "
        "Excel (xlsx), PowerPoint (pptx), OpenDocument (odt, ods, odp), text (txt, csv) och "
        "bilder (jpg, png, gif, webp, heic)."
    )


@pytest.mark.usefixtures("in_request")
def test_mismatch_message():
    assert str(refusal(pdf(), "plan.docx")) == (
        "Innehållet i ”plan.docx” stämmer inte med filändelsen."
    )


@pytest.mark.usefixtures("in_request")
def test_macro_message():
    assert str(refusal(office("docm"), "plan.docx")) == (
        "Filen ”plan.docx” innehåller makron och tas inte emot. "
        "Spara en kopia utan makron och försök igen."
    )


@pytest.mark.usefixtures("in_request")
def test_message_shows_the_cleaned_name_without_direction_tricks():
    refused = refusal(executable(), "C:\\Temp\\faktura\u202efdp.exe")

    assert "”fakturafdp.exe”" in str(refused)
    assert "\u202e" not in str(refused)


@pytest.mark.usefixtures("in_request")
def test_refusal_carries_the_given_field_or_files_by_default():
    assert refusal(executable(), "a.exe").field == "files"
    assert refusal(executable(), "a.exe", field="attachments").field == "attachments"
    assert refusal(pdf(), "a.png", field="attachments").field == "attachments"


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename"),
    [(office("docx"), "plan.docx"), (pdf(), "plan.pdf"), (SWEDISH_CSV, "a.csv")],
)
def test_stream_is_rewound_after_identifying(content, filename):
    stream = io.BytesIO(content)
    stream.seek(7)

    identify(stream, filename)

    assert stream.tell() == 0


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename"),
    [(executable(), "a.exe"), (office("docm"), "a.docx"), (pdf(), "a.docx")],
)
def test_stream_is_rewound_after_refusing(content, filename):
    stream = io.BytesIO(content)

    with pytest.raises(RefusedFile):
        identify(stream, filename)

    assert stream.tell() == 0


class CountingStream(io.BytesIO):
    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


FIVE_MIB = 5 * 2**20


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (pdf() + b"%" + b"0" * FIVE_MIB + b"\n", "stor.pdf", "pdf"),
        (b"lite text\n" * (FIVE_MIB // 10), "stor.txt", "txt"),
    ],
)
def test_a_large_file_is_identified_from_its_start(content, filename, expected):
    stream = CountingStream(content)

    assert identify(stream, filename).extension == expected
    assert stream.bytes_read <= TEXT_SAMPLE_BYTES


@pytest.mark.usefixtures("in_request")
def test_a_large_office_file_is_read_through_its_zip_directory_only():
    package = io.BytesIO(office("docx"))
    with zipfile.ZipFile(package, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/bild.png", png() + bytes(FIVE_MIB))
    stream = CountingStream(package.getvalue())

    assert identify(stream, "plan.docx") == kind("docx")
    assert stream.bytes_read < 256 * 1024


# ---- labels ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize(
    ("extension", "expected"),
    [
        ("pdf", "PDF"),
        ("docx", "Word"),
        ("xlsx", "Excel"),
        ("pptx", "PowerPoint"),
        ("odt", "OpenDocument-text"),
        ("png", "Bild (PNG)"),
        ("jpg", "Bild (JPEG)"),
        ("txt", "Text"),
        ("csv", "CSV"),
    ],
)
def test_label(extension, expected):
    assert label(kind(extension)) == expected


@pytest.mark.usefixtures("in_request")
def test_every_allowed_type_has_a_label():
    assert all(label(kind(extension)) for extension in ALLOWED)


# ---- file names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\plan.pdf", "plan.pdf"),
        ("gpj.exe\u202efdp.pdf", "gpj.exefdp.pdf"),
        ("faktura\u202efdp.exe", "fakturafdp.exe"),
        ("noll\u200bbredd\ufeff.pdf", "nollbredd.pdf"),
        ("  .hidden . ", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("Lpt9.tar.gz", "_Lpt9.tar.gz"),
        ("COM1 .pdf", "_COM1.pdf"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("Årsrapport 2026 – Länsmuseet.pdf", "Årsrapport 2026 – Länsmuseet.pdf"),
        ("A\u030arsrapport.pdf", "Årsrapport.pdf"),
        ("会议记录 é.docx", "会议记录 é.docx"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("", "fil"),
        ("...", "fil"),
        ("\u202e", "fil"),
        ("???.pdf", "___.pdf"),
        ('a<b>c:d"e|f*.pdf', "a_b_c_d_e_f_.pdf"),
        ("många   mellanslag\t\nhär.pdf", "många mellanslag här.pdf"),
        ("mapp/", "fil"),
    ],
)
def test_clean_filename(name, expected):
    assert clean_filename(name) == expected


def test_clean_filename_caps_a_long_name_and_keeps_its_extension():
    cleaned = clean_filename("x" * 300 + ".pdf")

    assert cleaned == "x" * 146 + ".pdf"
    assert len(cleaned) == 150


def test_clean_filename_caps_a_long_name_without_extension():
    assert clean_filename("å" * 300) == "å" * 150


def test_clean_filename_does_not_take_a_long_tail_for_an_extension():
    name = "rapport." + "b" * 200

    assert clean_filename(name) == name[:150]
