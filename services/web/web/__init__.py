"""The staff frontend (a backend-for-frontend) and the embedded one-process composition."""
