"""Who may open what (ASVS V4): every route × every role, and the role table itself."""

import pytest

from crm.auth.permissions import ROLE_PERMISSIONS, Permission, Role, role_can
from crm.models import (
    ClosureDay,
    Contact,
    FollowUp,
    Note,
    OutboxMessage,
    OutboxStatus,
    ReplyTemplate,
    RoutingRule,
    SavedView,
    Tag,
)
from crm.timeutil import local_today, utcnow
from crm.workdays.services import next_working_day
from tests.factories import InquiryFactory, OrganisationFactory, UserFactory, make_attachment

PUBLIC = {
    "core.home", "core.healthz", "core.set_language", "auth.login", "static",
    "public.inquiry_form", "public.receipt", "public.status", "public.withdraw", "public.privacy",
    "public.answer", "public.file",
    "account.calendar_feed", "public.accessibility", "core.mail_health",
    "auth.forgot_password", "auth.set_password", "auth.second_factor",
}  # fmt: skip
ROLES = ["anonymous", "secretary_general", "chair", "board", "admin"]

# GET path -> expected status for: anonymous, secretary general, chair, board, admin
ACCESS = {
    "/start": (302, 302, 302, 302, 302),
    "/inbox": (302, 200, 200, 200, 403),
    "/inquiries": (302, 200, 200, 200, 403),
    "/inquiries/new": (302, 200, 200, 403, 403),
    "/follow-ups": (302, 200, 200, 200, 403),
    "/inquiries/{reference}": (302, 200, 200, 200, 403),
    "/inquiries/SAM-1999-9999": (302, 404, 404, 404, 403),
    "/inquiries/{reference}/status?status=declined": (302, 200, 200, 403, 403),
    "/taggar": (302, 200, 200, 403, 403),
    "/taggar/{tag_id}": (302, 200, 200, 403, 403),
    "/taggar/{tag_id}/ta-bort": (302, 200, 200, 403, 403),
    "/taggar/999999": (302, 404, 404, 403, 403),
    "/admin/users": (302, 403, 403, 403, 200),
    "/admin/audit": (302, 403, 403, 403, 200),
    "/admin/audit?action=login_failed&actor=1&date=2026-01-01&before=5": (302, 403, 403, 403, 200),
    "/admin/mail": (302, 403, 403, 403, 200),
    "/admin/closure-days": (302, 403, 403, 403, 200),
    "/admin/routing": (302, 200, 403, 403, 200),
    "/admin/routing/new": (302, 200, 403, 403, 200),
    "/admin/routing/{rule_id}": (302, 200, 403, 403, 200),
    "/admin/routing/{rule_id}/delete": (302, 200, 403, 403, 200),
    "/organisations": (302, 200, 200, 200, 403),
    "/organisations/new": (302, 200, 403, 403, 403),
    "/organisations/{organisation_id}": (302, 200, 200, 200, 403),
    "/organisations/{organisation_id}/edit": (302, 200, 403, 403, 403),
    "/organisations/{organisation_id}/merge": (302, 200, 403, 403, 403),
    "/organisations/999999": (302, 404, 404, 404, 403),
    "/pipeline": (302, 200, 200, 200, 403),
    "/dashboard": (302, 200, 200, 200, 403),
    "/export/inquiries.csv": (302, 200, 200, 403, 403),
    "/export/inquiries.xlsx": (302, 200, 200, 403, 403),
    "/dashboard/arsrapport": (302, 200, 200, 200, 403),
    "/dashboard/arsrapport?year=abc": (302, 200, 200, 200, 403),
    "/dashboard/arsrapport.xlsx": (302, 200, 200, 200, 403),
    "/account": (302, 200, 200, 200, 200),
    "/inbox/unsorted": (302, 200, 200, 403, 403),
    "/inquiries/{reference}/files/{attachment_id}": (302, 200, 200, 200, 403),
    "/inquiries/{reference}/files/999999": (302, 404, 404, 404, 403),
    "/inbox/unsorted/999999/files/{attachment_id}": (302, 404, 404, 403, 403),
    "/admin/attachments": (302, 403, 403, 403, 200),
    "/admin/users/new": (302, 403, 403, 403, 200),
    "/admin/users/{user_id}": (302, 403, 403, 403, 200),
    "/admin/users/999999": (302, 403, 403, 403, 404),
    "/account/tvastegsverifiering": (302, 200, 200, 200, 200),
    "/admin/personuppgifter": (302, 403, 403, 403, 200),
    # search everything: whoever reads inquiries or the register; an exact reference redirects
    "/sok?q=museum": (302, 200, 200, 200, 403),
    "/sok?q={reference}": (302, 302, 302, 302, 403),
    "/organisations/dubbletter": (302, 200, 403, 403, 403),
    "/organisations/import": (302, 200, 403, 403, 403),
    "/organisations/import/mall.csv": (302, 200, 403, 403, 403),
    "/organisations/import/999999": (302, 404, 403, 403, 403),
    # shared templates: template:manage (secretary general, admin); personal: inquiry:edit
    "/svarsmallar": (302, 200, 200, 403, 200),
    "/svarsmallar/ny": (302, 200, 200, 403, 200),
    "/svarsmallar/{template_id}": (302, 200, 403, 403, 200),
    "/svarsmallar/{template_id}/ta-bort": (302, 200, 403, 403, 200),
    "/svarsmallar/{personal_template_id}": (302, 404, 404, 403, 404),
    "/svarsmallar/999999": (302, 404, 404, 403, 404),
}
# POST paths -> expected status for the same roles; the body is empty, so 400/422 (refused
# by validation) or 302 (done) mean the role was let in, 403 that it was not.
POST_ACCESS = {
    # nothing selected: back to the list (303)
    "/export/inquiries.csv": (302, 303, 303, 403, 403),
    "/export/inquiries.xlsx": (302, 303, 303, 403, 403),
    "/admin/routing/{rule_id}/move": (302, 400, 403, 403, 400),
    "/admin/routing/{rule_id}/delete": (302, 200, 403, 403, 200),
    "/inquiries/new": (302, 422, 422, 403, 403),
    "/inquiries/bulk": (302, 422, 422, 403, 403),
    "/inquiries/views": (302, 422, 422, 403, 403),
    "/inquiries/views/{view_id}/delete": (302, 302, 302, 403, 403),
    "/inquiries/views/999999/delete": (302, 404, 404, 403, 403),
    "/inquiries/{reference}/tags": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/tags/{tag_id}/remove": (302, 302, 302, 403, 403),
    "/organisations/{organisation_id}/tags": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/tags/{tag_id}/remove": (302, 302, 403, 403, 403),
    "/taggar/{tag_id}/namn": (302, 422, 422, 403, 403),
    "/taggar/{tag_id}/sla-ihop": (302, 422, 422, 403, 403),
    "/taggar/{tag_id}/ta-bort": (302, 302, 302, 403, 403),
    "/inquiries/{reference}/status": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/priority": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/assign": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/conflict": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/notes": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/notes/{note_id}": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/reply": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/answer-read": (302, 302, 302, 403, 403),
    "/inquiries/{reference}/contacts": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/follow-ups": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/organisation": (302, 422, 422, 403, 403),
    "/inquiries/{reference}/diarienummer": (302, 422, 422, 403, 403),
    "/svarsmallar/ny": (302, 422, 422, 403, 422),
    "/svarsmallar/{template_id}": (302, 302, 403, 403, 302),  # empty: saved as it was
    "/svarsmallar/{template_id}/ta-bort": (302, 302, 403, 403, 302),
    "/svarsmallar/{personal_template_id}": (302, 404, 404, 403, 404),
    "/svarsmallar/{personal_template_id}/ta-bort": (302, 404, 404, 403, 404),
    "/follow-ups": (302, 422, 422, 403, 403),
    # the follow-up is another secretary general's: only follow_up:manage_all lets one in
    "/follow-ups/{follow_up_id}/done": (302, 302, 403, 403, 403),
    "/follow-ups/{follow_up_id}/reschedule": (302, 302, 403, 403, 403),
    "/organisations/new": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/edit": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/merge": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/contacts": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/contacts/{contact_id}": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/contacts/{contact_id}/delete": (302, 302, 403, 403, 403),
    "/organisations/{organisation_id}/notes": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/notes/{org_note_id}": (302, 422, 403, 403, 403),
    "/organisations/{organisation_id}/follow-ups": (302, 422, 403, 403, 403),
    "/organisations/import": (302, 422, 403, 403, 403),
    "/organisations/import/999999": (302, 404, 403, 403, 403),
    # the inquiry has no organisation: refused beside the button (422) for who may save
    "/inquiries/{reference}/spara-kontakt": (302, 422, 403, 403, 403),
    "/account": (302, 422, 422, 422, 422),
    "/account/calendar": (302, 302, 302, 302, 302),
    "/account/calendar/revoke": (302, 302, 302, 302, 302),
    "/admin/mail/{message_id}/send-again": (302, 403, 403, 403, 302),
    "/admin/mail/{message_id}/discard": (302, 403, 403, 403, 302),
    "/admin/mail/999999/send-again": (302, 403, 403, 403, 404),
    "/admin/mail/999999/discard": (302, 403, 403, 403, 404),
    "/admin/closure-days": (302, 403, 403, 403, 422),
    "/admin/closure-days/{closure_day_id}/delete": (302, 403, 403, 403, 302),
    "/admin/closure-days/999999/delete": (302, 403, 403, 403, 404),
    "/inbox/unsorted/999999/attach": (302, 404, 404, 403, 403),
    "/inbox/unsorted/999999/discard": (302, 404, 404, 403, 403),
    "/inquiries/new/eml": (302, 422, 422, 403, 403),
    "/admin/users/new": (302, 403, 403, 403, 422),
    "/admin/users/{user_id}/role": (302, 403, 403, 403, 422),
    "/admin/users/{user_id}/deactivate": (302, 403, 403, 403, 302),
    "/admin/users/{user_id}/reactivate": (302, 403, 403, 403, 302),
    "/admin/users/{user_id}/invitation": (302, 403, 403, 403, 302),
    "/admin/users/{user_id}/two-factor/reset": (302, 403, 403, 403, 302),
    "/account/tvastegsverifiering": (302, 422, 422, 422, 422),
    "/admin/personuppgifter": (302, 403, 403, 403, 422),
    "/admin/personuppgifter/export": (302, 403, 403, 403, 302),
    "/admin/personuppgifter/radera": (302, 403, 403, 403, 302),
    "/admin/users/two-factor-policy": (302, 403, 403, 403, 302),
}
ENDPOINTS = {
    "core.start", "inquiries.inbox", "inquiries.detail", "users.index", "routing.rules",
    "routing.new", "routing.edit", "routing.move", "routing.delete", "auth.logout",
    "inquiries.index", "inquiries.new", "inquiries.change_status", "inquiries.set_priority",
    "inquiries.assign", "inquiries.declare_conflict", "inquiries.add_note", "inquiries.edit_note",
    "inquiries.reply", "inquiries.acknowledge_answer", "inquiries.log_contact",
    "inquiries.add_follow_up", "inquiries.link_organisation", "inquiries.bulk",
    "tags.tag_inquiry", "tags.untag_inquiry", "tags.tag_organisation", "tags.untag_organisation",
    "tags.index", "tags.detail", "tags.rename", "tags.merge", "tags.delete",
    "saved_views.save", "saved_views.delete",
    "follow_ups.index", "follow_ups.complete", "follow_ups.reschedule",
    "partners.index", "partners.new", "partners.detail", "partners.edit", "partners.merge",
    "partners.add_contact", "partners.edit_contact", "partners.delete_contact", "partners.add_note",
    "partners.add_follow_up", "partners.edit_note", "reports.pipeline_board",
    "reports.dashboard_page",
    "reports.export_inquiries", "reports.export_inquiries_xlsx", "reports.yearly_report_page",
    "reports.yearly_report_xlsx", "account.profile", "account.new_calendar_link",
    "account.revoke_calendar_link", "audit.index", "mail.queue", "mail.send_again",
    "mail.discard", "workdays.closure_days", "workdays.add_closure_day",
    "workdays.delete_closure_day", "mailbox.unsorted", "mailbox.attach", "mailbox.discard",
    "mailbox.upload_eml", "attachments.inquiry_file", "attachments.unsorted_file",
    "attachments.quarantine", "users.new", "users.detail", "users.change_role",
    "users.deactivate", "users.reactivate", "users.resend_invitation", "users.reset_two_factor",
    "account.two_factor_page", "privacy.person", "privacy.export", "privacy.erase",
    "users.two_factor_policy", "search.results", "partners.duplicates",
    "partner_import.upload", "partner_import.preview", "partner_import.confirm",
    "partner_import.template", "inquiries.save_submitter_contact",
    "reply_templates.index", "reply_templates.new",
    "reply_templates.edit", "reply_templates.delete", "inquiries.set_counterpart_reference",
}  # fmt: skip


