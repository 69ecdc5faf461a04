"""The full topology on one machine: the process table, its supervisor and its Compose file.

One table (:mod:`topology.table`) names every process of the full topology, its command,
port and ``SANLIAN_*`` settings. ``sanlian-stack up`` (``make stack``) runs it as local
processes; ``sanlian-stack compose`` writes ``docker-compose.yml`` from the same table, so
the two never drift apart.
"""
