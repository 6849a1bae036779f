"""Storage: everything kept in the store's database, and the conversation log format.

store.py             Store: conversations, turns (with each reply's Trace), FAQ entries, client numbers
database.py          opening the database, its failures as StoreError, SQLite writability, readiness
faq_rows.py          the FAQ entries' statements (seeding, edits, the revision other processes poll)
tables.py            the store's tables (SQLAlchemy 2.0 declarative)
locks.py             per-conversation turn locks and worker leases, across threads and processes
arrival.py           arrival tickets: what arrival means, and the order workers answer messages in
handoffs.py          once-only claims of handoff notices (the webhook's)
conversation_log.py  the replay JSONL/CSV format: one model, one reader, the writers and export
"""
