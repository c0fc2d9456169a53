#!/usr/bin/env bash
# Ensure a Python venv with LiteLLM's proxy installed, for `LITELLM=1 bench/run.sh`.
# On success prints the installed litellm version on stdout (progress goes to stderr).
#
#   LITELLM_VENV     venv directory              (default: <repo>/target/bench-litellm-venv)
#   LITELLM_PIN      version to try first        (default 1.106.2, the anchor's version;
#                    if it cannot be installed, the newest release is installed instead)
#   LITELLM_INSTALL_TIMEOUT  seconds per pip run (default 1800)
#
# The venv is (re)created only when it is missing or `import litellm` fails in it.
# Python: Debian's /usr/bin/python3 when it exists (a PGO/LTO build, noticeably
# faster than a self-compiled one), else python3 from PATH.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LITELLM_VENV:-$REPO/target/bench-litellm-venv}"
PIN="${LITELLM_PIN:-1.106.2}"
INSTALL_TIMEOUT="${LITELLM_INSTALL_TIMEOUT:-1800}"
LOG="$VENV.install.log"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[[ "$INSTALL_TIMEOUT" =~ ^[0-9]+$ ]] && ((INSTALL_TIMEOUT >= 60)) ||
    die "LITELLM_INSTALL_TIMEOUT must be an integer >= 60"
[[ -z "$PIN" || "$PIN" =~ ^[0-9A-Za-z.+!-]+$ ]] || die "bad LITELLM_PIN '$PIN'"

# Import check: litellm itself plus the proxy extras the CLI needs. The first
# import after an install compiles byte code and can take a while.
usable() {
    [[ -x "$VENV/bin/python" && -x "$VENV/bin/litellm" ]] || return 1
    timeout --kill-after=10 300 "$VENV/bin/python" -c 'import litellm, fastapi, uvicorn, yaml' \
        >/dev/null 2>&1
}
version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))'
}

mkdir -p "$(dirname "$VENV")"
# One installer at a time (bounded wait).
exec 9>"$VENV.lock"
flock -w "$INSTALL_TIMEOUT" 9 || die "another LiteLLM install holds $VENV.lock"

if usable; then
    log "LiteLLM venv $VENV is usable (litellm $(version))"
    version
    exit 0
fi

if [[ -x /usr/bin/python3 ]]; then
    PY=/usr/bin/python3
else
    PY="$(command -v python3)" || die "python3 is required to create the LiteLLM venv"
fi
if [[ -e "$VENV" ]]; then
    log "$VENV exists but litellm cannot be imported there; recreating it"
else
    log "creating the LiteLLM venv $VENV with $PY ($("$PY" -V 2>&1))"
fi
: >"$LOG"
"$PY" -m venv --clear "$VENV" >>"$LOG" 2>&1 ||
    die "'$PY -m venv' failed (on Debian: apt-get install python3-venv); see $LOG"

# pip_install SPEC: run pip (bounded), keep its full output in $LOG and echo
# the progress lines.
pip_install() {
    local spec=$1 rc line n=0
    log "pip install '$spec' from PyPI (this takes a few minutes the first time; full log: $LOG)"
    set +e
    timeout --kill-after=30 "$INSTALL_TIMEOUT" \
        "$VENV/bin/python" -m pip install --progress-bar off --disable-pip-version-check "$spec" 2>&1 |
        while IFS= read -r line; do
            printf '%s\n' "$line" >>"$LOG"
            case "$line" in
            Collecting*) n=$((n + 1)); log "pip [$n] $line" ;;
            "Building wheel"* | "Installing collected"* | Successfully* | ERROR* | error:*)
                log "pip: ${line:0:300}" ;;
            esac
        done
    rc=${PIPESTATUS[0]}
    set -e
    ((rc == 124)) && log "pip timed out after ${INSTALL_TIMEOUT}s"
    return "$rc"
}

installed=0
if [[ -n "$PIN" ]] && pip_install "litellm[proxy]==$PIN"; then
    installed=1
elif [[ -n "$PIN" ]]; then
    log "litellm[proxy]==$PIN could not be installed; trying the newest release"
fi
if ((installed == 0)); then
    pip_install "litellm[proxy]" ||
        die "pip could not install litellm[proxy] (see $LOG; last lines: $(tail -n 5 "$LOG" | tr '\n' ' '))"
fi
log "checking that litellm imports (first import compiles byte code)"
usable || die "litellm was installed but cannot be imported from $VENV (see $LOG)"
log "installed litellm $(version) into $VENV"
version
