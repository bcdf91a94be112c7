"""References stay unique and gap-free when many people submit at the same moment."""

import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import select

from crm.models import Inquiry, OutboxMessage
from crm.timeutil import utcnow
from tests.factories import UserFactory
from tests.public.helpers import form_data

SUBMISSIONS = 50


def test_parallel_submissions_get_consecutive_unique_references(app, committed):
    UserFactory(role="secretary_general")
    committed.session.remove()
    forms = [form_data(app, email=f"person{n}@exempel.se") for n in range(SUBMISSIONS)]
    # Ten threads release each round of submissions at the same instant.
    start = Barrier(10)

    def submit(data):
        client = app.test_client()
        start.wait(timeout=30)
        return client.post("/samverkan", data=data).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(submit, forms))

    assert statuses == [302] * SUBMISSIONS
    with app.app_context():
        references = committed.session.scalars(select(Inquiry.reference)).all()
        mails = committed.session.scalars(select(OutboxMessage.id)).all()
    year = utcnow().year
    assert len(references) == SUBMISSIONS
    assert sorted(references) == [f"SAM-{year}-{n:04d}" for n in range(1, SUBMISSIONS + 1)]
    assert len(mails) == 2 * SUBMISSIONS


def test_the_same_submission_sent_at_the_same_moment_is_stored_once(app, committed):
    """A double click that reaches two workers at once: one inquiry, one receipt, both answered."""
    UserFactory(role="secretary_general")
    committed.session.remove()
    data = form_data(app, submission_id="double-click-0123456789")
    start = Barrier(4)

    def submit(_):
        client = app.test_client()
        start.wait(timeout=30)
        response = client.post("/samverkan", data=data)
        return response.status_code, client.get("/samverkan/tack").text

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(submit, range(4)))

    assert [status for status, _ in answers] == [302] * 4
    references = {re.search(r"SAM-\d{4}-\d{4}", page).group(0) for _, page in answers}
    with app.app_context():
        stored = committed.session.scalars(select(Inquiry.reference)).all()
        receipts = committed.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.kind == "receipt")
        ).all()
    assert len(stored) == 1
    assert references == set(stored)
    assert len(receipts) == 1
