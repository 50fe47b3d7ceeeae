"""Writes for certificates, one module per responsibility:

- ``issuance``: the rule, then issue / hold / approve / reject
- ``snapshot``: what a certificate would print now, and what stops it
- ``rendering``: PDF and PNG of a version
- ``emailing``: first sends, reissue notices, resends (through the delivery app)
- ``lifecycle``: revoke / un-revoke, suspend / reinstate, reissue one or thousands
- ``cases``: learners' requests (name correction, dispute, new address, resend) and their decisions
- ``sweep``: re-nudge stuck work
- ``erasure``: erase a holder's personal data, withdraw their certificates
- ``lookups``: count how often each certificate is verified, and how
"""
