"""Storage: everything kept in the store's database, and the conversation log format.

store.py             Store: conversations, turns (with each reply's Trace), FAQ entries
tables.py            the store's tables (SQLAlchemy 2.0 declarative)
locks.py             per-conversation turn locks across threads and processes
arrival.py           arrival tickets: the order in which HTTP workers accepted messages
handoffs.py          once-only claims of handoff notices (the webhook's)
conversation_log.py  the replay JSONL/CSV format: one model, one reader, the writers and export
"""
