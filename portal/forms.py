"""Forms of the portal app: the account pages use Django's own auth forms."""
