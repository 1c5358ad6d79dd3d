"""Files in, `LineBatch`es out: the first stage of the pipeline.

`source.FileSource` runs one source (the read loop, discovery, handles); `rotation.py`
settles which file continues which (rename, copytruncate); `reader.py` reads one file into
lines (`lines.py`); `fingerprint.py` says which file this is, `checkpoint.py` how far it
was acked (the watermark itself is `collector.acks`); `admission.py` which files may be
read, `discovery.py` which paths, `watcher.py` when to look again; `counters.py` what it
counts; `config.py` its part of a `sources:` entry.
"""
