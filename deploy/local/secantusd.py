"""SecantusDB's own command line (`python -m secantus`, same flags), with its TTL sweeper off.

Once a minute the sweeper decodes every document of every TTL-indexed collection while it holds the store's
one lock, so every client waits meanwhile: 2.9 s per sweep with 150,000 applied-event ids on a 2-core
machine, and the projector writes one id per event. MongoDB's TTL monitor deletes through the index instead.
SecantusDB 0.7.0b3 reads `ttl_sweep_seconds` from its config file but its command line never hands it to
the server, hence this shim. Local stores are scratch; expiry matters in production, on MongoDB.
"""

import functools
import sys

from secantus import cli
from secantus.server import SecantusDBServer

if __name__ == "__main__":
    cli.SecantusDBServer = functools.partial(SecantusDBServer, ttl_sweep_seconds=0)  # type: ignore[misc]
    sys.exit(cli.main())
