class CertificateError(Exception):
    """Base for every certificate rule a caller can break."""


class CertificateNotHeld(CertificateError, ValueError):
    pass


class CertificateStillHasProblems(CertificateError, ValueError):
    pass


class CertificateAlreadyRevoked(CertificateError, ValueError):
    pass


NOT_HELD = "only a held certificate can be approved"
ALREADY_REVOKED = "this certificate is already revoked"
