#!/usr/bin/env bash
# Junction MCP benchmark: tools/call through the gateway vs. directly against the same
# streamable-HTTP upstream (server-everything), and tools/list over many upstream servers
# (cached, and boot-to-catalog). 127.0.0.1 only. See bench/README.md, "MCP benchmark".
# Environment knobs:
#   CONCURRENCY   tools/call concurrency levels (sessions), space-separated (default "1 32")
#   CALLS         timed tools/call per point, split evenly over the workers (default 3200)
#   WARMUP        untimed tools/call per worker before each point (default 30)
#   SERVERS       mcp_servers entries for the tools/list part, s01..sNN (default 20)
#   UPSTREAMS     server-everything processes they point at, round-robin (default 4)
#   LIST_CALLS    timed sequential tools/list per client kind (default 500)
#   BOOTS         gateway boots timed for boot-to-catalog (default 3)
#   NO_BUILD      1 = skip cargo build, use the existing target/release/junction
#   JUNCTION_BIN  the junction binary to measure (default target/release/junction); setting it
#                 skips the build, e.g. to compare a copy of an older build (A/B)
#   JUNCTION_LOG  RUST_LOG for junction (default "info", access lines to a file)
#   PYTHON        interpreter with the `mcp` package (default target/test-venv/bin/python)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
DRIVER="$BENCH/mcp_bench.py"
HELPER="$BENCH/bench.py"
DEFAULT_JUNCTION_BIN="$REPO/target/release/junction"
JUNCTION_BIN="${JUNCTION_BIN:-}"
EVERYTHING="$REPO/tests/node/node_modules/.bin/mcp-server-everything"
API_KEY="sk-bench"

CONCURRENCY="${CONCURRENCY:-1 32}"
CALLS="${CALLS:-3200}"
WARMUP="${WARMUP:-30}"
SERVERS="${SERVERS:-20}"
UPSTREAMS="${UPSTREAMS:-4}"
LIST_CALLS="${LIST_CALLS:-500}"
BOOTS="${BOOTS:-3}"
NO_BUILD="${NO_BUILD:-0}"
if [[ -n "$JUNCTION_BIN" ]]; then
    NO_BUILD=1
else
    JUNCTION_BIN="$DEFAULT_JUNCTION_BIN"
fi
JUNCTION_LOG="${JUNCTION_LOG:-info}"
PYTHON="${PYTHON:-$REPO/target/test-venv/bin/python}"

