"""The collector's own metrics (internal.py, on our registry: core.py, instruments.py),
their exposition (exposition.py, served by server.py with /healthz and /readyz from
health.py), textfiles from the shared volume (textfile.py) and label values through the
redactor (scrub.py)."""
