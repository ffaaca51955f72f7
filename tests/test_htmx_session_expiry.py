"""A session that expires while a page is open: its HTMX requests (panels, live badge,
install box) send the whole page to the log-in, which returns to it, instead of swapping
the log-in page into a panel."""

from urllib.parse import parse_qs, urlsplit

from tests.factories import SiteFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_htmx_request_after_logout_redirects_the_whole_page(client, db):
    site = SiteFactory()
    page = f"http://testserver/sites/{site.public_id}/?period=7d&path=%2Fpricing"
    response = client.get(
        f"/sites/{site.public_id}/panels/pages?period=7d", HTTP_HX_CURRENT_URL=page, **HTMX
    )
    assert response.status_code == 200
    target = urlsplit(response["HX-Redirect"])
    assert target.path == "/accounts/login/"
    assert parse_qs(target.query) == {
        "next": [f"/sites/{site.public_id}/?period=7d&path=%2Fpricing"]
    }
    assert response.content == b""  # nothing for HTMX to swap in


def test_plain_requests_keep_the_normal_redirect(client, db):
    site = SiteFactory()
    response = client.get(f"/sites/{site.public_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "HX-Redirect" not in response


def test_without_a_current_url_the_log_in_returns_home(client, db):
    site = SiteFactory()
    response = client.get(f"/sites/{site.public_id}/live/badge", **HTMX)
    assert parse_qs(urlsplit(response["HX-Redirect"]).query) == {"next": ["/"]}
