#!/usr/bin/env bash
# Puts a server's new container of one service into service, and proves it through the
# proxy before returning; otherwise the previous release keeps (or gets back) all traffic and this exits
# non-zero with the reason. Pulumi removes the previous container only after a success.
#
#  1. lock the host (two cut-overs at once would fight over the proxy);
#  2. wait until the new container is healthy: HEALTH=http answers HEALTH_PATH with 200 from
#     the proxy's network (Docker's own health status lags by up to interval x retries, and
#     needs curl or wget in the image), several times in a row, each within the proxy's
#     timeout; HEALTH=docker: Docker reports its healthcheck command healthy; HEALTH=none (a
#     static site): it answers HTTP on its port with a status below 500, several times;
#  3. run the smoke requests against it directly: a release whose pages fail never gets
#     traffic;
#  4. switch: for this service's routes, the proxy prefers the new container and keeps the
#     previous one as a fallback; the other services' routes keep their records;
#  5. verify through the proxy for VERIFY_SECONDS that health and smoke requests are
#     answered by the new container; if not, switch back to the previous one.
# Re-running after an interruption is safe: each step checks what is already done.
#
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, SERVICE, APP_CONTAINER, APP_PORT,
#      HEALTH (http, docker or none), HEALTH_PATH (with http),
#      PROXY_CONTAINER, NETWORK, PROXY_CONFIG (Caddy JSON with the upstreams placeholders),
#      HEALTH_TIMEOUT, PROBE_TIMEOUT, VERIFY_SECONDS, LOCK_TIMEOUT (seconds),
#      SMOKE ("path=status ..."; may be empty), VERIFY_URL (the service's verify listener, as
#      seen inside the proxy container).
set -euo pipefail
: "${SERVER:?}" "${SERVICE:?}" "${APP_CONTAINER:?}" "${APP_PORT:?}" "${HEALTH:?}" "${PROXY_CONTAINER:?}" "${NETWORK:?}"
: "${PROXY_CONFIG:?}" "${HEALTH_TIMEOUT:?}" "${PROBE_TIMEOUT:?}" "${VERIFY_SECONDS:?}" "${LOCK_TIMEOUT:?}" "${VERIFY_URL:?}"
SMOKE="${SMOKE:-}"
HEALTH_PATH="${HEALTH_PATH:-}"
case "${HEALTH}" in
    http) : "${HEALTH_PATH:?HEALTH=http needs HEALTH_PATH}" ;;
    docker | none) ;;
    *) echo "error: HEALTH=${HEALTH}: expected http, docker or none" >&2 && exit 2 ;;
esac
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # platform:include (script() inlines lib.sh here)

target="${APP_CONTAINER}:${APP_PORT}"
fail() {
    echo "error: ${SERVER}: ${APP_CONTAINER} was not put into service: $1; $2" >&2
    echo "  See its logs: ssh deploy@${SERVER} docker logs --tail 200 ${APP_CONTAINER}" >&2
    exit 1
}

# What every answer through the proxy must be: the health path (HEALTH=http) and the smoke
# requests; a service with neither must at least answer / with a status below 500.
checks="${SMOKE}"
[[ "${HEALTH}" != http ]] || checks="${HEALTH_PATH}=200 ${checks}"
[[ -n "${checks// /}" ]] || checks="/=any"

# answered STATUS WANT: STATUS is what WANT asks for (a code, or `any`: below 500).
answered() {
    if [[ "$2" == any ]]; then [[ "$1" =~ ^[1-4][0-9][0-9]$ ]]; else [[ "$1" == "$2" ]]; fi
}

# check BASE: every smoke request against BASE answers its expected status; with
# WANT_UPSTREAM set, each must also have been answered by that upstream. Prints the first
# mismatch and returns 1.
check() {
    local base="$1" item path want got
    for item in ${checks}; do
        path="${item%=*}"
        want="${item##*=}"
        got="$(probe "${base}${path}" "${PROBE_TIMEOUT}")"
        if ! answered "${got%% *}" "${want}" || [[ -n "${WANT_UPSTREAM:-}" && "${got#* }" != "${WANT_UPSTREAM}" ]]; then
            [[ "${want}" != any ]] || want="an answer below 500"
            echo "GET ${path} answered ${got%% *}${WANT_UPSTREAM:+ from ${got#* }}, expected ${want}${WANT_UPSTREAM:+ from ${WANT_UPSTREAM}}"
            return 1
        fi
    done
}

# Why the new container is not fit to serve ("" when it is): stopped, or restarted since
# this cut-over began (a process that crashed once and came back is not a release to trust).
unfit() {
    local state
    state="$(docker inspect --format '{{.State.Status}} {{.RestartCount}}' "${APP_CONTAINER}" 2>/dev/null || echo missing)"
    if [[ "${state%% *}" != running ]]; then echo "the container is ${state%% *}"
    elif [[ "${state#* }" != "${restarts}" ]]; then echo "the container restarted (its process exited)"
    fi
}

