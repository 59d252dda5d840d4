"""The Twenty client's TLS verification: never weaker than httpx's default."""

from __future__ import annotations

import ssl

import pytest

from adapters.twenty._http import tls_context


@pytest.mark.parametrize(
    ("url", "environ"),
    [
        ("https://crm.example.com", {}),
        ("HTTPS://crm.example.com", {}),
        ("http://127.0.0.1:3000", {"HTTPS_PROXY": "https://proxy.example.com:3128"}),
        ("http://127.0.0.1:3000", {"all_proxy": "http://proxy.example.com:3128"}),
    ],
    ids=["https", "https-upper", "http-behind-proxy", "http-behind-proxy-lower"],
)
def test_https_and_proxied_http_keep_httpx_default_verification(
    url: str, environ: dict[str, str]
) -> None:
    assert tls_context(url, environ) is True


def test_plain_http_gets_a_context_that_trusts_nothing_but_still_verifies() -> None:
    # Building httpx's default context costs ~0.1 s of every command's start-up; for an
    # http:// URL without a proxy no TLS is ever used, and if it were, this one fails closed.
    context = tls_context("http://127.0.0.1:3000", {"PATH": "/usr/bin"})
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.get_ca_certs() == []
