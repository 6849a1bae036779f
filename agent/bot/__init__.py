"""The bot folder: what a bot author writes, read and validated.

    folder.py     read_bot_files(): bot.yaml and the knowledge/dialogs files, checked across files
    schemas.py    one pydantic model per data file (intents, FAQ, graph, templates, conversations)
    datafiles.py  opening a data file a user hands to a command, with one-line errors

This layer knows nothing of models or storage; `agent.pipeline.load_bot` adds
the checks that need a built step (template placeholders resolved in the graph).
"""
