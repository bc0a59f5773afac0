"""The OpenAPI schema's shared parts (drf-spectacular): the API-key security scheme and the problem-details error
responses every operation can give, added to each operation by a postprocessing hook so no view can forget them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Identifies the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do about it."},
        "errors": {
            "type": "object",
            "description": "Per field, the messages for that field (validation errors only).",
            "additionalProperties": {},
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_ERRORS = {
    "400": "Invalid request: the body or parameters failed validation (see `errors`).",
    "401": "No API key, or an unknown, revoked or expired one.",
    "403": "The key lacks the scope, or the caller may not do this.",
    "404": "Not found, or not visible to this caller.",
    "409": "Conflict with the object's current state, or an Idempotency-Key still in use.",
    "422": "Idempotency-Key reused with a different request.",
    "429": "Rate limit reached; retry after the number of seconds in Retry-After.",
}
_READ_ERRORS = ("400", "401", "403", "404", "429")


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api_auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tnd_<prefix>_<secret>",
            "description": "An API key from the organisation's API settings page, sent as a bearer token.",
        }


def add_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: every operation documents the problem-details errors it can return."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = _READ_ERRORS if method == "get" else tuple(_ERRORS)
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": _ERRORS[code], "content": problem})
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Makes a retry safe: the same key and body return the first response.",
                    }
                )
    return result
