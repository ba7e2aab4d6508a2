"""``vp3d deploy``: many ``vp3d serve`` workers on one machine behind HAProxy, kept alive.

:func:`vp3d.deploy.supervisor.deploy` runs a :class:`~vp3d.deploy.supervisor.Plan` in the
foreground and returns its exit status: the workers on loopback ports, the proxy's generated
configuration (:mod:`vp3d.deploy.haproxy`), health polling (:mod:`vp3d.deploy.health`) and
restarts. Nothing here imports the app: workers are separate ``python -m vp3d serve`` processes.
"""
