# shellcheck shell=bash
# Shared by the on-server scripts (sourced, never run): the proxy's upstream record, config
# rendering, probes from the proxy's network, and the per-host cut-over lock.
# Needs: PROXY_CONTAINER. The proxy image must have `sh`, `cat`, `timeout` and `wget`
# (busybox, as in caddy:*-alpine): every probe runs inside the proxy container, so the app's
# image needs no HTTP client at all.

# The record of which containers the proxy routes a service to: "<current> [<previous>]" as
# host:port, one file per service.
STATE_DIR=/config

# read_state SERVICE
read_state() {
    docker exec "${PROXY_CONTAINER}" sh -c 'cat "$1" 2>/dev/null || true' sh "${STATE_DIR}/platform-upstreams-$1" 2>/dev/null || true
}

# write_state SERVICE UPSTREAM...
write_state() {
    local service="$1"
    shift
    docker exec "${PROXY_CONTAINER}" sh -c 'printf "%s\n" "$1" > "$2.tmp" && mv "$2.tmp" "$2"' sh "$*" "${STATE_DIR}/platform-upstreams-${service}"
}

# render CONFIG [SERVICE UPSTREAM...]: the config with each service's placeholder replaced by
# its upstream list: SERVICE's from the arguments, every other service's from its record.
render() {
    local config="$1" service="${2:-}" placeholder name json u
    local -a ups placeholders
    shift
    [[ $# -eq 0 ]] || shift
    mapfile -t placeholders < <(grep -o '"__PLATFORM_UPSTREAMS_[a-z0-9-]*__"' <<<"${config}" | sort -u)
    for placeholder in "${placeholders[@]}"; do
        name="${placeholder#\"__PLATFORM_UPSTREAMS_}"
        name="${name%__\"}"
        if [[ "${name}" == "${service}" ]]; then ups=("$@"); else read -r -a ups <<<"$(read_state "${name}")" || true; fi
        json=""
        for u in "${ups[@]}"; do json+="${json:+,}{\"dial\":\"${u}\"}"; done
        config="${config//${placeholder}/[${json}]}"
    done
    printf '%s' "${config}"
}

# load CONFIG: loads a complete config through the admin API; Caddy swaps it gracefully
# (in-flight requests finish on the old handlers, the listeners stay open).
load() {
    printf '%s' "$1" | docker exec -i "${PROXY_CONTAINER}" caddy reload --config /dev/stdin --adapter "" >/dev/null 2>&1
}

# probe URL TIMEOUT: prints "<status> <upstream>" for one GET from inside the proxy
# container ("none" when nothing answered within TIMEOUT seconds). Through a verify listener
# the status is the upstream's own (its X-Platform-Status header): the listener answers 200
# so that wget prints the headers.
probe() {
    docker exec "${PROXY_CONTAINER}" sh -c 'timeout "$1" wget -S -q -O /dev/null "$2" 2>&1; true' sh "$2" "$1" |
        awk 'BEGIN { s = "none" } /^  HTTP\// { s = $2 } tolower($1) == "x-platform-status:" { v = $2 } tolower($1) == "x-platform-upstream:" { u = $2 }
            END { if (v != "") s = v; print s, u }'
}

container_status() {
    docker inspect --format '{{.State.Status}}' "$1" 2>/dev/null || echo missing
}

# The per-host lock: a container named LOCK_NAME whose only process is `cat` reading the
# lock holder's stdin. The daemon creates a name at most once, so two cut-overs cannot
# both hold it; and when the holder dies (killed job, dropped SSH connection) its end of
# the pipe closes, `cat` exits, and `--rm` frees the name: no stale lock after a crash.
LOCK_NAME=platform-cutover-lock

acquire_lock() {
    local timeout="$1" token image deadline state owner
    token="$$-${RANDOM}${RANDOM}"
    image="$(docker inspect --format '{{.Image}}' "${PROXY_CONTAINER}")"
    deadline=$((SECONDS + timeout))
    while :; do
        exec {LOCK_FD}> >(exec docker run --rm -i --name "${LOCK_NAME}" --network none --log-driver none \
            --label platform.role=lock --label "platform.lock-owner=${token}" --entrypoint cat "${image}" >/dev/null 2>&1)
        LOCK_PID=$!
        while :; do
            owner="$(docker inspect --format '{{.State.Status}} {{index .Config.Labels "platform.lock-owner"}}' "${LOCK_NAME}" 2>/dev/null || true)"
            [[ "${owner}" == "running ${token}" ]] && return 0
            kill -0 "${LOCK_PID}" 2>/dev/null || break # the name was taken: someone else holds it
            sleep 0.2
        done
        exec {LOCK_FD}>&-
        state="${owner%% *}"
        # A holder killed between create and start leaves a container that never runs.
        if [[ "${state}" == "created" || "${state}" == "exited" ]]; then
            # Without -f: a container that started meanwhile is a live holder, and stays.
            docker rm "${LOCK_NAME}" >/dev/null 2>&1 || true
        fi
        if ((SECONDS >= deadline)); then
            echo "error: another cut-over on ${SERVER} has held the lock for over ${timeout}s; nothing was changed." >&2
            echo "  See who holds it: ssh deploy@${SERVER} docker ps --filter name=${LOCK_NAME}" >&2
            exit 1
        fi
        echo "${SERVER}: waiting for another cut-over to finish"
        sleep 1
    done
}

release_lock() {
    [[ -n "${LOCK_FD:-}" ]] || return 0
    exec {LOCK_FD}>&-
    wait "${LOCK_PID}" 2>/dev/null || true
}
