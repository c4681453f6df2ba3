"""No cache keeps a member's pages or exports: `Cache-Control: private, no-store` once logged in."""

from tests.accounts.conftest import client_for


def test_it_marks_a_team_page_private_and_not_stored(alice, team):
    response = client_for(alice).get("/t/acme/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_it_marks_a_partial_private_and_not_stored(alice, team):
    response = client_for(alice).get("/t/acme/keys/", HTTP_HX_REQUEST="true")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_it_marks_a_csv_export_private_and_not_stored(alice, team):
    response = client_for(alice).get("/t/acme/activations/history.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Cache-Control"] == "private, no-store"
    b"".join(response.streaming_content)


def test_it_keeps_a_stricter_header_a_view_set_itself(alice, team):
    # The login page is never_cache (no-cache, no-store, must-revalidate): left as it is.
    response = client_for(alice).get("/accounts/login/")
    assert "must-revalidate" in response.get("Cache-Control", "")
