#!/usr/bin/env bash
# Junction /v1/responses benchmark: one MCP round (model call -> MCP tools/call -> model call)
# through the gateway vs. the same upstream work sent directly by the client, sequentially
# (C=1). 127.0.0.1 only. See bench/README.md, "Responses API benchmark (bench/responses.sh)".
# Environment knobs:
#   N             timed requests per side and mode (default 500)
#   WARMUP        untimed iterations per side before each mode (default 50)
#   MODES         "json", "sse" or both, space-separated (default "json sse")
#   TOOL          the server-everything tool the model calls (default get-resource-reference)
#   STORE         1 = the API default (the gateway stores each response), 0 = "store": false
#   NO_BUILD      1 = skip cargo build, use the existing target/release binaries
#   JUNCTION_BIN  the junction binary to measure (default target/release/junction); setting it
#                 skips the build, e.g. to compare a copy of an older build (A/B)
#   JUNCTION_LOG  RUST_LOG for junction (default "info", access lines to a file)
#   PYTHON        interpreter for the driver (default target/test-venv/bin/python)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
DRIVER="$BENCH/responses_bench.py"
HELPER="$BENCH/bench.py"
DEFAULT_JUNCTION_BIN="$REPO/target/release/junction"
JUNCTION_BIN="${JUNCTION_BIN:-}"
MOCK_BIN="$REPO/target/release/mockllm"
EVERYTHING="$REPO/tests/node/node_modules/.bin/mcp-server-everything"
API_KEY="sk-bench"
LABEL="everything"

N="${N:-500}"
WARMUP="${WARMUP:-50}"
MODES="${MODES:-json sse}"
TOOL="${TOOL:-get-resource-reference}"
STORE="${STORE:-1}"
NO_BUILD="${NO_BUILD:-0}"
if [[ -n "$JUNCTION_BIN" ]]; then
    NO_BUILD=1
else
    JUNCTION_BIN="$DEFAULT_JUNCTION_BIN"
fi
JUNCTION_LOG="${JUNCTION_LOG:-info}"
PYTHON="${PYTHON:-$REPO/target/test-venv/bin/python}"

