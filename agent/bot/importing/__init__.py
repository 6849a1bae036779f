"""`python -m agent import`: a company's own data into a bot folder, idempotently.

tables.py      reading the rows of a CSV or JSONL file, each with its line number
yamlfiles.py   editing the bot's YAML files in place, keeping their comments
messages.py    labelled customer messages -> intent examples, a held-out set and responses
faq.py         question,answer rows -> FAQ entries
args.py        the command: which kind a file is, the summary it prints, --dry-run
"""
