"""SMS pages of the admin site (Chinese): accounts with top-up / transfer / freeze,
the read-only ledger, jobs, texts, unsubscribes and replies. School and bureau admins
see only their subtree; platform staff see everything."""

from . import accounts, records  # noqa: F401
