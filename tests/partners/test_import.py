"""Importing the register from CSV and XLSX: each row judged before anything is written."""

import io

import pytest
from sqlalchemy import func, select

from crm.errors import DomainError
from crm.models import AuditLog, Contact, Organisation, OrganisationImport
from crm.partners import importing
from tests.factories import OrganisationFactory, UserFactory

HEADER = ["namn", "organisationsnummer", "typ", "relation", "län", "webbplats", "e-postdomän",
          "kontaktperson", "e-post", "telefon", "titel"]  # fmt: skip


def csv_bytes(rows, header=HEADER, delimiter=";", bom=True) -> bytes:
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    return ("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode("utf-8")


def row(name="Kulturens hus", number="", type_="museum", relationship="", region="",
        website="", domain="", contact="", email="", phone="", title=""):  # fmt: skip
    return [name, number, type_, relationship, region, website, domain, contact, email, phone,
            title]  # fmt: skip


def xlsx_bytes(rows, header=HEADER) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    workbook.close()
    return out.getvalue()


def judged(db, *rows):
    read = importing.read_rows(csv_bytes(rows), "register.csv")
    return importing.classify(read.rows)


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


# ---- one row at a time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind", "field"),
    [
        (row(), "new", None),
        (row(number="556036-0793", region="Jämtlands län", relationship="Möjlig partner"),
         "new", None),
        (row(type_="Myndighet", region="23", website="www.exempel.se"), "new", None),
        (row(name=""), "invalid", "name"),
        (row(number="556036-0794"), "invalid", "org_number"),
        (row(number="12345"), "invalid", "org_number"),
        (row(type_="pirat"), "invalid", "type"),
        (row(type_=""), "invalid", "type"),  # a new organisation needs a type
        (row(relationship="ovän"), "invalid", "relationship"),
        (row(region="Atlantis"), "invalid", "region"),
        (row(website="inte en adress"), "invalid", "website"),
        (row(domain="a b"), "invalid", "email_domain"),
        (row(domain="gmail.com"), "invalid", "email_domain"),
        (row(contact="Kim", email="kim@"), "invalid", "contact_email"),
        (row(contact="Kim", phone="ring mig"), "invalid", "contact_phone"),
        (row(email="kim@exempel.se"), "invalid", "contact_name"),
        (row(name="x" * 201), "invalid", "name"),
    ],
)  # fmt: skip
def test_each_row_is_judged_with_its_reason(db, values, kind, field):
    (verdict,) = judged(db, values)
    assert verdict["kind"] == kind
    if field:
        assert field in verdict["errors"], verdict["errors"]
    else:
        assert verdict["errors"] == {}


def test_matching_uses_the_registers_rule_number_name_then_domain(db):
    by_number = OrganisationFactory(name="Numret", org_number="556036-0793")
    by_name = OrganisationFactory(name="Namnet")
    by_domain = OrganisationFactory(name="Domänen", email_domain="domanen.se")
    verdicts = judged(
        db,
        row(name="Annat namn", number="556036-0793"),
        row(name="NAMNET AB", type_=""),
        row(name="Okänd", contact="Kim", email="kim@domanen.se"),
    )
    assert [v["kind"] for v in verdicts] == ["matched", "matched", "matched"]
    assert [v["organisation_id"] for v in verdicts] == [by_number.id, by_name.id, by_domain.id]


def test_conflicts_name_the_clash(db):
    OrganisationFactory(name="Numret", org_number="556036-0793")
    OrganisationFactory(name="Namnet", website="https://namnet.se", region="01")
    verdicts = judged(
        db,
        row(name="Namnet", number="556036-0793"),  # number one organisation, name another
        row(name="Namnet", website="https://annat.se"),  # differs from what is stored
        row(name="Ny", number="212000-1355"),
        row(name="Nyare", number="212000-1355"),  # the same number on two new rows
    )
    assert [v["kind"] for v in verdicts] == ["conflict", "conflict", "new", "conflict"]
    assert "Numret" in verdicts[0]["conflicts"]["org_number"]
    assert "https://namnet.se" in verdicts[1]["conflicts"]["website"]


