"""QuickBooks Online: OAuth, tokens, the async client, pacing, lists, and the connect flow."""
