"""Browser, OS and device type from a User-Agent (and client hints), cached.

Built on ua-parser 1.0 (with its Rust backend ~20 µs a parse) instead of
``user_agents.parse`` (~470 µs): results are cached by input, so a busy site pays
the parse once per distinct user agent.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import ua_parser


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    browser: str
    browser_version: str
    os: str
    os_version: str
    device_type: str  # "desktop", "mobile", "tablet" or "" when unknown


UNKNOWN = UserAgentInfo("", "", "", "", "")
MAX_LENGTH = 1000

BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
    "HeadlessChrome": "Headless Chrome",
}
OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "Chrome OS", "Ubuntu": "Linux", "Fedora": "Linux"}
MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "Firefox OS", "KaiOS"}
TABLET_DEVICE = re.compile(r"iPad|Kindle|Silk|Tablet|Nexus (7|9|10)|SM-T|Tab ", re.I)
PREFERRED_BRANDS = ("Google Chrome", "Microsoft Edge", "Opera", "Brave", "Vivaldi", "Chromium")
BRAND = re.compile(r'"([^"]+)";v="([^"]+)"')
CLIENT_HINT_BROWSERS = {"Google Chrome": "Chrome", "Microsoft Edge": "Edge"}


def _version(*parts: str | None) -> str:
    kept = [p for p in parts if p]
    return ".".join(kept[:2])


def _device_type(os_name: str, device_family: str, user_agent: str) -> str:
    if TABLET_DEVICE.search(device_family) or TABLET_DEVICE.search(user_agent):
        return "tablet"
    if os_name == "Android" and "Mobile" not in user_agent:
        return "tablet"  # Android browsers leave out "Mobile" on tablets
    if os_name in MOBILE_OS or "Mobi" in user_agent:
        return "mobile"
    if os_name in {"Windows", "macOS", "Linux", "Chrome OS", "FreeBSD", "OpenBSD"}:
        return "desktop"
    return ""


def _brand_from_hints(sec_ch_ua: str) -> tuple[str, str]:
    brands = dict(BRAND.findall(sec_ch_ua or ""))
    for name in PREFERRED_BRANDS:
        if name in brands:
            return CLIENT_HINT_BROWSERS.get(name, name), brands[name]
    return "", ""


@functools.lru_cache(maxsize=10_000)
def parse_user_agent(
    user_agent: str,
    *,
    sec_ch_ua: str = "",
    sec_ch_ua_mobile: str = "",
    sec_ch_ua_platform: str = "",
    sec_ch_ua_platform_version: str = "",
) -> UserAgentInfo:
    """Browser, OS (name and major.minor version) and device type; never raises."""
    if not isinstance(user_agent, str) or not user_agent:
        return UNKNOWN
    user_agent = user_agent[:MAX_LENGTH]
    try:
        result = ua_parser.parse(user_agent)
    except Exception:  # the parser must never fail a hit
        return UNKNOWN
    agent, system, device = result.user_agent, result.os, result.device
    browser = (
        BROWSER_NAMES.get(agent.family, agent.family) if agent and agent.family != "Other" else ""
    )
    browser_version = _version(agent.major, agent.minor) if browser and agent else ""
    os_name = (
        OS_NAMES.get(system.family, system.family) if system and system.family != "Other" else ""
    )
    os_version = _version(system.major, system.minor) if os_name and system else ""
    device_type = _device_type(os_name, device.family if device else "", user_agent)

    platform = (sec_ch_ua_platform or "").strip().strip('"')
    if platform:
        os_name = OS_NAMES.get(platform, platform)
        version = (sec_ch_ua_platform_version or "").strip().strip('"')
        if os_name == "Windows" and version:
            major = version.split(".", 1)[0]
            os_version = "11" if major.isdigit() and int(major) >= 13 else "10"
        elif version:
            os_version = _version(*version.split(".")[:2])
    hinted_browser, hinted_version = _brand_from_hints(sec_ch_ua)
    if hinted_browser:
        browser, browser_version = hinted_browser, hinted_version
    if sec_ch_ua_mobile.strip() == "?1":
        device_type = "mobile"
    return UserAgentInfo(
        browser[:64], browser_version[:32], os_name[:64], os_version[:32], device_type
    )