log() { printf '[mcp-bench] %s\n' "$*" >&2; }
die() { printf '[mcp-bench] error: %s\n' "$*" >&2; exit 1; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

is_uint "$CALLS" && (( CALLS >= 1 && CALLS <= 1000000 )) || die "CALLS must be 1..1000000"
is_uint "$WARMUP" && (( WARMUP <= 10000 )) || die "WARMUP must be 0..10000"
is_uint "$SERVERS" && (( SERVERS >= 1 && SERVERS <= 99 )) || die "SERVERS must be 1..99"
is_uint "$UPSTREAMS" && (( UPSTREAMS >= 1 && UPSTREAMS <= SERVERS && UPSTREAMS <= 32 )) ||
    die "UPSTREAMS must be 1..min(SERVERS, 32)"
is_uint "$LIST_CALLS" && (( LIST_CALLS >= 1 && LIST_CALLS <= 100000 )) || die "LIST_CALLS must be 1..100000"
is_uint "$BOOTS" && (( BOOTS >= 1 && BOOTS <= 20 )) || die "BOOTS must be 1..20"
read -r -a CLIST <<<"$CONCURRENCY"
(( ${#CLIST[@]} >= 1 && ${#CLIST[@]} <= 8 )) || die "CONCURRENCY must list 1..8 levels"
for c in "${CLIST[@]}"; do
    is_uint "$c" && (( c >= 1 && c <= 256 )) || die "bad concurrency level '$c' (1..256)"
done
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
forget_pid() { # forget_pid PID: drop it from PIDS once stopped
    local keep=() p
    for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
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
        log "building target/release/junction (attempt $attempt/$max_attempts)"
        if (cd "$REPO" && cargo build --release -p junction); then
            break
        fi
        (( attempt < max_attempts )) || die "cargo build failed $max_attempts times"
        log "build failed (someone may be mid-edit); retrying in 60 s"
        sleep 60
    done
fi
[[ -x "$JUNCTION_BIN" ]] || die "missing $JUNCTION_BIN"
log "junction binary: $JUNCTION_BIN"

# ------------------------------------------------------------ test peers
if [[ ! -x "$EVERYTHING" ]]; then
    command -v npm >/dev/null || die "npm is required to install server-everything (tests/node)"
    log "installing tests/node (npm ci)"
    npm ci --prefix "$REPO/tests/node" >&2 || die "npm ci --prefix tests/node failed"
fi
[[ -x "$EVERYTHING" ]] || die "missing $EVERYTHING"
[[ -x "$PYTHON" ]] || die "missing $PYTHON (run scripts/test once to create target/test-venv, or set PYTHON)"
MCP_VERSION="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("mcp"))')" ||
    die "$PYTHON has no mcp package"
EVERYTHING_VERSION="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$REPO/tests/node/node_modules/@modelcontextprotocol/server-everything/package.json" 2>/dev/null || echo '?')"
log "mcp $MCP_VERSION (Python $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')), server-everything $EVERYTHING_VERSION, node $(node --version)"

# ------------------------------------------------------------- processes
TMP="$(mktemp -d "${TMPDIR:-/tmp}/junction-mcp-bench.XXXXXX")"
RAW="$TMP/raw.jsonl"
: >"$RAW"
python3 "$DRIVER" meta "$RAW" loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

free_port() { python3 "$HELPER" free-port; }

# wait_http NAME PID TIMEOUT_S CURL_ARGS... : poll until curl gets an HTTP answer whose
# status is in $WANT (a regex; default 200).
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

# server-everything, streamableHttp, bound to 127.0.0.1 by bench/mcp_loopback.cjs.
# Its stdout (one console.log line per request) goes to a file.
UP_PORTS=()
UP_PIDS=()
for ((u = 1; u <= UPSTREAMS; u++)); do
    port="$(free_port)"
    PORT="$port" NODE_OPTIONS="--require $BENCH/mcp_loopback.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}" \
        "$EVERYTHING" streamableHttp </dev/null >"$TMP/everything$u.out" 2>"$TMP/everything$u.err" &
    pid=$!
    PIDS+=("$pid")
    UP_PORTS+=("$port")
    UP_PIDS+=("$pid")
done
# node_pid PID: PID itself or its first descendant named node (the shebang may leave a
# wrapper in between); CPU time per call is read from this process.
node_pid() {
    local p
    for p in $(python3 "$HELPER" tree-pids "$1" 2>/dev/null); do
        if [[ "$(cat "/proc/$p/comm" 2>/dev/null)" == node ]]; then echo "$p"; return 0; fi
    done
    echo "$1"
}
for ((u = 1; u <= UPSTREAMS; u++)); do
    # GET /mcp without a session answers 400: it is listening.
    WANT='^[1-5][0-9][0-9]$' wait_http "everything$u" "${UP_PIDS[u - 1]}" 30 \
        "http://127.0.0.1:${UP_PORTS[u - 1]}/mcp"
done
log "$UPSTREAMS server-everything process(es) on ports ${UP_PORTS[*]}"
if command -v ss >/dev/null && ss -ltnH 2>/dev/null | grep -E ":(${UP_PORTS[0]})\b" | grep -vq '127.0.0.1'; then
    die "server-everything is not bound to 127.0.0.1 only (bench/mcp_loopback.cjs not applied?)"
fi
UP1_URL="http://127.0.0.1:${UP_PORTS[0]}/mcp"
UP1_PID="$(node_pid "${UP_PIDS[0]}")"
[[ "$UP1_PID" == "${UP_PIDS[0]}" ]] || PIDS+=("$UP1_PID")

GW_PID=""
# start_gateway NAME CONFIG: starts junction on a free port; sets GW_PID, GW_PORT, GW_T0_NS
start_gateway() {
    local name=$1 config=$2
    GW_PORT="$(free_port)"
    GW_T0_NS="$(python3 -c 'import time; print(time.time_ns())')"
    RUST_LOG="$JUNCTION_LOG" "$JUNCTION_BIN" serve --config "$config" --host 127.0.0.1 \
        --port "$GW_PORT" --drain-timeout 2 >"$TMP/$name.out" 2>"$TMP/$name.err" &
    GW_PID=$!
    PIDS+=("$GW_PID")
}
stop_gateway() {
    [[ -n "$GW_PID" ]] || return 0
    stop_pid "$GW_PID"
    forget_pid "$GW_PID"
    GW_PID=""
}
meta() { python3 "$DRIVER" meta "$RAW" "$1" "$2"; }

# ----------------------------------------- part 1: tools/call, 1 server
cat >"$TMP/gw1.yaml" <<EOF
general_settings:
  master_key: $API_KEY
  database_url: "sqlite://$TMP/gw1.db?mode=rwc"
mcp_servers:
  everything:
    url: "$UP1_URL"
    transport: http
EOF
start_gateway gw1 "$TMP/gw1.yaml"
"$PYTHON" "$DRIVER" wait-catalog "$RAW" single "http://127.0.0.1:$GW_PORT" "$API_KEY" 1 \
    "$GW_T0_NS" 60 >/dev/null || { tail -n 20 "$TMP/gw1.err" >&2; die "gateway (1 server) not ready"; }
GW_URL="http://127.0.0.1:$GW_PORT/mcp"
log "junction pid $GW_PID on $GW_PORT: $(head -n1 "$TMP/gw1.out" 2>/dev/null)"

# measure_call TARGET C
measure_call() {
    local target=$1 c=$2 per=$(( (CALLS + $2 - 1) / $2 ))
    kill -0 "$GW_PID" 2>/dev/null || die "junction died; stderr: $(tail -n 20 "$TMP/gw1.err")"
    kill -0 "$UP1_PID" 2>/dev/null || die "server-everything died; stderr: $(tail -n 20 "$TMP/everything1.err")"
    case "$target" in
    direct)
        "$PYTHON" "$DRIVER" call "$RAW" direct "$UP1_URL" echo "$c" "$per" "$WARMUP" - \
            "upstream=$UP1_PID,junction=$GW_PID" ;;
    gateway)
        "$PYTHON" "$DRIVER" call "$RAW" gateway "$GW_URL" everything-echo "$c" "$per" "$WARMUP" \
            "$API_KEY" "upstream=$UP1_PID,junction=$GW_PID" ;;
    esac || die "tools/call $target C=$c failed"
}
i=0
for c in "${CLIST[@]}"; do
    # Alternate which side goes first, so slow drift does not always favour one.
    if (( i % 2 == 0 )); then order=(direct gateway); else order=(gateway direct); fi
    for t in "${order[@]}"; do measure_call "$t" "$c"; done
    i=$((i + 1))
done
# The same comparison at C=1 with a raw HTTP client: no SDK cost on either side, and the
# two sides' calls interleaved one by one, so drift and background load hit both alike.
"$PYTHON" "$DRIVER" rawpair "$RAW" "$UP1_URL" echo "$GW_URL" everything-echo "$CALLS" "$WARMUP" \
    "$API_KEY" "upstream=$UP1_PID,junction=$GW_PID" || die "raw tools/call (direct and gateway) failed"
read -r GW1_RSS _ < <(python3 "$HELPER" rss "$GW_PID")
# Reference: tools/list straight from one server-everything (what one upstream round trip costs).
"$PYTHON" "$DRIVER" list "$RAW" direct "$UP1_URL" "$LIST_CALLS" 20 0 || die "direct tools/list failed"
stop_gateway

# ------------------------------- part 2: tools/list over SERVERS servers
{
    printf 'general_settings:\n  master_key: %s\n  database_url: "sqlite://%s/gw20.db?mode=rwc"\nmcp_servers:\n' \
        "$API_KEY" "$TMP"
    for ((s = 1; s <= SERVERS; s++)); do
        printf '  s%02d:\n    url: "http://127.0.0.1:%s/mcp"\n    transport: http\n' \
            "$s" "${UP_PORTS[(s - 1) % UPSTREAMS]}"
    done
} >"$TMP/gw20.yaml"
for ((b = 1; b <= BOOTS; b++)); do
    start_gateway gw20 "$TMP/gw20.yaml"
    TOOLS="$("$PYTHON" "$DRIVER" wait-catalog "$RAW" catalog "http://127.0.0.1:$GW_PORT" "$API_KEY" \
        "$SERVERS" "$GW_T0_NS" 120)" || { tail -n 20 "$TMP/gw20.err" >&2; die "gateway ($SERVERS servers) not ready"; }
    if (( b == BOOTS )); then
        "$PYTHON" "$DRIVER" list "$RAW" gateway20 "http://127.0.0.1:$GW_PORT/mcp" "$LIST_CALLS" 20 \
            "$TOOLS" "$API_KEY" || die "tools/list through the gateway failed"
        read -r GW20_RSS _ < <(python3 "$HELPER" rss "$GW_PID")
    fi
    stop_gateway
done

for k in $(seq 1 "$UPSTREAMS"); do kill -0 "${UP_PIDS[k - 1]}" 2>/dev/null || die "server-everything $k died"; done
meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta mcp_version "$MCP_VERSION"
meta everything_version "$EVERYTHING_VERSION"
meta node_version "$(node --version)"
meta cpus "$(nproc)"
meta kernel "$(uname -r)"
meta git_rev "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo none)"
meta junction_bin "$JUNCTION_BIN"
meta concurrency "${CLIST[*]}"
meta calls_per_point "$CALLS"
meta warmup_per_worker "$WARMUP"
meta servers "$SERVERS"
meta upstreams "$UPSTREAMS"
meta list_calls "$LIST_CALLS"
meta boots "$BOOTS"
meta junction_log "$JUNCTION_LOG"
meta gw1_rss_mib "$GW1_RSS"
meta gw20_rss_mib "$GW20_RSS"

RESULT="$BENCH/results/mcp-$(date -u +%Y%m%dT%H%M%SZ).tsv"
mkdir -p "$BENCH/results"
python3 "$DRIVER" report "$RAW" "$RESULT"

for f in gw1 gw20; do
    n="$(grep -c -E ' (WARN|ERROR) ' "$TMP/$f.err" 2>/dev/null || true)"
    if [[ "${n:-0}" != 0 ]]; then
        echo
        echo "junction ($f) logged $n warning/error line(s); last 5:"
        grep -E ' (WARN|ERROR) ' "$TMP/$f.err" | tail -n 5
    fi
done
