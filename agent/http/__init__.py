"""The HTTP API: `python -m agent serve`, or `create_app(agent, api_keys)` to embed it."""

from agent.http.app import create_app
from agent.http.auth import ApiKeys, load_api_keys
from agent.http.tokens import load_token_secret

__all__ = ["ApiKeys", "create_app", "load_api_keys", "load_token_secret"]
