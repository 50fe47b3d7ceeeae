class CertificateError(Exception):
    """Base for every certificate rule a caller can break."""


class CertificateNotHeld(CertificateError, ValueError):
    pass


class CertificateStillHasProblems(CertificateError, ValueError):
    pass


class CertificateAlreadyRevoked(CertificateError, ValueError):
    pass


class CertificateNotIssued(CertificateError, ValueError):
    pass


class CertificateStateChanged(CertificateError, ValueError):
    """Someone else changed the certificate first; nothing was done."""


class CertificateNotReissuable(CertificateError, ValueError):
    pass


class ReasonRequired(CertificateError, ValueError):
    pass


class NotAllowed(CertificateError, PermissionError):
    pass


class ResendLimitReached(CertificateError, PermissionError):
    pass


class AddressSuppressed(CertificateError, ValueError):
    pass


class InvalidAddress(CertificateError, ValueError):
    pass


NOT_HELD = "only a held certificate can be approved or rejected"
ALREADY_REVOKED = "this certificate is already revoked"
NOT_ISSUED = "this certificate was never issued: there is nothing to revoke or suspend"
NOT_REVOKED = "this certificate is not revoked"
NOT_ACTIVE = "only an active certificate can be suspended"
NOT_SUSPENDED = "this certificate is not suspended"
REASON_REQUIRED = "a reason is required"
ONLY_ADMINS_UNREVOKE = "only an administrator can un-revoke a certificate"
NOT_REISSUABLE = "only an issued, active certificate whose PDF is ready can be reissued (it is {state})"
RESEND_LIMIT = "you have asked for this email {count} times today; please try again tomorrow"
