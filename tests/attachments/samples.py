"""Files built in code for the attachment tests: every allowed type, and the ones refused."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*, animated: bool = False) -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    animation = png_chunk(b"acTL", struct.pack(">II", 1, 0)) if animated else b""
    pixels = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + animation + pixels + png_chunk(b"IEND", b"")


def jpeg() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def gif() -> bytes:
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00"
    return b"GIF89a" + screen + image + b";"


def webp() -> bytes:
    frame = b"VP8 " + struct.pack("<I", 10) + bytes(10)
    return b"RIFF" + struct.pack("<I", 4 + len(frame)) + b"WEBP" + frame


def heic() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic"
    return ftyp + struct.pack(">I", 8) + b"meta"


def zip_of(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_with_duplicates(members: list[tuple[str, str | bytes]]) -> bytes:
    """A zip that holds two members of one name, which zipfile writes only with a warning."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members:
                archive.writestr(name, content)
    return buffer.getvalue()


# ---- Office Open XML ------------------------------------------------------------------------

RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MS_RELATIONSHIPS = "http://schemas.microsoft.com/office/2006/relationships"
RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
DOCX_MAIN = f"{WORD}.main+xml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_MAIN = f"{XLSX}.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'

OOXML_MAIN_PARTS = {
    "docx": ("word/document.xml", DOCX_MAIN),
    "xlsx": ("xl/workbook.xml", XLSX_MAIN),
    "pptx": ("ppt/presentation.xml", PPTX_MAIN),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    "xlsm": ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
    "pptm": (
        "ppt/presentation.xml",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    ),
}
MAIN_PART_XML = {
    "word/document.xml": (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Hej</w:t></w:r></w:p></w:body></w:document>"
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    ),
    "ppt/presentation.xml": (
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'
    ),
}


def content_types(defaults: dict[str, str], overrides: dict[str, str]) -> str:
    """`[Content_Types].xml`; the types are written as given, character references and all."""
    return (
        XML_DECLARATION
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + "".join(
            f'<Default Extension="{extension}" ContentType="{content_type}"/>'
            for extension, content_type in defaults.items()
        )
        + "".join(
            f'<Override PartName="{part}" ContentType="{content_type}"/>'
            for part, content_type in overrides.items()
        )
        + "</Types>"
    )


def relationship(kind: str, target: str, *, external: bool = False) -> str:
    """One relationship; `kind` is a full type URI or the last part of an OOXML one."""
    kind = kind if "/" in kind else f"{RELATIONSHIPS}/{kind}"
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Type="{kind}" Target="{target}"{mode}/>'


def relationships(*items: str) -> str:
    numbered = "".join(
        item.replace("<Relationship ", f'<Relationship Id="rId{n}" ', 1)
        for n, item in enumerate(items, start=1)
    )
    return (
        XML_DECLARATION
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + numbered
        + "</Relationships>"
    )


def ooxml(
    main_part: str,
    main_type: str,
    *,
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    members: dict[str, str | bytes] | None = None,
    parts_first: bool = True,
) -> bytes:
    """A minimal OOXML package as Office writes one: content types with Defaults for rels and
    xml and an Override for the main part, the package relationship to it, and the part."""
    types = content_types(
        {"rels": RELS_TYPE, "xml": "application/xml"} | (defaults or {}),
        {f"/{main_part}": main_type} | (overrides or {}),
    )
    padding = {f"docProps/extra{n}.xml": "<x/>" for n in range(5)}
    package: dict[str, str | bytes] = {} if parts_first else dict(padding)
    package |= {
        "[Content_Types].xml": types,
        "_rels/.rels": relationships(relationship("officeDocument", main_part)),
        main_part: XML_DECLARATION + MAIN_PART_XML[main_part],
    }
    return zip_of(package | (members or {}))


def office(kind: str, *, vba_project: bool | None = None, parts_first: bool = True) -> bytes:
    """A minimal OOXML package; docm/xlsm/pptm carry a VBA project unless told otherwise. The
    project is the bare `vbaProject.bin` member, without its content type or relationship."""
    main_part, content_type = OOXML_MAIN_PARTS[kind]
    members: dict[str, str | bytes] = {}
    if vba_project if vba_project is not None else kind.endswith("m"):
        members[main_part.split("/")[0] + "/vbaProject.bin"] = OLE2 + bytes(504)
    return ooxml(main_part, content_type, members=members, parts_first=parts_first)


def docx(
    *,
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    members: dict[str, str | bytes] | None = None,
    main_type: str = DOCX_MAIN,
) -> bytes:
    return ooxml(
        "word/document.xml",
        main_type,
        defaults=defaults,
        overrides=overrides,
        members=members,
    )


