"""The collector's own metrics (pipeline.py), their exposition (server.py, /healthz and
/readyz from health.py), textfiles from the shared volume (textfile.py) and label values
through the redactor (scrub.py)."""
