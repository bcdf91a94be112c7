import time

from crm.public.spam import form_started_token


def form_data(app, **overrides):
    """A valid public form submission, shown 10 s before it is sent."""
    with app.test_request_context():
        started = form_started_token(time.time() - 10)
    data = {
        "organisation_name": "Sörmlands hembygdsförbund",
        "organisation_type": "civil_society",
        "organisation_number": "",
        "contact_name": "Åsa Öberg",
        "email": "asa.oberg@hembygd-sormland.se",
        "phone": "070-123 45 67",
        "category": "exhibition",
        "regions": ["04", "03"],
        "subject": "Vandringsutställning om sörmländska gårdar",
        "message": "Hej!\nVi vill gärna göra en utställning tillsammans.\n\nMvh Åsa",
        "addressee": "no_preference",
        "consent": "y",
        "website": "",
        "started": started,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def submit_for_status_path(app, client) -> str:
    """Send the public form; the path of the status page, as the receipt links to it."""
    import re

    client.post("/samverkan", data=form_data(app))
    link = re.search(
        r'href="http://localhost(/samverkan/status/[^"]+)"', client.get("/samverkan/tack").text
    )
    return link.group(1)
