"""The pipeline steps, in the order the dialog manager runs them.

    encoder.py     the sentence encoder (every later step reads turn.embedding)
    intents/       the intent classifier: softmax head, lexical model, nearest-neighbour out-of-scope rule
    faq.py         FAISS retrieval over the FAQ entries
    graph.py       the NetworkX knowledge graph and entity linking
    sentiment.py   VADER sentiment
    policy.py      which source answers, written as a Decision (templates.py renders the templates)
    decoder/       the language model that may rewrite the answer, under its grounding guard

Each is a `Step` (agent.types); those with files in the build folder are also
an `Artifact`: they save themselves there and load themselves back.
"""
