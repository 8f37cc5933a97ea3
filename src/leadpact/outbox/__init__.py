"""The development outbox: every e-mail leadpact sends, kept in the database instead of going out.

``leadpact start`` (and every run without ``LEADPACT_PRODUCTION=1``) sends mail through
:class:`leadpact.outbox.backend.EmailBackend`, so alerts, review packs, invitations and password resets
can be read on **Data → Outbox** (``/data/outbox/``) rather than lost or printed to a console.
Production sends by SMTP (``LEADPACT_EMAIL_HOST`` …) and keeps nothing here.

Who reads a message: a message carries the organisation it was sent for — the sender says so with
:func:`leadpact.outbox.context.mail_for` (alerts: the lead's organisation; review packs: the series'; an
invitation and a test alert: the organisation they were sent from). An organisation admin reads its
organisation's messages; the operator (a superuser) reads all of them. A message sent outside any
organisation — a password reset asked for on the sign-in page — carries none, so only the operator reads
it: its link opens the account.
"""
