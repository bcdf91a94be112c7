"""Requests from individuals on the admin's page (issue 17): search, preview, download, erase
with a preview; audited; the address never in a URL."""

import io
import json
import zipfile

from sqlalchemy import select

from crm.audit.models import AuditLog
from crm.models import Inquiry
from tests.factories import InquiryFactory, make_attachment

EMAIL = "asa.oberg@hembygd-sormland.se"


def her_inquiry(db):
    inquiry = InquiryFactory(email=EMAIL, contact_name="Åsa Öberg")
    make_attachment(inquiry=inquiry, filename="plan.pdf")
    db.session.commit()
    return inquiry


def test_the_admin_finds_everything_held_and_what_an_erase_would_change(client, db, login_as):
    inquiry = her_inquiry(db)
    login_as("admin")
    assert client.get("/admin/personuppgifter").status_code == 200
    page = client.post("/admin/personuppgifter", data={"email": EMAIL.upper()}).text
    assert inquiry.reference in page
    assert "1 förfrågningar anonymiseras" in page
    assert "1 filer raderas" in page
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert "gdpr_export" in actions  # looking is an access


def test_the_download_is_a_zip_with_the_data_and_the_files(client, db, login_as):
    her_inquiry(db)
    login_as("admin")
    response = client.post("/admin/personuppgifter/export", data={"email": EMAIL})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(bundle.read("export.json"))
    assert data["inquiries"][0]["email"] == EMAIL
    [entry] = data["files"]
    assert bundle.read(f"files/{entry['file']}").startswith(b"%PDF")


def test_erasure_needs_the_confirmation_and_then_erases(client, db, login_as):
    inquiry = her_inquiry(db)
    login_as("admin")
    refused = client.post("/admin/personuppgifter/radera", data={"email": EMAIL},
                          follow_redirects=True)  # fmt: skip
    assert "Bekräfta innan uppgifterna raderas." in refused.text
    assert db.session.get(Inquiry, inquiry.id).email == EMAIL
    done = client.post("/admin/personuppgifter/radera", data={"email": EMAIL, "confirm": "y"},
                       follow_redirects=True)  # fmt: skip
    assert "Personens uppgifter är raderade: 1 förfrågningar anonymiserade" in done.text
    db.session.expire_all()
    assert db.session.get(Inquiry, inquiry.id).email == "–"
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "gdpr_erase").order_by(AuditLog.id.desc())
    )
    assert entry.details["dry_run"] is False
    assert entry.actor_label != "flask crm gdpr-erase"  # the admin, by name


def test_only_the_admin_handles_requests_from_individuals(client, db, login_as):
    login_as("secretary_general")
    assert client.get("/admin/personuppgifter").status_code == 403
    assert client.post("/admin/personuppgifter/export", data={"email": EMAIL}).status_code == 403
