"""The collector's own metrics (internal.py, on our registry: core.py, instruments.py), their exposition (server.py, /healthz and
/readyz from health.py), textfiles from the shared volume (textfile.py) and label values
through the redactor (scrub.py)."""
