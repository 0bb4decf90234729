"""Wire formats of protocol v1: every body the router reads or writes.

The schemas here are the contract that member hotlines and contact points build
clients against. Fields may be added as optional; none is renamed.
"""

PROTOCOL_VERSION = "1"