running_or_fail() {
    local why
    why="$(unfit)"
    [[ -z "${why}" ]] || fail "${why}" "$1"
}

trap release_lock EXIT
acquire_lock "${LOCK_TIMEOUT}"

read -r current previous <<<"$(read_state "${SERVICE}") " || true
restarts="$(docker inspect --format '{{.RestartCount}}' "${APP_CONTAINER}" 2>/dev/null || echo 0)"
keep="the previous release keeps serving"

if [[ "${current:-}" != "${target}" ]]; then
    running_or_fail "${keep}"
    # Created on the proxy's network by Pulumi; connecting again is a no-op we skip.
    if [[ -z "$(docker inspect --format "{{with index .NetworkSettings.Networks \"${NETWORK}\"}}on{{end}}" "${APP_CONTAINER}")" ]]; then
        docker network connect "${NETWORK}" "${APP_CONTAINER}"
    fi

    # 2. healthy: three answers in a row (HTTP ones each within PROBE_TIMEOUT, as the proxy
    #    sees them), or Docker's healthcheck says so.
    deadline=$((SECONDS + HEALTH_TIMEOUT))
    ok=0
    last=""
    case "${HEALTH}" in
        http) what="GET ${HEALTH_PATH} did not answer 200 within ${PROBE_TIMEOUT}s three times in a row" ;;
        none) what="GET / did not answer (any status below 500) within ${PROBE_TIMEOUT}s three times in a row" ;;
        docker) what="its healthcheck command did not report healthy" ;;
    esac
    while ((ok < 3)); do
        running_or_fail "${keep}"
        case "${HEALTH}" in
            http) got="$(probe "http://${target}${HEALTH_PATH}" "${PROBE_TIMEOUT}")" && want=200 ;;
            none) got="$(probe "http://${target}/" "${PROBE_TIMEOUT}")" && want=any ;;
            docker) got="$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}' "${APP_CONTAINER}" 2>/dev/null || echo missing)" && want=healthy ;;
        esac
        # Docker's status already stands for several checks in a row.
        if ! answered "${got%% *}" "${want}"; then ok=0; last="${got%% *}"
        elif [[ "${HEALTH}" == docker ]]; then ok=3
        else ok=$((ok + 1)); fi
        if ((ok < 3 && SECONDS >= deadline)); then
            fail "${what} in ${HEALTH_TIMEOUT}s (last: ${last:-none})" "${keep}"
        fi
        ((ok >= 3)) || sleep 0.5
    done

    # 3. the pages, not just the health endpoint, before any user request reaches it.
    if ! why="$(check "http://${target}")"; then fail "${why}" "${keep}"; fi

    # 4. switch. The previous release stays second, so requests it can still take while
    #    the new one fails are not lost.
    if [[ -n "${current:-}" ]]; then previous="${current}"; else previous=""; fi
    # shellcheck disable=SC2086 # previous is one word or empty
    load "$(render "${PROXY_CONFIG}" "${SERVICE}" "${target}" ${previous})" || fail "the proxy refused the new config" "${keep}"
    write_state "${SERVICE}" "${target}" "${previous}"
fi

# 5. verify through the proxy, for long enough to see a container that dies after starting.
# A dead or restarted container switches back at once. A failed check counts as a strike, and
# two in a row switch back: one transient answer (a 503 while the database fails over) is not
# the release's fault. A strike pending when the window ends is settled by one more check.
deadline=$((SECONDS + VERIFY_SECONDS))
strikes=0
while :; do
    why="$(unfit)"
    if [[ -z "${why}" ]]; then
        if why="$(WANT_UPSTREAM="${target}" check "${VERIFY_URL}")"; then
            strikes=0
        else
            strikes=$((strikes + 1))
            ((strikes >= 2)) || { echo "${SERVER}: ${why} (once; checking again)" >&2; why=""; }
        fi
    fi
    if [[ -n "${why}" ]]; then
        if [[ -n "${previous:-}" && "$(container_status "${previous%:*}")" == "running" ]]; then
            if load "$(render "${PROXY_CONFIG}" "${SERVICE}" "${previous}")" && write_state "${SERVICE}" "${previous}"; then
                fail "${why}, after the switch" "switched back to ${previous%:*}, which serves again"
            fi
            fail "${why}, after the switch" "switching back to ${previous%:*} failed too: check the proxy now"
        fi
        fail "${why}, after the switch" "no previous release is running to switch back to"
    fi
    ((SECONDS < deadline || strikes > 0)) || break
    sleep 0.5
done
echo "${SERVER}: ${APP_CONTAINER} serves all traffic (verified through the proxy for ${VERIFY_SECONDS}s)"

# Keep a week of images on the host so a rollback to a recent release starts without a pull.
docker image prune --all --force --filter "until=168h" >/dev/null || true
