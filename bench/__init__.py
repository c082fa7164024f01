"""``xephang bench``: a benchmark of the real server, driven over real websockets.

The server runs as its own process on 127.0.0.1 with a generated province (one
provincial centre and ~100 commune centres); simulated kiosks, counters, displays and
phones run in separate load-generator processes. See docs/performance.md.
"""
