"""The OpenAPI document's own words: what the API is, and which error codes each answer carries."""

from __future__ import annotations

from http import HTTPStatus

API_DESCRIPTION = (
    "A seat booking service. Anyone may read the events, their seat maps and the change feed; an "
    "account (`POST /auth/register`, then `POST /auth/login`) gets an access token, sent as "
    "`Authorization: Bearer <token>` to lock, release and confirm seats and to order and pay for them. "
    "A lock holds a seat for a short time; an order holds several seats of one event until it is paid, "
    "cancelled or runs out, and a seat is never sold twice. Every error is a JSON object "
    "`{code, message}`, sometimes with `details` (for `validation_error`, the problems by field): "
    "`code` is a stable snake_case word to act on, `message` a sentence for people. Each route lists "
    "the codes of its documented statuses; any route may also answer `busy` or `database_unavailable` "
    "(503, with Retry-After), `method_not_allowed` (405), `payload_too_large` (413), `uri_too_long` "
    "(414), `unsupported_media_type` (415), `headers_too_large` (431), `rate_limited` (429, with "
    "Retry-After), `not_found` (404), `internal_error` (500) or, for any other HTTP error, `error`; "
    "`bad_request` (400), `forbidden` (403) and `conflict` (409) are the general codes the specific "
    "ones refine. "
    'Money is a string with two decimals (`"25.00"`) beside a three-letter `currency`; '
    "times are UTC in ISO 8601."
)

# The codes an HTTP status carries when Flask, webargs or the limits answer before a route's own code.
STATUS_CODES = {
    400: ("validation_error",),
    401: ("unauthorized",),
    403: ("forbidden",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    413: ("payload_too_large",),
    414: ("uri_too_long",),
    415: ("unsupported_media_type",),
    422: ("validation_error",),
    429: ("rate_limited",),
    431: ("headers_too_large",),
    500: ("internal_error",),
    503: ("busy", "database_unavailable"),
}


def error_schema(codes) -> dict:
    """The error shape with `code` limited to `codes`."""
    return {
        "allOf": [{"$ref": "#/components/schemas/Error"}],
        "properties": {"code": {"type": "string", "enum": list(codes)}},
    }


def error_description(codes, why: str | None) -> str:
    """`code, code: why`, the answer's codes first."""
    listed = ", ".join(f"`{code}`" for code in codes)
    return f"{listed}: {why}" if why else listed


def document_shared_responses(spec, register) -> None:
    """Run flask-smorest's `register` of its shared answers, then give each error status its codes
    and the default answer the list of codes any route may answer."""
    register()
    responses = spec.components.responses_lazy
    for name, response in responses.items():
        codes = STATUS_CODES.get(getattr(HTTPStatus, name, None))
        if codes:
            response["description"] = error_description(codes, response["description"])
            response["content"]["application/json"]["schema"] = error_schema(codes)
    everywhere = sorted({code for codes in STATUS_CODES.values() for code in codes} | {"error"})
    responses["DEFAULT_ERROR"]["description"] = "Any other error; its code is one of " + error_description(
        everywhere, None
    )
