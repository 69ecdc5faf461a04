"""The published contracts: the event models each service's topic carries.

Services never import each other, yet the reports, the contacts service and the feedback
service read the roster's events (and the reports those of contacts and feedback), and a
projection should read a typed, upcast event rather than a dict keyed by strings. So the
models of every topic live here, one module per owning service (:mod:`contracts.roster`,
:mod:`contracts.contacts`, :mod:`contracts.feedback`), below the services and above the event
core. The owning service re-exports its module as ``<service>.events`` and is the only one to
add types or versions to it; the others import the contract, never the service.

This is the shared-contract shape of a published language (services share a contract, not a
domain library): the classes keep their explicit type names and versions, so where they live
is invisible to history, the topics and the committed JSON Schemas. Looking the classes up in
the registry by name instead would leave every consumer with untyped attribute access and
name strings again; a contract package gives ``isinstance`` dispatch that the type checker
follows.
"""
