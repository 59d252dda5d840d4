"""Website addresses as Twenty stores them in a LINKS field.

Twenty lower-cases an http(s) URL's origin (scheme, host, a non-default port) and removes one
trailing `/` before storing it (its `lowercaseUrlOriginAndRemoveTrailingSlash`); a company's
domain is unique on that stored form. Comparing or searching with anything else misses.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import idna

__all__ = ["ascii_host", "stored_link"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def stored_link(url: str) -> str:
    """`url` as Twenty stores it; text that is not an http(s) URL is returned unchanged."""
    scheme_end = url.find("://")
    if scheme_end == -1:
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    origin = f"{scheme}://{ascii_host(parts.hostname)}"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        origin = f"{origin}:{port}"
    ends = [i for i in (url.find(mark, scheme_end + 3) for mark in "/\\?#") if i != -1]
    return (origin + url[min(ends, default=len(url)) :]).removesuffix("/")


def ascii_host(host: str) -> str:
    """A host name in ASCII as a browser's URL parser writes it: UTS 46 (non-transitional,
    `straße` keeps its sharp s); an emoji label, refused by IDNA 2008, by the older codec."""
    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()
