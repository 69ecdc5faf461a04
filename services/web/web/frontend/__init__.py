"""The staff frontend (server-rendered pages over the services' HTTP APIs)."""
