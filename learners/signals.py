from django.dispatch import Signal

#: Sent when a completion record is created or its facts change (a regrade, a corrected name).
#: Keyword argument: enrollment_id. Receivers must only hand off (transaction.on_commit).
completion_recorded = Signal()