def test_matched_rows_fill_only_empty_fields_and_add_new_contacts(db):
    museum = OrganisationFactory(name="Museet", type="museum", region="01")
    db.session.add(Contact(organisation_id=museum.id, name="Kim", email="kim@museet.se"))
    db.session.commit()
    verdicts = judged(
        db,
        row(name="Museet", region="01", website="museet.se", contact="Kim", email="KIM@museet.se"),
        row(name="Museet", contact="Alex", email="alex@museet.se"),
    )
    assert [v["kind"] for v in verdicts] == ["matched", "matched"]
    assert verdicts[0]["changes"] == {"website": "https://museet.se"}
    assert [v["contact"] for v in verdicts] == ["exists", "add"]


def test_rows_of_one_new_organisation_make_it_once_with_each_contact(db):
    verdicts = judged(
        db,
        row(name="Nya museet", contact="Kim", email="kim@nya.se"),
        row(name="NYA MUSEET", type_="", contact="Alex", email="alex@nya.se"),
        row(name="Nya museet", contact="Kim igen", email="Kim@nya.se"),
    )
    assert [v["kind"] for v in verdicts] == ["new", "new", "new"]
    assert [v["contact"] for v in verdicts] == ["add", "add", "exists"]
    assert verdicts[1]["same_as"] == 2


# ---- reading files -------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_either_delimiter_and_with_or_without_bom(app, delimiter, bom):
    content = csv_bytes([row(name="Å, ä och ö")], delimiter=delimiter, bom=bom)
    if delimiter == ",":
        content = content.replace("Å, ä och ö".encode(), '"Å, ä och ö"'.encode())
    with app.app_context():
        read = importing.read_rows(content, "register.csv")
    assert read.rows[0]["values"]["name"] == "Å, ä och ö"
    assert read.rows[0]["line"] == 2


def test_english_headers_and_unknown_columns(app):
    header = ["Name", "Org_Number", "TYPE", "Contact Email", "Contact_Name", "Anteckning"]
    content = csv_bytes([["Museet", "556036-0793", "museum", "a@museet.se", "A", "x"]],
                        header=header)  # fmt: skip
    with app.app_context():
        read = importing.read_rows(content, "r.csv")
    assert read.rows[0]["values"] == {
        "name": "Museet", "org_number": "556036-0793", "type": "museum",
        "contact_email": "a@museet.se", "contact_name": "A",
    }  # fmt: skip
    assert read.ignored_columns == ["Anteckning"]


def test_xlsx_is_read_like_csv(app, db):
    content = xlsx_bytes([row(name="Excelmuseet", number="5560360793", region="23")])
    read = importing.read_rows(content, "register.xlsx")
    assert read.rows[0]["values"]["name"] == "Excelmuseet"
    (verdict,) = importing.classify(read.rows)
    assert verdict["kind"] == "new"
    assert verdict["changes"]["org_number"] == "556036-0793"


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "r.csv", "tom"),
        (b"namn;typ\r\n\x81\x8d;museum", "r.csv", "UTF-8"),  # neither UTF-8 nor cp1252
        (b"typ;relation\r\nmuseum;member", "r.csv", "namn"),
        (b"namn;typ\r\n", "r.csv", "inga rader"),
        (b"namn\r\nA", "r.pdf", "CSV- eller Excelfil"),
        (b"namn\r\nA", "r.xlsx", "stämmer inte"),
        (b"PK\x03\x04 not really a zip", "r.xlsx", "Excelfil"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(app, content, filename, message):
    with app.app_context(), pytest.raises(DomainError) as refused:
        importing.read_rows(content, filename)
    assert refused.value.field == "file"
    assert message in refused.value.message


def test_size_and_row_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    with app.app_context():
        rows = [row(name=f"O{n}") for n in range(4)]
        with pytest.raises(DomainError, match="fler än 3 rader"):
            importing.read_rows(csv_bytes(rows), "r.csv")
        assert len(importing.read_rows(csv_bytes(rows[:3]), "r.csv").rows) == 3
        monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 200)
        with pytest.raises(DomainError, match="större än"):
            importing.read_rows(b"namn\r\n" + b"A" * 300, "r.csv")


