"""Every model, imported in one place so that Alembic and the CLI see the whole schema."""

from crm.activity.models import FollowUp, Note, TimelineEvent
from crm.audit.models import AuditLog
from crm.auth.models import User
from crm.conversation.models import InboundMail, Message
from crm.core.idempotency import FormSubmission
from crm.inquiries.models import ConflictDeclaration, Inquiry, InquiryRegion, ReferenceCounter
from crm.mail.models import OutboxMessage, OutboxStatus
from crm.partners.models import Contact, Organisation, OrganisationImport
from crm.reply_templates.models import ReplyTemplate
from crm.routing.models import RoutingRule
from crm.saved_views.models import SavedView
from crm.tags.models import Tag
from crm.workdays.models import ClosureDay

__all__ = [
    "AuditLog",
    "ClosureDay",
    "ConflictDeclaration",
    "Contact",
    "FollowUp",
    "FormSubmission",
    "InboundMail",
    "Inquiry",
    "InquiryRegion",
    "Message",
    "Note",
    "Organisation",
    "OrganisationImport",
    "OutboxMessage",
    "OutboxStatus",
    "ReferenceCounter",
    "ReplyTemplate",
    "RoutingRule",
    "SavedView",
    "Tag",
    "TimelineEvent",
    "User",
]
