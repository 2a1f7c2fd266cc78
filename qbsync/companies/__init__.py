"""What a connected company is on this machine: its config entry, its `companies` and
`company_facts` rows, its app credentials and tokens in the secrets store, the single-flight token
refresh, a ready QuickBooks client for its key, and the connect flow.

Nothing is imported here: commands that only read the store (status, sync history) must not pay
for the QuickBooks client or the keyring at start-up.
"""
