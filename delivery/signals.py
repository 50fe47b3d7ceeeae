from django.dispatch import Signal

#: Sent inside the transaction that settles a delivery (sent, or failed for good), so whoever asked
#: for it can record the outcome atomically. Keyword arguments: delivery_id, composer, reference,
#: purpose, recipient, sent (bool), reason (str; why it failed).
delivery_settled = Signal()

#: Sent when an ESP tracking event about a delivery is new. Keyword arguments: delivery_id, composer,
#: reference, purpose, event_type, description.
delivery_tracked = Signal()
