"""The administration pages run the same number of statements with 5 rows as with 205.

The workspace, register and report pages have their own such tests next to their features.
"""

import pytest

from crm.audit.models import AuditLog
from crm.routing.models import RoutingRule
from tests.factories import OrganisationFactory, UserFactory


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/routing", "/account"])
def test_admin_pages_query_count_does_not_grow(db, login_as, statements_for, path):
    admin = login_as("admin")
    start = db.session.query(RoutingRule).count()

    def add(n):
        users = UserFactory.build_batch(n, role="secretary_general")
        organisations = OrganisationFactory.build_batch(n)
        db.session.add_all([*users, *organisations])
        db.session.flush()
        for index, (user, organisation) in enumerate(zip(users, organisations, strict=True)):
            db.session.add(
                AuditLog(actor_id=admin.id, actor_label=admin.email, action="user_created",
                         object_type="user", object_id=str(user.id), details={})
            )  # fmt: skip
            db.session.add(
                RoutingRule(position=start + index, name=f"Regel {index}",
                            target_user_id=user.id, organisation_id=organisation.id)
            )  # fmt: skip
        db.session.commit()

    add(5)
    small = statements_for(path)
    start += 5
    add(200)
    assert statements_for(path) == small
