"""The page a visitor gets when no worker can take another session: HTTP 503, plain HTML.

One text for both places that answer it: a worker past its session cap or draining before it
exits, and the reverse proxy when every worker is full, draining or restarting. The page
reloads itself after :data:`RETRY_AFTER_S` seconds and names nothing it would have to load.
"""

from __future__ import annotations

#: Seconds the visitor is asked to wait (``Retry-After`` and the page's own reload).
RETRY_AFTER_S = 10

BUSY_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_S}">
<title>vp3d is busy</title>
<style>
body {{ font-family: sans-serif; background: #1d232c; color: #f2f4f7; margin: 0;
       display: flex; min-height: 100vh; align-items: center; justify-content: center; }}
main {{ max-width: 32em; padding: 2em; line-height: 1.5; }}
h1 {{ font-size: 1.6em; }}
</style>
</head>
<body>
<main id="vp3d-busy">
<h1>Busy, try again in a moment</h1>
<p>Vertebroplasty in 3D has as many visitors as it can show right now.
This page tries again by itself in {RETRY_AFTER_S} seconds.</p>
</main>
</body>
</html>
"""


def busy_headers() -> dict[str, str]:
    """HTTP headers that go with :data:`BUSY_HTML` (no caching: the next try must ask again)."""
    return {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
