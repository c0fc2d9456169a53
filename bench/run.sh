#!/usr/bin/env bash
# Junction benchmark harness: mockllm direct vs. through junction, on 127.0.0.1.
# See bench/README.md. Environment knobs:
#   CONCURRENCY  space-separated concurrency levels   (default "1 16 64")
#   DURATION     seconds per measured point            (default 10)
#   WARMUP       seconds of warm-up before each point  (default 3; 0 = none)
#   STREAM       1 = also measure a streaming point    (default 0)
#   STREAM_C     concurrency of the streaming point    (default 16)
#   LOADGEN      force "oha" or "wrk"                   (default: oha if on PATH, else wrk)
#   NO_BUILD     1 = skip cargo build, use existing target/release binaries
#   JUNCTION_LOG RUST_LOG for junction (default "info": one access line per request, written
#                to a file, as a production deployment would run it; "warn" turns them off)
#   LITELLM      1 = also measure LiteLLM's proxy (1 worker) against the same mock, side by
#                side (default 0). Installs litellm[proxy] from PyPI into
#                target/bench-litellm-venv the first time (minutes); see bench/litellm-venv.sh.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
HELPER="$BENCH/bench.py"
JUNCTION_BIN="$REPO/target/release/junction"
MOCK_BIN="$REPO/target/release/mockllm"
API_KEY="sk-bench"

