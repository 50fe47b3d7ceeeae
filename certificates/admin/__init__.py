"""The staff desk (Django admin), one module per responsibility:

- ``actions``: the buttons of a certificate (permission, when it applies, the service it calls)
- ``certificates``: the certificate list and work page, and its bulk actions
- ``queues``: held, manual review and delivery problems
- ``cases``: learners' requests (name corrections, disputes, the rest)
- ``jobs``: reissue a course or a selection (confirm, then progress), ZIP and CSV exports
- ``templates``: certificate templates (wording per locale, previews, checks, publishing)
- ``learners``: the learner's work page (their certificates, requests, emails, history)
- ``watchdog``: the worker supervisor's records
- ``audit``: Django's log of staff actions, read-only

Every action calls a service and is allowed by a permission the "support" or "admin" group holds.
"""

from . import audit, cases, certificates, jobs, learners, queues, templates, watchdog  # noqa: F401
