"""Access control: accounts, sign-in, tokens, and the one check every service runs."""
