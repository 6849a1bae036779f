"""Step 4, the decoder: a causal LM that rewrites the policy's answer when its guard agrees.

    step.py      the Decoder step and load_decoder()
    backends.py  local Hugging Face generation, or a remote OpenAI-compatible endpoint
    prompt.py    the grounding of a turn and the prompt made from it
    guard.py     the grounding guard: no value the grounding does not hold

Its training (data and fitting) lives in agent.training.
"""
