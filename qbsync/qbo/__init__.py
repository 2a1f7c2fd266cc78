"""QuickBooks Online, as a pure client: Intuit's OAuth endpoints and the authorization code, the
async API client with its pacing and typed faults, and reference lists. It reads no config, store
or secrets: callers pass plain values and a TokenSource (qbsync.companies implements it)."""
