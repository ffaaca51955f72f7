"""Page URLs, referrer classification and client IP resolution."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.enrichment.client_ip import (
    first_valid_ip,
    normalize_ip,
    parse_trusted_proxies,
    resolve_client_ip,
)
from tracking.enrichment.pageurl import InvalidUrl, parse_page_url, validate_page_url
from tracking.enrichment.referrers import classify_referrer


def test_page_url_parts_and_utm():
    page = parse_page_url(
        "https://www.Example.com/blog/post?utm_source=news&utm_medium=email&utm_campaign=fall&utm_content=a&utm_term=b&ref=hn#top"
    )
    assert (
        page.hostname,
        page.path,
        page.utm_source,
        page.utm_medium,
        page.utm_campaign,
        page.utm_content,
        page.utm_term,
        page.ref,
    ) == ("example.com", "/blog/post", "news", "email", "fall", "a", "b", "hn")
    assert parse_page_url("app://localhost/login").path == "/login"
    assert parse_page_url("https://x.example/#/settings", keep_fragment=True).path == "/#/settings"
    assert parse_page_url("").path == "/"


@pytest.mark.parametrize(
    "url", ["", "data:text/html,hi", "https://x.example/" + "a" * 2000, "http://[::1"]
)
def test_invalid_page_urls(url):
    with pytest.raises(InvalidUrl):
        validate_page_url(url)


@pytest.mark.parametrize(
    ("referrer", "kwargs", "expected"),
    [
        (
            "https://www.google.com/search?q=x",
            {},
            ("google.com/search", "Google", "Organic Search"),
        ),
        (
            "https://m.facebook.com/some-path",
            {},
            ("m.facebook.com/some-path", "Facebook", "Organic Social"),
        ),
        (
            "https://some.domain.com/example-path",
            {},
            ("some.domain.com/example-path", "some.domain.com", "Referral"),
        ),
        ("https://example.com/other", {"page_host": "www.example.com"}, ("", "", "Direct")),
        ("", {}, ("", "", "Direct")),
        ("", {"utm_source": "newsletter", "utm_medium": "email"}, ("", "newsletter", "Email")),
        ("", {"utm_source": "google", "utm_medium": "cpc"}, ("", "Google", "Paid Search")),
        (
            "",
            {"utm_source": "facebook", "utm_medium": "paid_social"},
            ("", "Facebook", "Paid Social"),
        ),
        ("", {"ref_param": "producthunt"}, ("", "producthunt", "Referral")),
        (
            "https://news.ycombinator.com/item?id=1",
            {},
            ("news.ycombinator.com/item", "Hacker News", "Organic Social"),
        ),
    ],
)
def test_referrer_classification(referrer, kwargs, expected):
    info = classify_referrer(referrer, **kwargs)
    assert (info.referrer, info.source, info.channel) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4:5678 ", "1.2.3.4"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("nope", None),
        ("", None),
        ("1.2.3", None),
    ],
)
def test_normalize_ip(value, expected):
    assert normalize_ip(value) == expected


def test_first_valid_ip_and_resolution_rules():
    trusted = parse_trusted_proxies("10.0.0.0/8, ::1, bogus")
    assert trusted == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    assert first_valid_ip("unknown, 203.0.113.5, 10.0.0.1") == "203.0.113.5"
    # The protocol's own field wins.
    assert (
        resolve_client_ip(
            "10.0.0.2",
            forwarded_for="198.51.100.1",
            trusted_proxies=trusted,
            protocol_ip="203.0.113.9",
        )
        == "203.0.113.9"
    )
    # A trusted proxy's header is believed, read from the right past trusted hops...
    assert (
        resolve_client_ip(
            "10.0.0.2", forwarded_for="198.51.100.1, 10.0.0.2", trusted_proxies=trusted
        )
        == "198.51.100.1"
    )
    # ...so what the client put to the left of the address the proxy appended is ignored...
    assert (
        resolve_client_ip(
            "10.0.0.2", forwarded_for="6.6.6.6, 198.51.100.1", trusted_proxies=trusted
        )
        == "198.51.100.1"
    )
    # ...an unreadable entry ends the walk at the nearest trusted hop...
    assert (
        resolve_client_ip(
            "10.0.0.2", forwarded_for="198.51.100.1, garbage, 10.0.0.3", trusted_proxies=trusted
        )
        == "10.0.0.3"
    )
    # ...a request from inside the trusted network is its leftmost hop...
    assert (
        resolve_client_ip("10.0.0.2", forwarded_for="10.0.0.5, 10.0.0.3", trusted_proxies=trusted)
        == "10.0.0.5"
    )
    # ...and an untrusted sender's header is not believed at all.
    assert (
        resolve_client_ip("192.0.2.7", forwarded_for="198.51.100.1", trusted_proxies=trusted)
        == "192.0.2.7"
    )
    assert resolve_client_ip("::ffff:192.0.2.7") == "192.0.2.7"
    assert resolve_client_ip("", protocol_ip="garbage") == ""


TRUSTED = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1/32, fd00::/8")
untrusted = st.one_of(
    st.ip_addresses(v=4).filter(lambda a: not any(a in n for n in TRUSTED if n.version == 4)),
    st.ip_addresses(v=6).filter(
        lambda a: a.ipv4_mapped is None and not any(a in n for n in TRUSTED if n.version == 6)
    ),
).map(str)
trusted_hop = st.one_of(
    st.ip_addresses(network="10.0.0.0/8"), st.ip_addresses(network="fd00::/8")
).map(str)


@given(
    spoofed=st.lists(st.one_of(st.text(max_size=20), untrusted), max_size=5),
    client=untrusted,
    hops=st.lists(trusted_hop, max_size=4),
)
def test_the_client_is_the_rightmost_untrusted_hop_whatever_it_prepends(spoofed, client, hops):
    """Oracle: a chain [client-chosen…, client, proxies…] always resolves to the client."""
    header = ", ".join([*[s.replace(",", "") for s in spoofed], client, *hops])
    resolved = resolve_client_ip("127.0.0.1", forwarded_for=header, trusted_proxies=TRUSTED)
    assert resolved == normalize_ip(client)


@given(st.text(max_size=200), st.text(max_size=50))
def test_never_raise(text, host):
    parse_page_url(text)
    classify_referrer(text, page_host=host, utm_source=host)
    resolve_client_ip(text, forwarded_for=text, protocol_ip=host)
