"""Training: build every artifact of a bot into its build folder (`python -m agent train`).

    build.py         build(): graph, intents, FAQ index, decoder, each only when stale; load_trained()
    intents.py       fitting the intent classifier (the path `train` and `eval intents` share)
    finetune.py      fine-tuning the sentence encoder on the intents (and ensembles of it)
    decoder.py       the decoder stage: data from the freshly built pipeline, fit, save
    decoder_data.py  (prompt, answer) pairs made by the bot's own pipeline
    decoder_fit.py   building the base model and fine-tuning it

Training imports the runtime (agent.pipeline, agent.steps); the runtime never imports training.
"""

from agent.training.build import BuildReport, build, load_trained

__all__ = ["BuildReport", "build", "load_trained"]
