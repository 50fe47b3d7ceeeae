from django.dispatch import Signal

#: Sent when a completion record is created or its facts change (a regrade, a corrected name).
#: Keyword argument: enrollment_id. Receivers must only hand off (transaction.on_commit).
completion_recorded = Signal()

#: Sent by bulk paths (the CSV import) once per batch instead of one completion_recorded per row.
#: Keyword argument: enrollment_ids (a list). Receivers must only hand off.
completions_recorded = Signal()
