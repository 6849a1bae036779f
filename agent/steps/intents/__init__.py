"""Step 1, the intent classifier: `classifier.py`, with its two internals.

classifier.py  IntentClassifier: the calibrated softmax head, the blend, the out-of-scope rules
lexical.py     the TF-IDF word/character model blended with the head (intents.lexical_weight)
neighbours.py  the distance-to-nearest-example out-of-scope rule (intents.knn_weight)
"""

from agent.steps.intents.classifier import IntentClassifier

__all__ = ["IntentClassifier"]