CONCURRENCY="${CONCURRENCY:-1 16 64}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
STREAM="${STREAM:-0}"
STREAM_C="${STREAM_C:-16}"
NO_BUILD="${NO_BUILD:-0}"
JUNCTION_LOG="${JUNCTION_LOG:-info}"
LITELLM="${LITELLM:-0}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_uint "$DURATION" && (( DURATION >= 1 && DURATION <= 600 )) || die "DURATION must be 1..600 seconds"
is_uint "$WARMUP" && (( WARMUP <= 600 )) || die "WARMUP must be 0..600 seconds"
is_uint "$STREAM_C" && (( STREAM_C >= 1 && STREAM_C <= 1024 )) || die "STREAM_C must be 1..1024"
read -r -a CLIST <<<"$CONCURRENCY"
(( ${#CLIST[@]} >= 1 && ${#CLIST[@]} <= 16 )) || die "CONCURRENCY must list 1..16 levels"
for c in "${CLIST[@]}"; do
    is_uint "$c" && (( c >= 1 && c <= 1024 )) || die "bad concurrency level '$c' (1..1024)"
done
[[ "$LITELLM" == 0 || "$LITELLM" == 1 ]] || die "LITELLM must be 0 or 1"
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"

# ------------------------------------------------------------------ cleanup
PIDS=()
TMP=""
LL_PID=""
cleanup() {
    local rc=$? pid i
    if [[ -n "$LL_PID" ]]; then
        # LiteLLM runs in its own session (setsid), so its process group is its
        # process tree; also signal any descendant that left the group.
        local -a tree=()
        mapfile -t tree < <(python3 "$HELPER" tree-pids "$LL_PID" 2>/dev/null || true)
        kill -TERM -- "-$LL_PID" 2>/dev/null || true
        for pid in "${tree[@]}"; do
            [[ "$pid" == "$LL_PID" ]] || PIDS+=("$pid")
        done
    fi
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # Bounded wait for a graceful exit, then SIGKILL.
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$LL_PID" ]]; then
        kill -KILL -- "-$LL_PID" 2>/dev/null || true
    fi
    if [[ -n "$TMP" && -d "$TMP" ]]; then
        rm -rf -- "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- build
if [[ "$NO_BUILD" != 1 ]]; then
    max_attempts=10
    for ((attempt = 1; ; attempt++)); do
        log "building release binaries (attempt $attempt/$max_attempts)"
        if (cd "$REPO" && cargo build --release -p junction -p junction-mock-upstream); then
            break
        fi
        (( attempt < max_attempts )) || die "cargo build failed $max_attempts times"
        log "build failed (another engineer may be mid-edit); retrying in 60 s"
        sleep 60
    done
fi
[[ -x "$JUNCTION_BIN" ]] || die "missing $JUNCTION_BIN"
[[ -x "$MOCK_BIN" ]] || die "missing $MOCK_BIN"

# ---------------------------------------------------------- load generator
LOADGEN="${LOADGEN:-}"
if [[ -z "$LOADGEN" ]]; then
    if command -v oha >/dev/null; then LOADGEN=oha; else LOADGEN=wrk; fi
fi
case "$LOADGEN" in
oha)
    command -v oha >/dev/null || die "LOADGEN=oha but oha is not on PATH"
    # oha >= 1.5 has --output-format json; older releases use -j.
    if oha --help 2>/dev/null | grep -q -- '--output-format'; then
        OHA_JSON=(--output-format json)
    else
        OHA_JSON=(-j)
    fi
    OHA_WAIT=()
    if oha --help 2>/dev/null | grep -q -- '--wait-ongoing-requests-after-deadline'; then
        OHA_WAIT=(--wait-ongoing-requests-after-deadline)
    fi
    LOADGEN_VERSION="$(oha --version 2>/dev/null | head -n1 || true)"
    ;;
wrk)
    if ! command -v wrk >/dev/null; then
        [[ "$(id -u)" == 0 ]] || die "wrk is not installed and not running as root; install oha or wrk"
        log "installing wrk with apt-get"
        if ! apt-get install -y wrk >&2; then
            log "apt-get install failed; running apt-get update and retrying"
            apt-get update >&2
            apt-get install -y wrk >&2
        fi
    fi
    command -v wrk >/dev/null || die "wrk is still not on PATH"
    LOADGEN_VERSION="$(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2 || true)"
    ;;
*) die "LOADGEN must be oha or wrk" ;;
esac
log "load generator: $LOADGEN ($LOADGEN_VERSION)"

# ---------------------------------------------------------------- LiteLLM
LL_VENV="$REPO/target/bench-litellm-venv"
if [[ "$LITELLM" == 1 ]]; then
    command -v setsid >/dev/null || die "LITELLM=1 needs setsid (util-linux)"
    log "LITELLM=1: making sure $LL_VENV has litellm[proxy] (the first install takes minutes)"
    LL_VERSION="$(LITELLM_VENV="$LL_VENV" bash "$BENCH/litellm-venv.sh")" ||
        die "LITELLM=1: could not install LiteLLM (see the messages above)"
    LL_VERSION="$(tail -n1 <<<"$LL_VERSION")"
    LL_PYTHON="$("$LL_VENV/bin/python" -c 'import sys; print(f"Python {sys.version.split()[0]} ({sys.executable})")')"
    log "LiteLLM $LL_VERSION, $LL_PYTHON"
fi

# ------------------------------------------------------------- processes
TMP="$(mktemp -d "${TMPDIR:-/tmp}/junction-bench.XXXXXX")"
RAW="$TMP/raw.tsv"
: >"$RAW"

BODY="$TMP/body.json"
BODY_STREAM="$TMP/body-stream.json"
printf '%s' '{"model":"mock","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64}' >"$BODY"
printf '%s' '{"model":"mock","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64,"stream":true}' >"$BODY_STREAM"

free_port() { python3 "$HELPER" free-port; }

# wait_ready NAME PID TIMEOUT_S CURL_ARGS... : poll until curl gets HTTP 200.
wait_ready() {
    local name=$1 pid=$2 timeout=$3 code deadline
    shift 3
    deadline=$(($(date +%s) + timeout))
    while (($(date +%s) < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during startup; its stderr:"
            cat "$TMP/$name.err" >&2 || true
            die "$name did not start"
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" || true)"
        if [[ "$code" == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    log "$name stderr:"
    cat "$TMP/$name.err" >&2 || true
    die "$name not ready after ${timeout}s (last HTTP status: ${code:-none})"
}

MOCK_PORT="$(free_port)"
"$MOCK_BIN" --host 127.0.0.1 --port "$MOCK_PORT" >"$TMP/mockllm.out" 2>"$TMP/mockllm.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
MOCK_URL="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
wait_ready mockllm "$MOCK_PID" 20 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $API_KEY" --data-binary "@$BODY" "$MOCK_URL"
log "$(head -n1 "$TMP/mockllm.out") (pid $MOCK_PID)"

cat >"$TMP/config.yaml" <<EOF
model_list:
  - model_name: mock
    litellm_params: {model: openai/mock, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-mock}
general_settings:
  master_key: $API_KEY
  database_url: "sqlite://$TMP/bench.db?mode=rwc"
EOF

GW_PORT="$(free_port)"
RUST_LOG="$JUNCTION_LOG" "$JUNCTION_BIN" serve --config "$TMP/config.yaml" --host 127.0.0.1 --port "$GW_PORT" \
    >"$TMP/junction.out" 2>"$TMP/junction.err" &
GW_PID=$!
PIDS+=("$GW_PID")
GW_URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
wait_ready junction "$GW_PID" 60 "http://127.0.0.1:$GW_PORT/health/liveliness"
log "$(head -n1 "$TMP/junction.out") (pid $GW_PID)"

# One warm-up request through the gateway; it must succeed.
code="$(curl -s -o "$TMP/warmup.json" -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
    --data-binary "@$BODY" "$GW_URL" || true)"
if [[ "$code" != 200 ]]; then
    log "gateway warm-up request returned HTTP ${code:-none}:"
    cat "$TMP/warmup.json" >&2 || true
    die "gateway is not proxying to mockllm"
fi
read -r IDLE_RSS IDLE_HWM < <(python3 "$HELPER" rss "$GW_PID")
log "junction idle RSS: $IDLE_RSS MiB"

if [[ "$LITELLM" == 1 ]]; then
    mkdir -p "$TMP/litellm"
    cat >"$TMP/litellm/config.yaml" <<EOF
model_list:
  - model_name: mock
    litellm_params: {model: openai/mock, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-mock}
general_settings: {master_key: $API_KEY, dangerously_permit_weak_or_unset_master_key: true}
EOF
    LL_PORT="$(free_port)"
    log "starting LiteLLM $LL_VERSION (1 worker) on 127.0.0.1:$LL_PORT; startup takes about 10 s"
    # setsid: its own session and process group, so cleanup can stop the whole tree.
    # LITELLM_LOCAL_MODEL_COST_MAP: use the bundled price map instead of fetching it.
    (cd "$TMP/litellm" && exec env LITELLM_LOCAL_MODEL_COST_MAP=True \
        NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" \
        setsid "$LL_VENV/bin/litellm" --config "$TMP/litellm/config.yaml" \
        --host 127.0.0.1 --port "$LL_PORT" --num_workers 1) \
        </dev/null >"$TMP/litellm.out" 2>"$TMP/litellm.err" &
    LL_PID=$!
    PIDS+=("$LL_PID")
    LL_T0=$(date +%s)
    wait_ready litellm "$LL_PID" 90 "http://127.0.0.1:$LL_PORT/health/liveliness"
    log "LiteLLM healthy after $(($(date +%s) - LL_T0)) s (pid $LL_PID)"
    [[ "$(ps -o pgid= -p "$LL_PID" | tr -d ' ')" == "$LL_PID" ]] ||
        log "warning: LiteLLM is not its own process-group leader; cleanup falls back to its PID tree"
    LL_URL="http://127.0.0.1:$LL_PORT/v1/chat/completions"
    # Warm-up: the first request after startup is slow (lazy imports). All must succeed.
    for ((k = 1; k <= 5; k++)); do
        t0=$(date +%s%N)
        code="$(curl -s -o "$TMP/litellm-warmup.json" -w '%{http_code}' --max-time 60 -X POST \
            -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
            --data-binary "@$BODY" "$LL_URL" || true)"
        if [[ "$code" != 200 ]]; then
            log "LiteLLM warm-up request $k returned HTTP ${code:-none}:"
            cat "$TMP/litellm-warmup.json" >&2 || true
            log "LiteLLM stderr (last 20 lines):"
            tail -n 20 "$TMP/litellm.err" >&2 || true
            die "LiteLLM is not proxying to mockllm"
        fi
        log "LiteLLM warm-up request $k: HTTP 200 in $((($(date +%s%N) - t0) / 1000000)) ms"
    done
    read -r LL_IDLE_RSS LL_IDLE_PROCS < <(python3 "$HELPER" tree-rss "$LL_PID")
    log "LiteLLM idle RSS: $LL_IDLE_RSS MiB ($LL_IDLE_PROCS process(es)); junction: $IDLE_RSS MiB"
fi

CLK_TCK="$(getconf CLK_TCK)"

# --------------------------------------------------------------- load
# run_load URL C SECONDS BODYFILE OUTFILE
run_load() {
    local url=$1 c=$2 secs=$3 body=$4 out=$5 threads
    case "$LOADGEN" in
    wrk)
        threads=$((c < 2 ? c : 2))
        BENCH_BODY_FILE="$body" BENCH_API_KEY="$API_KEY" \
            timeout --signal=INT --kill-after=10 $((secs + 30)) \
            wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s --latency \
            -s "$BENCH/wrk_post.lua" "$url" >"$out" 2>&1
        ;;
    oha)
        timeout --signal=INT --kill-after=10 $((secs + 30)) \
            oha -z "${secs}s" -c "$c" -t 10s -m POST \
            -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
            -D "$body" --no-tui "${OHA_JSON[@]}" "${OHA_WAIT[@]}" "$url" >"$out" 2>"$out.err"
        ;;
    esac
}

cpu_ticks() { python3 "$HELPER" cpu-ticks "$1"; }

# measure MODE TARGET C BODYFILE
measure() {
    local mode=$1 target=$2 c=$3 body=$4 url out gw0 gw1 mk0 mk1
    local requests rps p50 p99 non2xx errors bpr cpu_gw cpu_mock
    local srv_ticks=(python3 "$HELPER" cpu-ticks "$GW_PID")
    case "$target" in
    direct) url="$MOCK_URL" ;;
    gateway) url="$GW_URL" ;;
    litellm)
        url="$LL_URL"
        # For litellm rows the "gw cpu" column is the LiteLLM process tree.
        srv_ticks=(python3 "$HELPER" tree-cpu-ticks "$LL_PID")
        ;;
    esac
    kill -0 "$GW_PID" 2>/dev/null || die "junction died; stderr: $(tail -n 20 "$TMP/junction.err")"
    if [[ -n "$LL_PID" ]]; then
        kill -0 "$LL_PID" 2>/dev/null || die "LiteLLM died; stderr: $(tail -n 20 "$TMP/litellm.err")"
    fi
    kill -0 "$MOCK_PID" 2>/dev/null || die "mockllm died; stderr: $(tail -n 20 "$TMP/mockllm.err")"
    out="$TMP/load-$mode-$target-c$c"
    if ((WARMUP > 0)); then
        run_load "$url" "$c" "$WARMUP" "$body" "$out.warmup" ||
            die "warm-up load failed: $(tail -n 20 "$out.warmup")"
    fi
    gw0=$("${srv_ticks[@]}")
    mk0=$(cpu_ticks "$MOCK_PID")
    run_load "$url" "$c" "$DURATION" "$body" "$out" ||
        die "load failed: $(tail -n 20 "$out")"
    gw1=$("${srv_ticks[@]}")
    mk1=$(cpu_ticks "$MOCK_PID")
    read -r requests rps p50 p99 non2xx errors bpr < <(python3 "$HELPER" parse "$LOADGEN" "$out") || true
    [[ -n "${bpr:-}" ]] || die "cannot parse the $LOADGEN output in $out: $(tail -n 20 "$out")"
    cpu_gw=-
    cpu_mock=-
    if ((requests > 0)); then
        cpu_gw=$(python3 -c "print(f'{($gw1-$gw0)*1e6/$CLK_TCK/$requests:.2f}')")
        cpu_mock=$(python3 -c "print(f'{($mk1-$mk0)*1e6/$CLK_TCK/$requests:.2f}')")
    fi
    printf 'point\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$mode" "$target" "$c" "$requests" "$rps" "$p50" "$p99" "$non2xx" "$errors" "$bpr" \
        "$cpu_gw" "$cpu_mock" >>"$RAW"
    log "$(printf '%-4s C=%-4s %-7s %9s req/s  p50 %8s ms  p99 %8s ms  non2xx %s  errors %s' \
        "$mode" "$c" "$target" "$rps" "$p50" "$p99" "$non2xx" "$errors")"
}

