"""The pipeline steps, in the order the dialog manager runs them: encoder, intents, faq, graph, sentiment."""
