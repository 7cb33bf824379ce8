"""The exceptions of anist.

Every exception carries ``.code``, the stable snake-case code of the Rust
error (``cf_check_char``, ``gateway_quota_exceeded``, ``voucher_refused``…),
``.kind``, the kind of failure the class is derived from (``throttled``,
``invalid_codice_fiscale``…; the C library derives its status from the
same kind), and ``.message``, the text of the error (which never contains a
full codice fiscale, a name, a key or a token). ERRORS.md lists every code
with its kind, its class and its C status.
"""

from __future__ import annotations

from typing import Dict, List, Optional


class AnistError(Exception):
    """Base of every error raised by anist."""

    code: str
    kind: str
    message: str

    def __init__(self, message: str, code: str = "anist_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = "local"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidInput(AnistError, ValueError):
    """A value that is not valid (an identifier, a school year, a document).

    ``.position`` is the 1-based position the error applies to, when there is one.
    """

    position: Optional[int]

    def __init__(
        self, message: str, code: str = "invalid_input", position: Optional[int] = None
    ) -> None:
        super().__init__(message, code)
        self.position = position


class InvalidCodiceFiscale(InvalidInput):
    """A string that is not a valid codice fiscale (codes ``cf_*``)."""


class ConfigError(AnistError):
    """The configuration file cannot be used (codes ``config_*``)."""


class AuthError(AnistError):
    """No voucher could be obtained from PDND (codes ``voucher_*``).

    ``.correlation_id`` is PDND's id of the refusal (quote it to PDND's
    support); ``.diagnosis`` lists the failed pre-flight checks of the
    configuration's client assertion (``rule``, ``status``, ``subject``,
    ``detail``, ``fix``), empty when not available.
    """

    correlation_id: Optional[str]
    diagnosis: List[Dict[str, str]]

    def __init__(
        self,
        message: str,
        code: str = "voucher_refused",
        correlation_id: Optional[str] = None,
        diagnosis: Optional[List[Dict[str, str]]] = None,
    ) -> None:
        super().__init__(message, code)
        self.correlation_id = correlation_id
        self.diagnosis = list(diagnosis or [])


class QuotaExceeded(AnistError):
    """The e-service quota is exhausted: not retryable until ``.reset`` seconds."""

    reset: Optional[float]
    govway_id: Optional[str]

    def __init__(
        self,
        message: str,
        code: str = "gateway_quota_exceeded",
        reset: Optional[float] = None,
        govway_id: Optional[str] = None,
    ) -> None:
        super().__init__(message, code)
        self.reset = reset
        self.govway_id = govway_id


class RateLimited(AnistError):
    """The call was throttled: retry after ``.retry_after`` seconds."""

    retry_after: Optional[float]
    govway_id: Optional[str]

    def __init__(
        self,
        message: str,
        code: str = "gateway_throttled",
        retry_after: Optional[float] = None,
        govway_id: Optional[str] = None,
    ) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after
        self.govway_id = govway_id


class GatewayError(AnistError):
    """The gateway refused the call or failed (``gateway_refused``,
    ``gateway_server_error``), or ANIST refused the question with its own
    reason (``anist_request_rejected``, ``status`` 400, the reason in the
    message). Quote ``.govway_id`` to the erogatore."""

    status: Optional[int]
    title: Optional[str]
    govway_id: Optional[str]

    def __init__(
        self,
        message: str,
        code: str = "gateway_refused",
        status: Optional[int] = None,
        title: Optional[str] = None,
        govway_id: Optional[str] = None,
    ) -> None:
        super().__init__(message, code)
        self.status = status
        self.title = title
        self.govway_id = govway_id


class NetworkError(AnistError):
    """No answer: a timeout, a broken connection, or a request that could not
    be sent at all (``call_not_sent``, ``voucher_not_sent``). ``.sent`` is
    ``"no"``, ``"maybe"`` or ``"yes"`` (whether the request may have been
    processed)."""

    sent: str

    def __init__(self, message: str, code: str = "gateway_network", sent: str = "maybe") -> None:
        super().__init__(message, code)
        self.sent = sent


class ServiceError(AnistError):
    """The e-service answered something unusable, or a massive job failed."""


class BulkError(AnistError):
    """A bulk job could not run (codes ``bulk_*``): input, journal, output."""


class AuditError(AnistError):
    """The audit trail cannot be opened, written or exported, or was
    tampered with (codes ``audit_*``): a lookup it cannot record is not made."""


class SidiError(AnistError):
    """A SIDI synchronisation refused or failed (codes ``sidi_*``, including
    an unreadable interchange file). ``sidi_locked``: the field is
    synchronised from SIDI; change it on SIDI and synchronise again.
    """
class DeniedError(AnistError):
    """The user's role, ente or profile does not allow the action (codes
    ``rivestizione_denied``, ``rivestizione_profile``): the message says who
    may do it."""


class RivestizioneError(AnistError):
    """A rivestizione request cannot move that way from its state (code
    ``rivestizione_state``: e.g. approving a rejected request)."""


class InfanziaError(AnistError):
    """The 0-3 survey form refused an operation (codes ``infanzia_*``): the
    window is not open or closed, the form is not in a state that allows it,
    or the check found problems. ``.problems`` lists them all (``code``,
    ``service``, ``message``) for ``infanzia_check_failed``, else is empty."""

    problems: List[Dict[str, str]]

    def __init__(
        self,
        message: str,
        code: str = "infanzia_check_failed",
        problems: Optional[List[Dict[str, str]]] = None,
    ) -> None:
        super().__init__(message, code)
        self.problems = list(problems or [])


__all__ = [
    "AnistError",
    "InvalidInput",
    "InvalidCodiceFiscale",
    "ConfigError",
    "AuthError",
    "QuotaExceeded",
    "RateLimited",
    "GatewayError",
    "NetworkError",
    "ServiceError",
    "BulkError",
    "AuditError",
    "SidiError",
    "InfanziaError",
    "DeniedError",
    "RivestizioneError",
]