# Direct and gateway (and litellm) back to back for each level; the order
# changes per level so slow drift does not favour one side: direct first, then
# gateway first, ...; with LITELLM=1 the three targets rotate.
if [[ "$LITELLM" == 1 ]]; then TARGETS=(direct gateway litellm); else TARGETS=(direct gateway); fi
order_for() { # order_for I: sets ORDER to TARGETS rotated left by I
    local n=${#TARGETS[@]} j
    ORDER=()
    for ((j = 0; j < n; j++)); do ORDER+=("${TARGETS[(($1 + j) % n)]}"); done
}
i=0
for c in "${CLIST[@]}"; do
    order_for "$i"
    for target in "${ORDER[@]}"; do
        measure json "$target" "$c" "$BODY"
    done
    i=$((i + 1))
done
if [[ "$STREAM" == 1 ]]; then
    order_for "$i"
    for target in "${ORDER[@]}"; do
        measure sse "$target" "$STREAM_C" "$BODY_STREAM"
    done
fi

kill -0 "$GW_PID" 2>/dev/null || die "junction died during the run"
read -r AFTER_RSS AFTER_HWM < <(python3 "$HELPER" rss "$GW_PID")
read -r MOCK_RSS _ < <(python3 "$HELPER" rss "$MOCK_PID")
if [[ "$LITELLM" == 1 ]]; then
    kill -0 "$LL_PID" 2>/dev/null || die "LiteLLM died during the run"
    read -r LL_AFTER_RSS LL_AFTER_PROCS < <(python3 "$HELPER" tree-rss "$LL_PID")
fi

{
    printf 'meta\tloadgen\t%s\n' "$LOADGEN"
    printf 'meta\tloadgen_version\t%s\n' "$LOADGEN_VERSION"
    printf 'meta\tduration_s\t%s\n' "$DURATION"
    printf 'meta\twarmup_s\t%s\n' "$WARMUP"
    printf 'meta\tconcurrency\t%s\n' "${CLIST[*]}"
    printf 'meta\tcpus\t%s\n' "$(nproc)"
    printf 'meta\tkernel\t%s\n' "$(uname -r)"
    printf 'meta\tgit_rev\t%s\n' "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo none)"
    printf 'meta\tidle_rss_mib\t%s\n' "$IDLE_RSS"
    printf 'meta\tidle_hwm_mib\t%s\n' "$IDLE_HWM"
    printf 'meta\tafter_rss_mib\t%s\n' "$AFTER_RSS"
    printf 'meta\tafter_hwm_mib\t%s\n' "$AFTER_HWM"
    printf 'meta\tmock_rss_mib\t%s\n' "$MOCK_RSS"
    printf 'meta\tjunction_stderr_lines\t%s\n' "$(wc -l <"$TMP/junction.err")"
    if [[ "$LITELLM" == 1 ]]; then
        printf 'meta\tlitellm_version\t%s\n' "$LL_VERSION"
        printf 'meta\tlitellm_python\t%s\n' "$LL_PYTHON"
        printf 'meta\tlitellm_workers\t1\n'
        printf 'meta\tlitellm_idle_rss_mib\t%s\n' "$LL_IDLE_RSS"
        printf 'meta\tlitellm_idle_procs\t%s\n' "$LL_IDLE_PROCS"
        printf 'meta\tlitellm_after_rss_mib\t%s\n' "$LL_AFTER_RSS"
        printf 'meta\tlitellm_after_procs\t%s\n' "$LL_AFTER_PROCS"
    fi
} >>"$RAW"

RESULT="$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ).tsv"
mkdir -p "$BENCH/results"
python3 "$HELPER" report "$RAW" "$RESULT"

if [[ -s "$TMP/junction.err" ]]; then
    echo
    echo "junction wrote $(wc -l <"$TMP/junction.err") line(s) on stderr (RUST_LOG=$JUNCTION_LOG); last 10:"
    tail -n 10 "$TMP/junction.err"
fi
