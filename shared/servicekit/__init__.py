"""The service chassis every HTTP service stands on: the command context and pipeline, error
answers, operability (readiness, metrics, logs), body limits, API docs, the service app, the
long-running platform processes and the operator's command line (``sanlian-spine``)."""
