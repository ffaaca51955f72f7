"""Funnels on the dashboard: create, chart, dropped sessions, edit and delete."""

from stats.models import Funnel
from stats.selectors import public_session_id, public_visitor_id
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.stats.funnels.support import RANGE_QS, STEPS

# --- dashboard ----------------------------------------------------------------------------


def test_dashboard_creates_a_funnel_and_charts_its_steps(client, owner, site, traffic):
    client.force_login(owner)
    nav = client.get(f"/sites/{site.public_id}/").content.decode()
    assert f'href="/sites/{site.public_id}/funnels"' in nav
    assert client.get(f"/sites/{site.public_id}/funnels/new").status_code == 200
    response = client.post(
        f"/sites/{site.public_id}/funnels/new",
        {
            "name": "Checkout",
            "steps": "page:/pricing\nevent:Signup\npage:/checkout|/cart",
            "window": "1d",
            "order": "sequential",
            "scope": "visitor",
        },
    )
    funnel = Funnel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sites/{site.public_id}/funnels/{funnel.pk}"
    assert funnel.steps == [
        {"name": "/pricing", "alternatives": [{"type": "page", "path": "/pricing"}]},
        {"name": "Signup", "alternatives": [{"type": "event", "name": "Signup", "props": {}}]},
        {"name": "/checkout or /cart", "alternatives": STEPS[2]["alternatives"]},
    ]
    page = client.get(f"{response['Location']}?{RANGE_QS}&compare=previous&breakdown=country")
    assert page.status_code == 200
    html = page.content.decode()
    visitors = [
        int(part.split("</strong>")[0]) for part in html.split("<strong data-visitors>")[1:]
    ]
    assert visitors == [3, 2, 1]
    assert "10.00 EUR" in html
    assert f"/funnels/{funnel.pk}/dropped?step=2" in html
    listed = client.get(f"/sites/{site.public_id}/funnels").content.decode()
    assert "Checkout" in listed


def test_dashboard_dropped_sessions_link_to_their_details(client, owner, site, traffic, funnel):
    client.force_login(owner)
    page = client.get(f"/sites/{site.public_id}/funnels/{funnel.pk}/dropped?step=2&{RANGE_QS}")
    assert page.status_code == 200
    link = f"/sites/{site.public_id}/sessions/{public_visitor_id(2)}/{public_session_id(21)}"
    assert link in page.content.decode()
    session = client.get(f"{link}?{RANGE_QS}")
    assert session.status_code == 200
    assert "/cart" in session.content.decode()
    for step in ("1", "9", "x"):
        missing = client.get(f"/sites/{site.public_id}/funnels/{funnel.pk}/dropped?step={step}")
        assert missing.status_code == 404


def test_dashboard_refuses_bad_definitions(client, owner, site):
    client.force_login(owner)
    response = client.post(
        f"/sites/{site.public_id}/funnels/new",
        {"name": "F", "steps": "page:/only-one", "window": "1d", "order": "sequential"},
    )
    assert response.status_code == 400
    assert "2 to 8 steps" in response.content.decode()
    assert not Funnel.objects.exists()


def test_dashboard_edit_and_delete_are_for_owners_and_admins(client, owner, site, funnel):
    viewer = UserFactory()
    SiteMembershipFactory(site=site, user=viewer, role="viewer")
    client.force_login(viewer)
    base = f"/sites/{site.public_id}/funnels"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}/{funnel.pk}?{RANGE_QS}").status_code == 200
    assert client.get(f"{base}/new").status_code == 403
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 403
    edited = client.post(f"{base}/{funnel.pk}/edit", {"name": "X", "steps": "page:/a\npage:/b"})
    assert edited.status_code == 403
    assert Funnel.objects.get().name == "Checkout"
    client.force_login(owner)
    edited = client.post(
        f"{base}/{funnel.pk}/edit",
        {"name": "Renamed", "steps": "page:/a\npage:/b", "window": "30m", "order": "strict"},
    )
    assert edited.status_code == 302
    funnel.refresh_from_db()
    assert (funnel.name, funnel.order, funnel.window_seconds) == ("Renamed", "strict", 1800)
    assert "page:/a\npage:/b" in client.get(f"{base}/{funnel.pk}/edit").content.decode()
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 302
    assert not Funnel.objects.exists()


def test_dashboard_funnels_of_another_tenant_do_not_exist(client, site, funnel):
    stranger = UserFactory()
    client.force_login(stranger)
    base = f"/sites/{site.public_id}/funnels"
    for url in (base, f"{base}/{funnel.pk}", f"{base}/{funnel.pk}/edit", f"{base}/new"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/{funnel.pk}/delete").status_code == 404
    # The funnel id of another site under one's own site is no funnel either.
    mine = SiteFactory()
    SiteMembershipFactory(site=mine, user=stranger, role="owner")
    assert client.get(f"/sites/{mine.public_id}/funnels/{funnel.pk}").status_code == 404
    assert client.post(f"/sites/{mine.public_id}/funnels/{funnel.pk}/delete").status_code == 404
    assert Funnel.objects.filter(pk=funnel.pk).exists()