def test_every_staff_route_is_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC == ENDPOINTS


@pytest.fixture
def objects(db):
    target = UserFactory(role="secretary_general")
    rule = RoutingRule(position=1, name="r", target_user_id=target.id)
    db.session.add(rule)
    inquiry = InquiryFactory()
    note = Note(inquiry_id=inquiry.id, author_id=target.id, body="x")
    follow_up = FollowUp(title="f", due_on=utcnow().date(), owner_id=target.id)
    organisation = OrganisationFactory()
    db.session.add_all([note, follow_up])
    db.session.flush()
    contact = Contact(organisation_id=organisation.id, name="c")
    org_note = Note(organisation_id=organisation.id, author_id=target.id, body="y")
    message = OutboxMessage(
        kind="receipt", recipient="x@exempel.se", subject="s", body_text="b",
        status=OutboxStatus.FAILED, inquiry_id=inquiry.id,
    )  # fmt: skip
    # upcoming, so that the admin may remove it
    closure_day = ClosureDay(day=next_working_day(local_today(), ()), reason="Personaldag")
    db.session.add_all([contact, message, org_note, closure_day])
    attachment = make_attachment(inquiry=inquiry)
    tag = Tag(name="Remiss", key="remiss")
    view = SavedView(name="Delad", owner_id=target.id, shared=True, args={"status": "new"})
    db.session.add_all([tag, view])
    shared_template = ReplyTemplate(name="Delad", text_sv="Hej {kontakt}")
    # another secretary general's own: nobody else may even see it
    personal_template = ReplyTemplate(name="Egen", text_sv="Hej", owner_id=target.id)
    db.session.add_all([shared_template, personal_template])
    db.session.commit()
    return {"reference": inquiry.reference, "rule_id": rule.id, "note_id": note.id,
            "follow_up_id": follow_up.id, "organisation_id": organisation.id,
            "contact_id": contact.id, "message_id": message.id,
            "org_note_id": org_note.id, "closure_day_id": closure_day.id,
            "attachment_id": attachment.id, "user_id": target.id,
            "tag_id": tag.id, "view_id": view.id, "template_id": shared_template.id,
            "personal_template_id": personal_template.id}  # fmt: skip


