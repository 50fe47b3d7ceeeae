class DeliveryError(Exception):
    """Base for every delivery rule a caller can break."""


class DoNotSend(DeliveryError):
    """Raised by a composer when its message must not go out any more (the reason is recorded)."""


class AddressSuppressed(DeliveryError, ValueError):
    pass


ADDRESS_SUPPRESSED = "{email} {reason} earlier: not mailed again until the address is corrected"
SEND_INTERRUPTED = "the worker stopped while sending; the email may or may not have gone out: check, then resend"