# ---- writing --------------------------------------------------------------------------------


def test_confirming_writes_exactly_the_preview(db):
    actor = UserFactory()
    museum = OrganisationFactory(name="Museet")
    content = csv_bytes([
        row(name="Nya museet", number="556036-0793", contact="Kim", email="kim@nya.se"),
        row(name="Museet", type_="", website="museet.se", contact="Alex", email="a@museet.se"),
        row(name="Trasig", number="1"),
    ])  # fmt: skip
    staged = importing.stage(importing.read_rows(content, "r.csv"), "r.csv", actor)
    db.session.commit()
    assert count(db, Organisation) == 1  # nothing written by the preview
    counts = importing.confirm(staged, actor)
    db.session.commit()
    assert counts == {"new": 1, "matched": 1, "conflict": 0, "invalid": 1, "contacts": 2}
    new = db.session.scalar(select(Organisation).where(Organisation.name == "Nya museet"))
    assert (new.org_number, new.relationship) == ("556036-0793", "prospect")
    assert museum.website == "https://museet.se"
    assert {c.email for c in db.session.scalars(select(Contact))} == {"kim@nya.se", "a@museet.se"}
    assert count(db, OrganisationImport) == 0
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "organisations_imported"))
    assert entry.details["new"] == 1
    assert entry.details["invalid"] == 1


def test_a_register_changed_since_the_preview_is_previewed_again(db):
    actor = UserFactory()
    staged = importing.stage(
        importing.read_rows(csv_bytes([row(name="Ny förening")]), "r.csv"), "r.csv", actor
    )
    db.session.commit()
    OrganisationFactory(name="Ny förening")  # someone added it meanwhile
    with pytest.raises(importing.PreviewOutdated):
        importing.confirm(staged, actor)
    assert staged.verdicts[0]["kind"] == "matched"
    assert count(db, Organisation) == 1
    importing.confirm(staged, actor)  # what they now saw
    assert count(db, Organisation) == 1


def test_the_template_reads_back_as_one_valid_row(app, db):
    content = importing.template_csv().encode("utf-8")
    (verdict,) = importing.classify(importing.read_rows(content, "mall.csv").rows)
    assert verdict["kind"] == "new"
    assert verdict["contact"] == "add"


def test_unconfirmed_imports_are_forgotten_after_a_day(db):
    from datetime import timedelta

    from crm.timeutil import utcnow

    actor = UserFactory()
    staged = importing.stage(importing.read_rows(csv_bytes([row()]), "r.csv"), "r.csv", actor)
    db.session.commit()
    assert importing.forget_old_imports(utcnow()) == 0
    assert importing.forget_old_imports(utcnow() + timedelta(days=1, minutes=1)) == 1
    db.session.expire_all()
    assert db.session.get(OrganisationImport, staged.id) is None


# ---- through HTTP ----------------------------------------------------------------------------


def upload(client, content, filename="register.csv"):
    return client.post(
        "/organisations/import",
        data={"file": (io.BytesIO(content), filename), "submission_id": new_id()},
        content_type="multipart/form-data",
    )


def new_id():
    from crm.core.idempotency import new_submission_id

    return new_submission_id()


def test_upload_preview_confirm(client, db, login_as):
    login_as("secretary_general")
    OrganisationFactory(name="Museet", org_number="556036-0793")
    content = xlsx_bytes([
        row(name="Nya museet", contact="Kim", email="kim@nya.se"),
        row(name="Museet", number="212000-1355"),
        row(name="Trasig", number="556036-0794"),
    ])  # fmt: skip
    response = upload(client, content, "register.xlsx")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    page = preview.text
    for text in ("Ny", "Konflikt", "Ogiltig", "Kontakten Kim läggs till.", "556036-0794",
                 "Registret har ”556036-0793”, filen ”212000-1355”."):  # fmt: skip
        assert text in page, text
    assert count(db, Organisation) == 1
    path = response.headers["Location"]
    done = client.post(path, data={"submission_id": new_id()})
    assert done.status_code == 302
    assert done.headers["Location"] == "/organisations"
    assert "1 nya organisationer" in client.get("/organisations").text
    assert count(db, Organisation) == 2
    assert client.get(path).status_code == 404  # written and forgotten


