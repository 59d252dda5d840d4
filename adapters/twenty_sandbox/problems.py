"""Twenty's REST error envelope `{statusCode, error, messages[], code?}` as one exception."""

from __future__ import annotations

from typing import Any

_STATUS_NAMES = {
    400: "BadRequestException",
    401: "UNAUTHENTICATED",
    403: "ForbiddenException",
    404: "NotFoundException",
    429: "HttpException",
    500: "InternalServerErrorException",
    501: "NotImplementedException",
    503: "ServiceUnavailableException",
}


class ApiProblem(Exception):
    """An answer Twenty gives as an error; the app turns it into the JSON envelope.

    Attributes:
        status: the HTTP status code.
        body: the JSON body sent as-is.
        headers: extra response headers (rate-limit headers in the v2 style).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "statusCode": status,
            "error": error or _STATUS_NAMES.get(status, "HttpException"),
            "messages": [message],
        }
        if code is not None:
            self.body["code"] = code
        if extra:
            self.body.update(extra)
        self.headers = headers or {}


def bad_request(message: str, code: str | None = None) -> ApiProblem:
    """A 400 `BadRequestException` with one message."""
    return ApiProblem(400, message, code=code)


def not_found(message: str = "Record not found") -> ApiProblem:
    """A 404 `NotFoundException`."""
    return ApiProblem(404, message)
