"""Where a webhook may be sent. URLs must be https and resolve only to public internet addresses, checked when
subscribing and again before each POST, which then connects to the address it checked (so DNS cannot be switched to
an internal host in between). settings.WEBHOOKS_ALLOW_PRIVATE_URLS lifts both rules for development and tests.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import ApplicationError

WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_URL_MAX_LENGTH = 2000
RESPONSE_READ_LIMIT = 4096


@dataclass(frozen=True)
class WebhookTarget:
    """Where a POST goes: the URL's parts and, unless private URLs are allowed, the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str | None


def _url_refused(message: str) -> ApplicationError:
    return ApplicationError(message, code="webhook_url_refused", field_errors={"url": [message]})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def webhook_target(*, url: str) -> WebhookTarget:
    """Check `url` against the rules (module doc) and resolve it; ApplicationError with a `url` field error
    saying what to change otherwise."""
    allow_private = bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)
    url = url.strip()
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        raise _url_refused(f"Keep the URL under {WEBHOOK_URL_MAX_LENGTH} characters.")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise _url_refused("The URL's port must be a number from 1 to 65535.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _url_refused("Enter the full URL of your endpoint, starting with https://.")
    if parts.scheme != "https" and not allow_private:
        raise _url_refused("Webhook URLs must use https://, so events travel encrypted.")
    if parts.username or parts.password:
        raise _url_refused("Leave credentials out of the URL: check the Tandem-Signature header instead.")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if allow_private:
        return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, address=None)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _url_refused(f"{host} could not be found in DNS: check the URL's host name.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    private = [address for address in addresses if not _is_public(address)]
    if private or not addresses:
        raise _url_refused(
            f"{host} resolves to {private[0] if private else 'no address'}, which is private, loopback, link-local "
            "or reserved: webhooks are sent only to public internet addresses."
        )
    return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever DNS says by now."""

    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address or target.host

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is still verified for the URL's host name (SNI too)."""

    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.address = target.address or target.host

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def _http_post(target: WebhookTarget, *, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST without following redirects; (status code, the start of the response body)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_READ_LIMIT).decode("utf-8", "replace")
        return response.status, text
    finally:
        connection.close()