log() { printf '[responses-bench] %s\n' "$*" >&2; }
die() { printf '[responses-bench] error: %s\n' "$*" >&2; exit 1; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

is_uint "$N" && (( N >= 1 && N <= 1000000 )) || die "N must be 1..1000000"
is_uint "$WARMUP" && (( WARMUP >= 1 && WARMUP <= 100000 )) || die "WARMUP must be 1..100000"
[[ "$STORE" == 0 || "$STORE" == 1 ]] || die "STORE must be 0 or 1"
[[ "$TOOL" =~ ^[A-Za-z0-9_-]+$ ]] || die "TOOL must be a plain tool name"
read -r -a MLIST <<<"$MODES"
(( ${#MLIST[@]} >= 1 && ${#MLIST[@]} <= 2 )) || die "MODES must list json and/or sse"
for m in "${MLIST[@]}"; do [[ "$m" == json || "$m" == sse ]] || die "bad mode '$m' (json, sse)"; done
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"
command -v node >/dev/null || die "node is required (server-everything)"

# ------------------------------------------------------------------ cleanup
PIDS=()
TMP=""
stop_pid() { # stop_pid PID: TERM, bounded wait, KILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ -n "$TMP" && -d "$TMP" ]]; then rm -rf -- "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- build
if [[ "$NO_BUILD" != 1 ]]; then
    max_attempts=10
    for ((attempt = 1; ; attempt++)); do
        log "building target/release/junction and mockllm (attempt $attempt/$max_attempts)"
        if (cd "$REPO" && cargo build --release -p junction -p junction-mock-upstream); then
            break
        fi
        (( attempt < max_attempts )) || die "cargo build failed $max_attempts times"
        log "build failed (someone may be mid-edit); retrying in 60 s"
        sleep 60
    done
fi
[[ -x "$JUNCTION_BIN" ]] || die "missing $JUNCTION_BIN"
[[ -x "$MOCK_BIN" ]] || die "missing $MOCK_BIN"

# ------------------------------------------------------------ test peers
if [[ ! -x "$EVERYTHING" ]]; then
    command -v npm >/dev/null || die "npm is required to install server-everything (tests/node)"
    log "installing tests/node (npm ci)"
    npm ci --prefix "$REPO/tests/node" >&2 || die "npm ci --prefix tests/node failed"
fi
[[ -x "$EVERYTHING" ]] || die "missing $EVERYTHING"
[[ -x "$PYTHON" ]] || die "missing $PYTHON (run scripts/test once to create target/test-venv, or set PYTHON)"
EVERYTHING_VERSION="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$REPO/tests/node/node_modules/@modelcontextprotocol/server-everything/package.json" 2>/dev/null || echo '?')"
log "server-everything $EVERYTHING_VERSION, node $(node --version), Python $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"

# ------------------------------------------------------------- processes
TMP="$(mktemp -d "${TMPDIR:-/tmp}/junction-responses-bench.XXXXXX")"
RAW="$TMP/raw.jsonl"
: >"$RAW"
meta() { python3 "$DRIVER" meta "$RAW" "$1" "$2"; }
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average at start: $LOAD_START"
meta loadavg_start "$LOAD_START"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

free_port() { python3 "$HELPER" free-port; }

# wait_http NAME PID TIMEOUT_S CURL_ARGS... : poll until curl gets an HTTP answer whose
# status matches $WANT (a regex; default 200).
wait_http() {
    local name=$1 pid=$2 timeout=$3 code="" deadline want="${WANT:-^200$}"
    shift 3
    deadline=$(($(date +%s) + timeout))
    while (($(date +%s) < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during startup; its stderr:"
            cat "$TMP/$name.err" >&2 || true
            die "$name did not start"
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true)"
        [[ "$code" =~ $want ]] && return 0
        sleep 0.1
    done
    log "$name stderr:"
    cat "$TMP/$name.err" >&2 || true
    die "$name not ready after ${timeout}s (last HTTP status: ${code:-none})"
}

# The mock LLM, scripted: a request offering tools gets one call to the first offered tool
# with {"query": "<last user text>"}; a conversation ending with a tool result gets the text
# "Tool result: ...". (Its fixed fast path answers constant bytes and never calls tools.)
MOCK_PORT="$(free_port)"
"$MOCK_BIN" --scripted --host 127.0.0.1 --port "$MOCK_PORT" >"$TMP/mockllm.out" 2>"$TMP/mockllm.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
wait_http mockllm "$MOCK_PID" 20 -X POST -H 'Content-Type: application/json' \
    --data-binary '{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}]}' \
    "http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
log "$(head -n1 "$TMP/mockllm.out") (pid $MOCK_PID, --scripted)"

# server-everything, streamableHttp, bound to 127.0.0.1 by bench/mcp_loopback.cjs.
UP_PORT="$(free_port)"
PORT="$UP_PORT" NODE_OPTIONS="--require $BENCH/mcp_loopback.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}" \
    "$EVERYTHING" streamableHttp </dev/null >"$TMP/everything.out" 2>"$TMP/everything.err" &
UP_WRAPPER=$!
PIDS+=("$UP_WRAPPER")
# GET /mcp without a session answers 400: it is listening.
WANT='^[1-5][0-9][0-9]$' wait_http everything "$UP_WRAPPER" 30 "http://127.0.0.1:$UP_PORT/mcp"
if command -v ss >/dev/null && ss -ltnH 2>/dev/null | grep -E ":$UP_PORT\b" | grep -vq '127.0.0.1'; then
    die "server-everything is not bound to 127.0.0.1 only (bench/mcp_loopback.cjs not applied?)"
fi
# The node process itself (the shebang may leave a wrapper in between).
UP_PID="$UP_WRAPPER"
for p in $(python3 "$HELPER" tree-pids "$UP_WRAPPER" 2>/dev/null); do
    if [[ "$(cat "/proc/$p/comm" 2>/dev/null)" == node ]]; then UP_PID="$p"; break; fi
done
[[ "$UP_PID" == "$UP_WRAPPER" ]] || PIDS+=("$UP_PID")
UP_URL="http://127.0.0.1:$UP_PORT/mcp"
log "server-everything on $UP_PORT (pid $UP_PID)"

# The gateway. `bench` is the measured model; `bench-capture` is the same upstream model
# behind a recording proxy (run by the driver on CAPTURE_PORT) that shows the driver the
# exact bodies Junction sends upstream, so the direct side can replay them.
CAPTURE_PORT="$(free_port)"
cat >"$TMP/config.yaml" <<EOF
model_list:
  - model_name: bench
    litellm_params: {model: openai/mock-gpt, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-mock}
  - model_name: bench-capture
    litellm_params: {model: openai/mock-gpt, api_base: "http://127.0.0.1:$CAPTURE_PORT/v1", api_key: sk-mock}
general_settings:
  master_key: $API_KEY
  database_url: "sqlite://$TMP/bench.db?mode=rwc"
mcp_servers:
  $LABEL:
    url: "$UP_URL"
    transport: http
EOF
GW_PORT="$(free_port)"
RUST_LOG="$JUNCTION_LOG" "$JUNCTION_BIN" serve --config "$TMP/config.yaml" --host 127.0.0.1 \
    --port "$GW_PORT" --drain-timeout 2 >"$TMP/junction.out" 2>"$TMP/junction.err" &
GW_PID=$!
PIDS+=("$GW_PID")
GW_BASE="http://127.0.0.1:$GW_PORT"
wait_http junction "$GW_PID" 60 "$GW_BASE/health/liveliness"
"$PYTHON" "$DRIVER" wait-health "$RAW" "$GW_BASE" "$API_KEY" "$LABEL" 60 ||
    { tail -n 20 "$TMP/junction.err" >&2; die "the MCP server did not become healthy in the gateway"; }
log "junction pid $GW_PID on $GW_PORT: $(head -n1 "$TMP/junction.out" 2>/dev/null)"
read -r IDLE_RSS _ < <(python3 "$HELPER" rss "$GW_PID")

# ------------------------------------------------------------- measure
MODES_CSV="$(IFS=,; echo "${MLIST[*]}")"
"$PYTHON" "$DRIVER" run "$RAW" "$GW_BASE" "$API_KEY" "http://127.0.0.1:$MOCK_PORT/v1" "$UP_URL" \
    "$CAPTURE_PORT" "$LABEL" "$TOOL" "$N" "$WARMUP" "$MODES_CSV" "$STORE" \
    "junction=$GW_PID,mock=$MOCK_PID,everything=$UP_PID" ||
    { tail -n 20 "$TMP/junction.err" >&2; die "the measurement failed"; }

kill -0 "$GW_PID" 2>/dev/null || die "junction died during the run"
kill -0 "$MOCK_PID" 2>/dev/null || die "mockllm died during the run"
kill -0 "$UP_PID" 2>/dev/null || die "server-everything died during the run"
read -r AFTER_RSS AFTER_HWM < <(python3 "$HELPER" rss "$GW_PID")
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average at end: $LOAD_END"
meta loadavg_end "$LOAD_END"
meta idle_rss_mib "$IDLE_RSS"
meta after_rss_mib "$AFTER_RSS"
meta after_hwm_mib "$AFTER_HWM"
meta everything_version "$EVERYTHING_VERSION"
meta node_version "$(node --version)"
meta python "$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
meta cpus "$(nproc)"
meta kernel "$(uname -r)"
meta git_rev "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo none)"
meta requests_per_side "$N"
meta warmup_per_side "$WARMUP"
meta modes "${MLIST[*]}"
meta tool "$TOOL"
meta store "$STORE"
meta junction_log "$JUNCTION_LOG"

RESULT="$BENCH/results/responses-$(date -u +%Y%m%dT%H%M%SZ).tsv"
mkdir -p "$BENCH/results"
python3 "$DRIVER" report "$RAW" "$RESULT"

n="$(grep -c -E ' (WARN|ERROR) ' "$TMP/junction.err" 2>/dev/null || true)"
if [[ "${n:-0}" != 0 ]]; then
    echo
    echo "junction logged $n warning/error line(s); last 5:"
    grep -E ' (WARN|ERROR) ' "$TMP/junction.err" | tail -n 5
fi
