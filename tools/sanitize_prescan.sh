#!/usr/bin/env bash
# The redaction pre-scan's C (collector/redact/_prefilter.c) under AddressSanitizer and
# UndefinedBehaviorSanitizer: the extension reads every byte the collector tails, so an
# out-of-bounds read or undefined arithmetic must fail a test, not pass unnoticed.
# Builds an instrumented copy in a temp dir and runs the C's own tests there.
set -euo pipefail
PY=${PY:-.venv/bin/python}
PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r collector tests tools pyproject.toml "$dir/"
find "$dir" \( -name '*.so' -o -name __pycache__ \) -prune -exec rm -rf {} +
inc=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
ext=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
gcc -shared -fPIC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=all -I"$inc" collector/redact/_prefilter.c \
    -o "$dir/collector/redact/_prefilter$ext"
cd "$dir"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$dir"
"$PY" -c "import collector.redact._prefilter as m, sys; sys.exit(not m.__file__.startswith('$dir'))"
"$PY" -m pytest -q -p no:cacheprovider tests/redact/test_prefilter.py tests/redact/test_shortcut.py
