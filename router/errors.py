"""The router's errors, one tree under `RouterError`.

    RouterError
    ├── ProblemError            reaches an API client as problem+json
    │   ├── AuthenticationFailed    401: the signed call does not hold
    │   ├── Forbidden               403: the endpoint is for another kind of party
    │   ├── NotFound                404: absent, or not addressed to the caller
    │   ├── Conflict                409: the reference is taken by another body
    │   ├── PayloadTooLarge         413
    │   ├── UnsupportedMediaType    415
    │   ├── ValidationFailed        422: per-field messages
    │   └── InvalidTransition       409: the referral's state forbids the action
    ├── DirectoryError          a directory file does not hold
    └── DeliveryError           a channel could not deliver
        ├── RetryLater              recoverable: requeue with backoff
        └── PermanentFailure        retrying cannot help: park and alert

Messages never carry report content: the tree is shared by the API, the logs
and the queue consumers, all of which must stay free of it.
"""

from __future__ import annotations

PROBLEM_BASE = "urn:referral-router:problem:"


class RouterError(Exception):
    """Root of every error the router raises on purpose."""


class ProblemError(RouterError):
    """An error that is answered to the client as `application/problem+json`."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def extra(self) -> dict:
        """Members added to the problem document beyond the standard ones."""
        return {}


class AuthenticationFailed(ProblemError):
    status = 401
    slug = "unauthenticated"
    title = "The signed call was refused"


class Forbidden(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Not for this party"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidTransition(ProblemError):
    status = 409
    slug = "invalid-transition"
    title = "The referral's state does not allow this"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "The body is too large"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "The body must be JSON"


class ValidationFailed(ProblemError):
    status = 422
    slug = "validation-failed"
    title = "The body does not follow the contract"

    def __init__(self, errors: dict, detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields are invalid; see errors.")
        self.errors = errors

    def extra(self) -> dict:
        return {"errors": self.errors}


class DirectoryError(RouterError):
    """A directory document is malformed; the message names the entry."""


class DeliveryError(RouterError):
    """A delivery channel could not hand a referral over."""


class RetryLater(DeliveryError):
    """The destination may accept later: a timeout, a 5xx, a refused connection."""


class PermanentFailure(DeliveryError):
    """The destination refused for good, or the message cannot be read."""
