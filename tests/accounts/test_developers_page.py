"""The partner documentation page: public, generated from the real scopes, events and rate limit, and its signature
verification example really verifies what Tandem sends."""

from __future__ import annotations

import html
import re
import time

import pytest
from django.test import Client

from accounts.models import API_SCOPES, WEBHOOK_EVENT_TYPES
from accounts.webhooks import webhook_signature
from tests.factories import UserFactory

URL = "/developers/"


def _page(client: Client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def _verify_function(page: str):
    """The Python example of the page, run as a partner would paste it."""
    match = re.search(r'<code class="language-python" id="verify-example">(.*?)</code>', page, re.DOTALL)
    assert match is not None
    namespace: dict = {}
    exec(html.unescape(match.group(1)), namespace)  # noqa: S102 - our own documentation's example
    return namespace["tandem_signature_is_valid"]


@pytest.mark.django_db
def test_the_page_is_public(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 200
    assert response.context["user"].is_authenticated is False


@pytest.mark.django_db
def test_the_page_also_answers_signed_in_users(client: Client) -> None:
    client.force_login(UserFactory())

    assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_every_scope_is_listed(client: Client) -> None:
    page = _page(client)

    for scope, _ in API_SCOPES:
        assert f"<code>{scope}</code>" in page
    assert "<code>audit:write</code>" not in page
    assert "<code>compliance:write</code>" not in page


@pytest.mark.django_db
def test_every_webhook_event_is_listed(client: Client) -> None:
    page = _page(client)

    for event in WEBHOOK_EVENT_TYPES:
        assert f'<th scope="row"><code>{event}</code></th>' in page


@pytest.mark.django_db
def test_the_rate_limit_is_the_configured_one(client: Client, settings) -> None:
    settings.API_RATE_LIMIT = "42/min"

    page = _page(client)

    assert '<span id="rate-limit">42/min</span>' in page
    assert "Retry-After" in page
    assert "429" in page


@pytest.mark.django_db
def test_each_topic_has_its_section_and_the_reference_is_linked(client: Client) -> None:
    page = _page(client)

    for section in ("overview", "authentication", "idempotency", "pagination", "errors", "rate-limits", "webhooks"):
        assert f'id="{section}"' in page
        assert f'href="#{section}"' in page
    assert 'href="/api/docs/"' in page
    assert 'href="/api/redoc/"' in page
    assert "Authorization: Bearer tnd_" in page
    assert "Idempotency-Key" in page
    assert "Idempotent-Replayed: true" in page
    assert "24 hours" in page
    assert "422" in page and "409" in page
    assert '"next"' in page and '"previous"' in page
    assert "at most 200" in page
    assert "application/problem+json" in page
    assert '"errors": {' in page
    assert "<code>t=&lt;unix time&gt;,v1=&lt;hex&gt;</code>" in page
    assert "HMAC-SHA256" in page
    assert "http://testserver/api/v1/" in page


@pytest.mark.django_db
def test_the_verification_example_accepts_what_tandem_signs(client: Client) -> None:
    verify = _verify_function(_page(client))
    body = b'{"data":{"id":981,"object":"bid"},"id":"0b8f","type":"bid.created"}'
    now = int(time.time())

    header = webhook_signature(payload=body, secret="whsec_partner", timestamp=now)

    assert verify(body, header, "whsec_partner") is True


@pytest.mark.django_db
def test_the_verification_example_refuses_forgeries_and_replays(client: Client) -> None:
    verify = _verify_function(_page(client))
    body = b'{"id":"0b8f","type":"bid.created"}'
    now = int(time.time())
    good = webhook_signature(payload=body, secret="whsec_partner", timestamp=now)
    old = webhook_signature(payload=body, secret="whsec_partner", timestamp=now - 600)

    assert verify(body + b" ", good, "whsec_partner") is False
    assert verify(body, good, "whsec_someone_else") is False
    assert verify(body, old, "whsec_partner") is False
    assert verify(body, "", "whsec_partner") is False
    assert verify(body, f"t={now}", "whsec_partner") is False


@pytest.mark.django_db
def test_the_page_is_accessible_markup(client: Client) -> None:
    page = _page(client)

    assert page.count("<h1") == 1
    assert '<nav class="docs-toc" aria-labelledby="docs-toc-title">' in page
    assert page.count("<caption") == 3
    assert 'scope="col"' in page and 'scope="row"' in page
    assert '<pre tabindex="0"><code' in page  # a code sample scrolls sideways from the keyboard too
