"""Domain errors become clear answers: a page that says what to do, or RFC 9457 problem details on the API."""

import pytest
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions

from accounts.models import Organization
from core.api import exception_handler
from core.errors import ApplicationError
from core.middleware import ApplicationErrorMiddleware


def _page_response(exception: Exception, path: str = "/somewhere/"):
    request = RequestFactory().get(path)
    request.htmx = False  # type: ignore[attr-defined]
    return ApplicationErrorMiddleware(lambda r: None).process_exception(request, exception)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_application_error_on_a_page_shows_its_message_with_its_status() -> None:
    response = _page_response(ApplicationError("This gig is no longer open.", status=409))

    assert response.status_code == 409
    assert "This gig is no longer open." in response.content.decode()


@pytest.mark.django_db
def test_does_not_exist_on_a_page_is_a_404() -> None:
    response = _page_response(Organization.DoesNotExist())

    assert response.status_code == 404


def test_page_middleware_leaves_api_errors_to_the_api_handler() -> None:
    assert _page_response(ApplicationError("x"), path="/api/v1/gigs/") is None


def test_api_application_error_is_problem_details() -> None:
    response = exception_handler(
        ApplicationError("Bid is above the budget.", code="bid_over_budget", field_errors={"amount": ["Too high."]}),
        {},
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.data == {
        "type": "https://tandem.example/problems/bid-over-budget",
        "title": "Invalid request",
        "status": 400,
        "detail": "Bid is above the budget.",
        "errors": {"amount": ["Too high."]},
    }


def test_api_conflict_and_not_found_and_validation_shapes() -> None:
    conflict = exception_handler(ApplicationError("Already accepted.", code="conflict", status=409), {})
    missing = exception_handler(Organization.DoesNotExist(), {})
    http404 = exception_handler(Http404(), {})
    invalid = exception_handler(exceptions.ValidationError({"title": ["This field is required."]}), {})

    assert (conflict.status_code, conflict.data["title"]) == (409, "Conflict")
    assert (missing.status_code, missing.data["type"]) == (404, "https://tandem.example/problems/not-found")
    assert http404.status_code == 404
    assert invalid.status_code == 400
    assert invalid.data["errors"] == {"title": ["This field is required."]}


def test_api_throttled_keeps_retry_after() -> None:
    response = exception_handler(exceptions.Throttled(wait=30), {})

    assert response.status_code == 429
    assert response["Retry-After"] == "30"


@pytest.mark.django_db
def test_application_error_on_an_htmx_request_is_an_alert_retargeted_at_the_flash_area() -> None:
    request = RequestFactory().post("/somewhere/")
    request.htmx = True  # type: ignore[attr-defined]

    response = ApplicationErrorMiddleware(lambda r: None).process_exception(  # type: ignore[arg-type]
        request, ApplicationError("Timesheet already submitted.", status=409)
    )

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    html = response.content.decode()
    assert 'role="alert"' in html and "Timesheet already submitted." in html
    assert "<html" not in html
