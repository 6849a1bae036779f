"""The turn pipeline: the dialog manager and what it runs around the steps.

    dialog.py     Agent: loads a trained bot, runs its steps on a batch of turns, stores the result
    assemble.py   load_bot() (the bot folder, fully checked) and the steps of a build folder, in order
    artifacts.py  the build folder's manifest: fingerprints, staleness, the run-time encoder
    messages.py   cleaning and checking a customer's message before any step sees it
    privacy.py    masking personal data in everything that is kept (bot.yaml `privacy:`)
    pii.py        finding it: IBANs, cards, e-mails, dates of birth, secrets, phone numbers

Training (agent.training) builds what this layer loads; this layer never trains.
"""
