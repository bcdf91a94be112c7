from sqlalchemy import func, select

from crm.inquiries.queries import InquiryFilters
from crm.saved_views.models import SavedView
from crm.saved_views.services import save_view
from tests.factories import UserFactory


def views(db):
    return db.session.scalar(select(func.count()).select_from(SavedView))


def test_save_a_view_from_the_list_and_find_it_marked(client, db, login_as):
    login_as("chair")
    response = client.post(
        "/inquiries/views",
        data={"name": "Avböjda i år", "next": "/inquiries?status=declined&year=2026"},
    )
    assert response.status_code == 302
    assert response.location == "/inquiries?status=declined&year=2026"
    page = client.get(response.location).text
    assert (
        'href="/inquiries?status=declined&amp;year=2026" aria-current="page">Avböjda i år' in page
    )
    other = client.get("/inquiries").text
    assert ">Avböjda i år</a>" in other
    assert 'aria-current="page">Avböjda i år' not in other


def test_a_nameless_view_is_422_beside_the_field(client, db, login_as):
    login_as("secretary_general")
    response = client.post("/inquiries/views", data={"name": "", "next": "/inquiries?status=new"})
    assert response.status_code == 422
    assert 'id="view-name-error"' in response.text
    assert views(db) == 0


def test_board_sees_shared_views_but_cannot_save_or_delete(client, db, login_as):
    chair = UserFactory(role="chair")
    shared = save_view("Öppna", InquiryFilters(status="open"), True, chair)
    save_view("Privat", InquiryFilters(status="new"), False, chair)
    db.session.commit()
    shared_id = shared.id
    login_as("board")
    page = client.get("/inquiries").text
    assert ">Öppna</a>" in page
    assert "Privat" not in page
    assert "Spara vyn" not in page
    assert client.post("/inquiries/views", data={"name": "x"}).status_code == 403
    assert client.post(f"/inquiries/views/{shared_id}/delete").status_code == 403
    assert views(db) == 2


def test_someone_elses_personal_view_is_not_found(client, db, login_as):
    chair = UserFactory(role="chair")
    private = save_view("Privat", InquiryFilters(status="new"), False, chair)
    db.session.commit()
    private_id = private.id
    login_as("secretary_general")
    assert client.post(f"/inquiries/views/{private_id}/delete").status_code == 404
    assert views(db) == 1


def test_delete_own_view_returns_to_the_list(client, db, login_as):
    me = login_as("secretary_general")
    view = save_view("Mina", InquiryFilters(assignee="me"), False, me)
    db.session.commit()
    response = client.post(
        f"/inquiries/views/{view.id}/delete", data={"next": "/inquiries?assignee=me"}
    )
    assert response.status_code == 302
    assert response.location == "/inquiries?assignee=me"
    assert views(db) == 0


def test_tampered_stored_args_still_give_the_list_and_a_clean_link(client, db, login_as):
    me = login_as("secretary_general")
    stored = [
        {"endpoint": "x", "_external": "1", "after": "zzz", "status": "new", "q": "\x00" * 5},
        ["not", "a", "dict"],
        None,
        {"year": 10**30, "assignee": 2**70, "overdue": True, "tag": ["x"], "sort": None},
    ]
    for number, args in enumerate(stored):
        db.session.add(SavedView(name=f"Vy {number}", owner_id=me.id, args=args))
    db.session.commit()
    response = client.get("/inquiries")
    assert response.status_code == 200
    assert '<a href="/inquiries?status=new">Vy 0</a>' in response.text
    assert '<a href="/inquiries" aria-current="page">Vy 1</a>' in response.text
    assert '<a href="/inquiries" aria-current="page">Vy 3</a>' in response.text


def test_the_list_costs_the_same_with_few_and_many_saved_views(db, login_as, statements_for):
    me = login_as("secretary_general")
    save_view("Första", InquiryFilters(status="new"), False, me)
    db.session.commit()
    few = statements_for("/inquiries")
    for number in range(20):
        save_view(f"Vy {number}", InquiryFilters(status="open"), number % 2 == 0, me)
    db.session.commit()
    assert statements_for("/inquiries") == few