def test_a_bad_file_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    response = upload(client, b"typ\r\nmuseum")
    assert response.status_code == 422
    assert 'id="file-error"' in response.text
    assert "namn" in response.text
    assert count(db, OrganisationImport) == 0


def test_no_file_is_refused_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    response = client.post("/organisations/import", data={})
    assert response.status_code == 422
    assert "Välj en fil." in response.text


def test_only_the_uploader_sees_and_confirms_their_import(client, db, login_as):
    other = UserFactory()
    staged = importing.stage(importing.read_rows(csv_bytes([row()]), "r.csv"), "r.csv", other)
    db.session.commit()
    login_as("secretary_general")
    assert client.get(f"/organisations/import/{staged.id}").status_code == 404
    assert client.post(f"/organisations/import/{staged.id}").status_code == 404
    assert count(db, Organisation) == 0


def test_the_template_downloads_and_the_page_lists_the_columns(client, db, login_as):
    login_as("secretary_general")
    template = client.get("/organisations/import/mall.csv")
    assert template.headers["Content-Disposition"].startswith("attachment")
    assert template.data.startswith("\ufeffnamn;".encode())
    page = client.get("/organisations/import").text
    assert "kontaktperson" in page
    assert "contact_email" in page
    assert 'href="/organisations/import/mall.csv"' in page


@pytest.mark.parametrize("role", ["chair", "board", "admin"])
def test_only_register_editors_import(client, db, login_as, role):
    login_as(role)
    assert client.get("/organisations/import").status_code == 403
    assert upload(client, csv_bytes([row()])).status_code == 403
    assert count(db, Organisation) == 0


# ---- the command line ---------------------------------------------------------------------


def test_cli_dry_run_writes_nothing_and_lists_every_row(runner, db, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes([row(), row(name="Trasig", type_="pirat")]))
    result = runner.invoke(args=["crm", "import-organisations", str(path), "--dry-run"])
    assert "row 2: new      Kulturens hus" in result.output
    assert "row 3: invalid  Trasig — type: Okänt värde ”pirat”" in result.output
    assert "Would import: 1 new" in result.output
    assert result.exit_code == 1  # a row was skipped
    assert count(db, Organisation) == 0


