"""User agents and client hints → browser, OS, device; bots → a reason."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.enrichment.bots import bot_reason
from tracking.enrichment.useragent import UserAgentInfo, parse_user_agent

BROWSERS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        ("Chrome", "126.0", "Windows", "10", "desktop"),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        ("Safari", "17.5", "macOS", "10.15", "desktop"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; rv:109.0) Gecko/20100101 Firefox/116.0",
        ("Firefox", "116.0", "Windows", "10", "desktop"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ("Safari", "17.5", "iOS", "17.5", "mobile"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ("Safari", "17.5", "iOS", "17.5", "tablet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
        ("Chrome", "129.0", "Android", "14", "mobile"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
        ("Chrome", "129.0", "Android", "13", "tablet"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        ("Edge", "126.0", "Windows", "10", "desktop"),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ("Firefox", "128.0", "Linux", "", "desktop"),
    ),
]


@pytest.mark.parametrize(("ua", "expected"), BROWSERS)
def test_real_browsers(ua, expected):
    assert parse_user_agent(ua) == UserAgentInfo(*expected)
    assert bot_reason(ua) is None


def test_client_hints_take_precedence():
    info = parse_user_agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
        sec_ch_ua='"Chromium";v="128", "Google Chrome";v="128", "Not;A=Brand";v="24"',
        sec_ch_ua_mobile="?0",
        sec_ch_ua_platform='"Windows"',
        sec_ch_ua_platform_version='"15.0.0"',
    )
    assert (info.browser, info.browser_version, info.os, info.os_version, info.device_type) == (
        "Chrome",
        "128",
        "Windows",
        "11",
        "desktop",
    )
    assert parse_user_agent("x", sec_ch_ua_mobile="?1").device_type == "mobile"


@pytest.mark.parametrize(
    ("ua", "reason"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "crawler"),
        ("curl/8.4.0", "crawler"),
        ("python-requests/2.31.0", "crawler"),
        ("Wget/1.21", "crawler"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
            "headless",
        ),
        ("", "empty_user_agent"),
        ("   ", "empty_user_agent"),
        ("Mozilla/5.0 " + "x" * 2000, "too_long"),
    ],
)
def test_bots(ua, reason):
    assert bot_reason(ua) == reason


@given(st.text(max_size=300))
def test_never_raises(text):
    parse_user_agent(text)
    bot_reason(text)