def _as(role, login_as):
    if role != "anonymous":
        login_as(role)


@pytest.mark.parametrize("path", ACCESS)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_v4_1_1_access_table(client, login_as, objects, path, role_index):
    _as(ROLES[role_index], login_as)
    response = client.get(path.format(**objects))
    assert response.status_code == ACCESS[path][role_index], (ROLES[role_index], path)
    if ROLES[role_index] == "anonymous":
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", POST_ACCESS)
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_v4_1_1_post_access_table(client, login_as, objects, path, role_index):
    _as(ROLES[role_index], login_as)
    response = client.post(path.format(**objects))
    assert response.status_code == POST_ACCESS[path][role_index], (ROLES[role_index], path)


def test_secretary_general_and_chair_share_inquiry_rights_board_only_reads():
    for permission in (Permission.INQUIRY_VIEW, Permission.INQUIRY_EDIT, Permission.INQUIRY_ASSIGN):
        assert role_can(Role.SECRETARY_GENERAL, permission)
        assert role_can(Role.CHAIR, permission)
    assert ROLE_PERMISSIONS[Role.BOARD] == {
        Permission.INQUIRY_VIEW,
        Permission.ORGANISATION_VIEW,
        Permission.REPORT_VIEW,
    }
    assert not role_can(Role.BOARD, Permission.EXPORT_PERSONAL_DATA)
    assert not role_can(Role.ADMIN, Permission.INQUIRY_VIEW)


def test_v4_1_5_unknown_role_holds_nothing():
    assert not any(role_can("king", permission) for permission in Permission)
    assert not any(role_can(None, permission) for permission in Permission)


def test_navigation_shows_only_what_the_role_may_use(client, login_as):
    login_as("board")
    page = client.get("/inbox").text
    assert 'href="/inbox"' in page
    assert 'href="/admin/users"' not in page
    assert 'href="/admin/routing"' not in page
    assert 'href="/admin/mail"' not in page
    assert 'href="/admin/closure-days"' not in page


def test_admin_navigation(client, login_as):
    login_as("admin")
    page = client.get("/admin/users").text
    assert 'href="/admin/users"' in page
    assert 'href="/admin/routing"' in page
    assert 'href="/admin/mail"' in page
    assert 'href="/admin/closure-days"' in page
    assert 'href="/inbox"' not in page