def test_cli_imports_the_good_rows_and_exits_0_when_all_are_good(runner, db, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(xlsx_bytes([row(contact="Kim", email="kim@kulturenshus.se")]))
    result = runner.invoke(args=["crm", "import-organisations", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported: 1 new, 0 matched, 1 new contacts; skipped 0" in result.output
    assert count(db, Organisation) == 1
    again = runner.invoke(args=["crm", "import-organisations", str(path)])
    assert "row 2: matched  Kulturens hus → Kulturens hus; contact exists" in again.output
    assert count(db, Contact) == 1


def test_cli_refuses_an_unreadable_file(runner, db, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(b"typ\r\nmuseum")
    result = runner.invoke(args=["crm", "import-organisations", str(path)])
    assert result.exit_code == 1
    assert "register.csv: " in result.output
    assert "Traceback" not in result.output


# ---- review: hostile files and second confirmations -------------------------------------------


def test_swedish_excels_csv_in_windows_1252_is_read_as_such(app):
    """Swedish Excel's "CSV (semikolonavgränsad)" is Windows-1252: it is decoded (the preview
    shows the result before anything is written), not refused."""
    content = "namn;typ;kontaktperson;titel\r\nÅsa Öbergs museum;museum;Björn Ärlig;”Chef” €\r\n"
    with app.app_context():
        read = importing.read_rows(content.encode("cp1252"), "register.csv")
    assert read.rows[0]["values"] == {
        "name": "Åsa Öbergs museum", "type": "museum", "contact_name": "Björn Ärlig",
        "contact_title": "”Chef” €",
    }  # fmt: skip


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 40,  # binary garbage named .csv
        b"namn;typ\r\nA\x00B;museum\r\n",  # NUL bytes: not a text file
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    ],
)
def test_binary_content_named_csv_is_refused(app, content):
    with app.app_context(), pytest.raises(DomainError) as refused:
        importing.read_rows(content, "register.csv")
    assert refused.value.field == "file"


def test_blank_lines_do_not_let_rows_past_the_limit_unseen(app, monkeypatch):
    """Four rows with a blank line among them are four rows: refused, not cut to three."""
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    lines = ["namn;typ", "A;museum", "", ";;", "B;museum", "C;museum", "D;museum"]
    with app.app_context(), pytest.raises(DomainError, match="fler än 3 rader"):
        importing.read_rows("\r\n".join(lines).encode(), "r.csv")


def test_blank_lines_do_not_let_xlsx_rows_past_the_limit_unseen(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    rows = [row(name="A"), row(name="", type_=""), row(name="B"), row(name="C"), row(name="D")]
    with app.app_context(), pytest.raises(DomainError, match="fler än 3 rader"):
        importing.read_rows(xlsx_bytes(rows), "r.xlsx")


def test_a_contact_without_address_is_not_added_again_by_a_second_import(db):
    """Importing the same file twice is harmless, also for contacts with no e-mail."""
    actor = UserFactory()
    content = csv_bytes([row(contact="Kim Karlsson", phone="070-123 45 67"),
                         row(contact="kim karlsson")])  # fmt: skip
    first = importing.stage(importing.read_rows(content, "r.csv"), "r.csv", actor)
    assert [v["contact"] for v in first.verdicts] == ["add", "exists"]
    importing.confirm(first, actor)
    again = importing.stage(importing.read_rows(content, "r.csv"), "r.csv", actor)
    assert [v["contact"] for v in again.verdicts] == ["exists", "exists"]
    importing.confirm(again, actor)
    assert count(db, Contact) == 1


def test_confirming_after_the_register_changed_says_so_on_the_page(client, db, login_as):
    login_as("secretary_general")
    path = upload(client, csv_bytes([row(name="Ny förening")])).headers["Location"]
    OrganisationFactory(name="Ny förening")  # someone else added it meanwhile
    db.session.commit()
    response = client.post(path, data={"submission_id": new_id()})
    assert response.status_code == 409
    assert "Registret har ändrats sedan förhandsvisningen" in response.text
    assert "Finns redan" in response.text
    done = client.post(path, data={"submission_id": new_id()})
    assert done.status_code == 302
    assert count(db, Organisation) == 1


def test_a_double_click_on_confirm_writes_once(client, db, login_as):
    login_as("secretary_general")
    path = upload(client, csv_bytes([row(contact="Kim", email="kim@k.se")])).headers["Location"]
    key = new_id()
    first = client.post(path, data={"submission_id": key})
    second = client.post(path, data={"submission_id": key})
    assert (first.status_code, second.status_code) == (302, 302)
    assert second.headers["Location"] == first.headers["Location"]
    assert (count(db, Organisation), count(db, Contact)) == (1, 1)


def test_formula_cells_are_kept_as_text_and_shown_escaped(client, db, login_as):
    login_as("secretary_general")
    evil = '=HYPERLINK("http://evil.example","<script>alert(1)</script>")'
    content = csv_bytes([row(name=evil.replace(";", ","))])
    path = upload(client, content).headers["Location"]
    page = client.get(path).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_a_sheet_claiming_16384_columns_is_read_in_little_memory(app):
    """A sheet's stated dimension (A1:XFD…) makes read-only openpyxl pad every row to 16 384
    cells; only the first columns are read, and rows are not kept whole."""
    import re
    import tracemalloc
    import zipfile

    plain = xlsx_bytes([[f"Museum {n}", "museum"] for n in range(2000)], header=["namn", "typ"])
    wide = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(wide, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"/>', b'<dimension ref="A1:XFD2001"/>', data)
            target.writestr(item.filename, data)
    with app.app_context():
        tracemalloc.start()
        try:
            read = importing.read_rows(wide.getvalue(), "register.xlsx")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(read.rows) == 2000
    assert peak < 40 * 1024 * 1024


def test_what_a_later_row_adds_to_a_new_organisation_is_not_lost(db):
    """Row 3 names the same new organisation as row 2 and gives its number and website: they
    are written, not dropped because row 2 came first."""
    actor = UserFactory()
    content = csv_bytes([
        row(name="Nya museet", contact="Kim", email="kim@nya.se"),
        row(name="Nya museet", type_="", number="556036-0793", website="nya.se"),
        row(name="Annat namn", number="556036-0793"),  # the number is now the first one's
    ])  # fmt: skip
    staged = importing.stage(importing.read_rows(content, "r.csv"), "r.csv", actor)
    assert [v["kind"] for v in staged.verdicts] == ["new", "new", "conflict"]
    importing.confirm(staged, actor)
    new = db.session.scalar(select(Organisation).where(Organisation.name == "Nya museet"))
    assert (new.org_number, new.website) == ("556036-0793", "https://nya.se")
    assert count(db, Organisation) == 1


def test_a_3_mb_file_and_2001_rows_are_refused_with_a_reason(client, db, login_as):
    login_as("secretary_general")
    big = upload(client, b"namn;typ\r\n" + b"A;museum\r\n" * 300_000)
    assert big.status_code == 413
    assert 'id="file-error"' in big.text
    assert "Filen är större än 2 MB." in big.text
    many = upload(client, csv_bytes([row(name=f"Museum {n}") for n in range(2001)]))
    assert many.status_code == 422
    assert "fler än 2000 rader" in many.text
    assert count(db, OrganisationImport) == 0


def test_rows_that_disagree_about_an_existing_organisation_are_in_conflict(db):
    """Two rows may not fill one empty field of a registered organisation with two values,
    nor give one new number to two registered organisations (the last would win, or the
    unique number would fail the whole confirmation)."""
    actor = UserFactory()
    OrganisationFactory(name="Museet")
    OrganisationFactory(name="Galleriet")
    content = csv_bytes([
        row(name="Museet", type_="", website="a.se"),
        row(name="Museet", type_="", website="b.se"),  # disagrees with the row before
        row(name="Museet", type_="", website="a.se"),  # agrees: fine
        row(name="Museet", type_="", number="556036-0793"),
        row(name="Galleriet", type_="", number="556036-0793"),  # the same number again
    ])  # fmt: skip
    staged = importing.stage(importing.read_rows(content, "r.csv"), "r.csv", actor)
    kinds = [v["kind"] for v in staged.verdicts]
    assert kinds == ["matched", "conflict", "matched", "matched", "conflict"]
    importing.confirm(staged, actor)
    museum = db.session.scalar(select(Organisation).where(Organisation.name == "Museet"))
    assert (museum.website, museum.org_number) == ("https://a.se", "556036-0793")


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(app):
    """60 MB of shared strings packed into a few kilobytes: refused by what it would unpack to."""
    import zipfile

    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes([row()]))) as source,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/padding.xml", b"A" * (60 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200_000
    with app.app_context(), pytest.raises(DomainError, match="packas upp"):
        importing.read_rows(bomb.getvalue(), "register.xlsx")


def test_cli_reads_swedish_excels_csv_and_exits_0(runner, db, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes("namn;typ;kontaktperson\r\nÖrebro läns museum;museum;Åke Ärlig\r\n"
                     .encode("cp1252"))  # fmt: skip
    result = runner.invoke(args=["crm", "import-organisations", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Contact.name)) == "Åke Ärlig"
    assert db.session.scalar(select(Organisation.name)) == "Örebro läns museum"