def disguised_docm(*, vba_relationship: bool = True) -> bytes:
    """The docm of the security review, passed off as a docx: its macro-enabled main type and
    the VBA project's type hidden behind character references, the project moved to
    `word/x.bin`, and an unused Override naming the docx main type as a decoy."""
    members: dict[str, str | bytes] = {"word/x.bin": OLE2 + bytes(504)}
    if vba_relationship:
        members["word/_rels/document.xml.rels"] = relationships(
            relationship(f"{MS_RELATIONSHIPS}/vbaProject", "x.bin")
        )
    return docx(
        main_type="application/vnd.ms-word.document.macro&#69;nabled.main+xml",
        overrides={
            "/word/x.bin": "application/vnd.ms-office.vba&#80;roject",
            "/word/decoy.xml": DOCX_MAIN,
        },
        members=members,
    )


def docx_with_relationship(kind: str, target: str, *, of: str = "document.xml") -> bytes:
    """A docx whose part `word/<of>` has one relationship more, to `word/x.bin`: a VBA
    project under a name and a content type that give nothing away."""
    return docx(
        defaults={"bin": "application/octet-stream"},
        members=_with_part(of)
        | {
            "word/x.bin": OLE2 + bytes(504),
            f"word/_rels/{of}.rels": relationships(relationship(kind, target)),
        },
    )


def docx_fetching(kind: str, target: str, *, of: str) -> bytes:
    """A docx that has Word fetch something from elsewhere when it is opened."""
    return docx(
        members=_with_part(of)
        | {f"word/_rels/{of}.rels": relationships(relationship(kind, target, external=True))},
    )


def _with_part(name: str) -> dict[str, str | bytes]:
    return {} if name == "document.xml" else {f"word/{name}": f"{XML_DECLARATION}<x/>"}


def docx_with_links_and_chart() -> bytes:
    """An ordinary docx: a link to a web page, a picture linked from the web, and a chart
    whose data is an embedded workbook, as Word saves one."""
    return docx(
        defaults={"xlsx": XLSX},
        overrides={
            "/word/charts/chart1.xml": (
                "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
            ),
        },
        members={
            "word/_rels/document.xml.rels": relationships(
                relationship("hyperlink", "https://www.example.se/?a=1&amp;b=2", external=True),
                relationship("image", "https://www.example.se/bild.png", external=True),
                relationship("chart", "charts/chart1.xml"),
            ),
            "word/charts/chart1.xml": (
                XML_DECLARATION
                + '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"/>'
            ),
            "word/charts/_rels/chart1.xml.rels": relationships(
                relationship("package", "../embeddings/Microsoft_Excel_Worksheet.xlsx")
            ),
            "word/embeddings/Microsoft_Excel_Worksheet.xlsx": office("xlsx"),
        },
    )


# ---- OpenDocument ---------------------------------------------------------------------------

ODF_MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "ott": "application/vnd.oasis.opendocument.text-template",
}


def odf_manifest(mimetype: str, entries: dict[str, str]) -> str:
    listed = {"/": mimetype, "content.xml": "text/xml"} | entries
    return (
        XML_DECLARATION
        + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        + ' manifest:version="1.2">'
        + "".join(
            f'<manifest:file-entry manifest:full-path="{path}" manifest:media-type="{media}"/>'
            for path, media in listed.items()
        )
        + "</manifest:manifest>"
    )


def open_document(
    kind: str,
    *,
    macros: bool = False,
    mimetype_first: bool = True,
    manifest_entries: dict[str, str] | None = None,
    manifest: str | None = None,
) -> bytes:
    """A minimal OpenDocument package. `macros` adds a Basic library to the zip only (not to
    the manifest); `manifest_entries` lists more entries (path: media type) in the manifest."""
    mimetype = ODF_MIMETYPES[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if not mimetype_first:
            archive.writestr("styles.xml", "<styles/>")
        # As the ODF standard asks: first, and stored uncompressed.
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0"/>',
        )
        archive.writestr(
            "META-INF/manifest.xml",
            manifest if manifest is not None else odf_manifest(mimetype, manifest_entries or {}),
        )
        if macros:
            archive.writestr("Basic/Standard/Module1.xml", "<script:module/>")
    return buffer.getvalue()


def legacy_word() -> bytes:
    return OLE2 + bytes(504) + b"\xec\xa5\xc1\x00" + bytes(1600)


def executable() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + bytes(120) + b"PE\x00\x00" + bytes(200)


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + bytes(57)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"\n  <!DOCTYPE html><html><body><p>Hej</p></body></html>"
SWEDISH_CSV = "Namn;Ort;Kommentar\nÅsa Öberg;Västerås;Gärna på fredag\n".encode()
