"""`python -m agent discover`: propose new intents from the customer messages a bot does not cover."""
