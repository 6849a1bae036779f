"""`python -m agent review`: the customer messages most worth a person's label, and their labels back into the bot.

candidates.py  the answered messages of a store or of a replay run, with what made each uncertain
queue.py       why a message is worth a look, its uncertainty, near-duplicates grouped, the ranking
export.py      `review export`: the ranked queue as a CSV for an author to label
apply.py       `review apply`: the labelled rows become examples, through `import`'s machinery
args.py        the sub-commands' arguments
"""
