"""Small talk every bot understands without its author writing it.

A bot made from a company's own data knows that company's questions, but customers
also say "hi", "thanks", "bye" and "can I talk to a person?". Each of those four
intents that a bot's `knowledge/intents.yaml` does not define is added with the
examples below and a reply from the bot's `persona`; a bot with no `oos` intent also
gets the generic out-of-scope examples, so "book me a flight" is refused from the
first `train`. An author who defines one of these intents keeps their own (their
examples and their template). `dialog.small_talk: false` adds nothing.

The examples were written for this module; `SMALL_TALK_VERSION` is part of the
intents' fingerprint, so editing them retrains the bots that use them.
"""

from __future__ import annotations

from agent.bot.schemas import OOS, IntentSpec, TemplateSpec
from agent.config import PersonaConfig

SMALL_TALK_VERSION = "1"
HANDOFF = "human_handoff"

EXAMPLES: dict[str, list[str]] = {
    "greeting": [
        "hi", "hello", "hey", "hiya", "hi there", "hello there", "hey there", "good morning",
        "good afternoon", "good evening", "morning", "hi, anyone there?", "hello, is this support?",
        "yo", "greetings", "hey, quick question", "hi, can you help me?", "hello, I need some help",
        "howdy", "hi bot",
    ],
    "thanks": [
        "thanks", "thank you", "thanks a lot", "thank you so much", "many thanks", "cheers", "thx",
        "ty", "great, thanks", "perfect, thank you", "thanks for your help", "that helped, thanks",
        "ok thanks", "thanks, that's all", "awesome, thank you", "much appreciated", "brilliant, cheers",
        "thank you, that answers it", "nice one, thanks", "thanks for sorting that out",
    ],
    "goodbye": [
        "bye", "goodbye", "bye bye", "see you", "see you later", "that's all, bye", "have a nice day",
        "talk later", "I'm done, bye", "nothing else, goodbye", "ok bye", "cya", "take care",
        "that's everything, bye for now", "good night", "I'll leave it there, bye", "catch you later",
        "all sorted, bye", "no that's it, goodbye", "farewell",
    ],
    HANDOFF: [
        "I want to talk to a person", "can I speak to a human?", "let me talk to a real person",
        "connect me to an agent", "I need a human agent", "transfer me to customer service",
        "is there a real person I can chat with?", "speak to someone please", "get me a human",
        "I'd like to talk to a member of staff", "can a person help me instead?", "agent please",
        "I don't want a bot, I want a person", "put me through to support staff",
        "can I talk to someone from your team?", "human please", "operator",
        "I need to speak with a representative", "talk to a live agent", "can you pass me to a colleague?",
    ],
    OOS: [
        "what's the weather tomorrow?", "book me a flight to Rome", "tell me a joke",
        "what's the capital of Australia?", "play some music", "who won the football last night?",
        "recommend a good film", "how do I bake bread?", "what time is it in Tokyo?",
        "set an alarm for 7am", "translate hello into Spanish", "write me a poem",
        "what's 17 times 23?", "find me a restaurant nearby", "how tall is Mount Everest?",
        "order me a pizza", "what's the best phone to buy?", "help me with my homework",
        "who is the president of France?", "book a table for two tonight", "how do I fix my car's brakes?",
        "what should I name my dog?", "suggest a holiday destination", "how many calories in an apple?",
        "call a taxi for me", "what's on TV tonight?", "can you sing a song?", "reserve a hotel room in Paris",
        "what's the meaning of life?", "teach me to play chess", "remind me to buy milk",
        "how far is the moon?", "what's a good workout routine?", "do you like cats?",
        "what's the latest news?", "plan my wedding", "how do I grow tomatoes?",
        "what's your favourite colour?", "rate my outfit", "tell me about dinosaurs",
    ],
}  # fmt: skip


def replies(persona: PersonaConfig) -> dict[str, str]:
    """The reply of each small-talk intent, from the bot's persona."""
    return {
        "greeting": persona.greeting,
        "thanks": persona.thanks,
        "goodbye": persona.goodbye,
        HANDOFF: persona.handoff,
    }


def missing_intents(defined: set[str]) -> list[IntentSpec]:
    """The built-in intents a bot whose intents are `defined` lacks (`oos` only when it has none)."""
    return [IntentSpec(name=name, examples=examples) for name, examples in EXAMPLES.items() if name not in defined]


def missing_templates(intents: list[IntentSpec], persona: PersonaConfig) -> dict[str, TemplateSpec]:
    """A template for each added small-talk intent (not for `oos`, which the policy answers itself)."""
    texts = replies(persona)
    return {i.name: TemplateSpec(text=texts[i.name]) for i in intents if i.name in texts}
