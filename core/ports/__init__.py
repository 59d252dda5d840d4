"""Ports: the Protocols core speaks to the outside world through.

`core.ports.source` is the Dental-Exec export side, `core.ports.destination` the Twenty side.
Adapters implement them; core never imports an adapter.
"""
