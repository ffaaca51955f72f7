"""Site settings → Imports (issue #16): upload Plausible's export, progress, cancel, delete,
and the Plausible CSV export download; Owners and Admins only."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stats.models import Import, ImportedDay
from stats.tasks import import_run
from tests.factories import SiteFactory, SiteMembershipFactory, UserFactory
from tests.stats.test_plausible_import import make_zip, small_export


@pytest.fixture
def site(db):
    return SiteFactory(hostname="dummy.site", timezone="UTC")


@pytest.fixture
def owner(site):
    user = UserFactory()
    SiteMembershipFactory(site=site, user=user, role="owner")
    return user


def url(site, tail: str = "") -> str:
    return f"/sites/{site.public_id}/settings/imports{tail}"


def upload(client, site, data: bytes, name: str = "export.zip"):
    return client.post(url(site), {"files": SimpleUploadedFile(name, data)})


def test_an_owner_uploads_and_the_task_imports_it(
    client, site, owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    client.force_login(owner)
    data = make_zip(small_export())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, site, data)
    assert response.status_code == 302
    record = Import.objects.get()
    assert (record.status, record.site_id, record.created_by_id) == ("pending", site.pk, owner.pk)
    assert len(callbacks) == 1  # the task is queued once the upload is committed
    page = client.get(url(site)).content.decode()
    assert record.pk in page and 'hx-trigger="every 2s"' in page  # polls while pending
    Import.objects.filter(pk=record.pk).update(status="running", percent=42)
    partial = client.get(url(site, "/progress")).content.decode()
    assert 'value="42"' in partial and "<progress" in partial
    Import.objects.filter(pk=record.pk).update(status="pending", percent=0)
    assert import_run.run(record.pk) == "complete"  # what the worker runs
    page = client.get(url(site)).content.decode()
    assert "complete" in page and "every 2s" not in page
    assert ImportedDay.objects.filter(imported_id=record.pk).count() == 2
    # The same file again doubles nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, site, data)
    assert callbacks == [] and Import.objects.count() == 1


def test_bad_uploads_are_answered_on_the_page(client, site, owner, settings):
    client.force_login(owner)
    response = client.post(url(site), {})
    assert response.status_code == 400 and "Choose the zip" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 10
    response = upload(client, site, make_zip(small_export()))
    assert response.status_code == 400 and "IMPORT_MAX_BYTES" in response.content.decode()
    assert not Import.objects.exists()


def test_a_failed_import_shows_its_file_line_and_column(
    client, site, owner, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    client.force_login(owner)
    files = {**small_export(), "imported_devices_20240101_20240102.csv": "date,device\nx,y\n"}
    with django_capture_on_commit_callbacks(execute=False):
        upload(client, site, make_zip(files))
    record = Import.objects.get()
    assert import_run.run(record.pk) == "failed"
    page = client.get(url(site)).content.decode()
    assert "imported_devices_20240101_20240102.csv: line 2, column date: not a day" in page
    assert not ImportedDay.objects.exists()


def test_cancel_and_delete_from_the_settings(client, site, owner):
    client.force_login(owner)
    record = Import.objects.create(id="imp_x", site=site, kind="plausible", file_hash="a" * 64)
    assert client.post(url(site, "/imp_x/cancel")).status_code == 302
    assert Import.objects.get(pk="imp_x").status == "cancelled"
    assert client.post(url(site, "/imp_x/delete")).status_code == 302
    assert not Import.objects.filter(pk=record.pk).exists()
    assert client.post(url(site, "/imp_x/delete")).status_code == 404


def test_an_import_of_another_site_is_not_found(client, site, owner):
    other = SiteFactory(hostname="other.site")
    Import.objects.create(id="imp_other", site=other, kind="plausible", file_hash="b" * 64)
    client.force_login(owner)
    assert client.post(url(site, "/imp_other/cancel")).status_code == 404
    assert client.post(url(site, "/imp_other/delete")).status_code == 404
    assert Import.objects.get(pk="imp_other").status == "pending"


@pytest.mark.parametrize("role", ["viewer", None])
def test_viewers_and_strangers_neither_import_nor_export(client, site, role):
    user = UserFactory()
    if role:
        SiteMembershipFactory(site=site, user=user, role=role)
    client.force_login(user)
    expected = 403 if role else 404
    assert client.get(url(site)).status_code == expected
    assert upload(client, site, make_zip(small_export())).status_code == expected
    response = client.post(url(site, "/export"), {"from": "2024-01-01", "to": "2024-01-02"})
    assert response.status_code == expected
    assert not Import.objects.exists()


def test_an_admin_downloads_the_export(client, site):
    admin = UserFactory()
    SiteMembershipFactory(site=site, user=admin, role="admin")
    client.force_login(admin)
    response = client.post(url(site, "/export"), {"from": "2024-01-01", "to": "2024-01-31"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="dummy_site_20240101_20240131.zip"' in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "imported_visitors_20240101_20240131.csv" in names and len(names) == 11
    bad = client.post(url(site, "/export"), {"from": "2024-02-01", "to": "2024-01-01"})
    assert bad.status_code == 400


def test_the_dashboard_merges_imported_data_with_a_note_and_a_switch(client, site, owner):
    from stats import imports

    files = [("export.zip", make_zip(small_export()))]
    record, _ = imports.import_create(site=site, kind="plausible", files=files)
    imports.plausible_import_run(record.pk, files)
    client.force_login(owner)
    base = f"/sites/{site.public_id}/?period=custom&from=2024-01-01&to=2024-01-02"
    page = client.get(base).content.decode()
    assert "Includes imported data (Plausible) for 2 days" in page
    assert "imports=0" in page  # the switch
    off = client.get(base + "&imports=0").content.decode()
    assert "Imported data is left out." in off and "Include imported data" in off
    # A filter imported tables cannot answer: the note says why.
    page = client.get(base + "&language=de").content.decode()
    assert "Imported data is left out: imported data has no &#x27;language&#x27;" in page
    # A range without imported days: no note.
    assert "data-imports-note" not in client.get(f"/sites/{site.public_id}/").content.decode()
