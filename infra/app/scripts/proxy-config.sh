#!/usr/bin/env bash
# Loads the edge proxy's config (new domains, a new proxy container) through Caddy's admin
# API, with the upstreams the last cut-over recorded, then checks the proxy answers through
# its verify listener. Runs when the config or the proxy container changes, never on a
# routine deploy.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, PROXY_CONTAINER, PROXY_CONFIG (Caddy JSON
#      with the upstreams placeholder), HEALTH_PATH, PROBE_TIMEOUT, READY_TIMEOUT (seconds),
#      VERIFY_URL (the proxy's verify listener, inside the proxy container).
set -euo pipefail
: "${SERVER:?}" "${PROXY_CONTAINER:?}" "${PROXY_CONFIG:?}" "${HEALTH_PATH:?}" "${PROBE_TIMEOUT:?}" "${READY_TIMEOUT:?}" "${VERIFY_URL:?}"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # platform:include (script() inlines lib.sh here)

# The record is read and the config reloaded under the cut-over's per-host lock: a cut-over
# in another process cannot change the record in between and have its switch undone.
trap release_lock EXIT
acquire_lock "${READY_TIMEOUT}"

read -r -a upstreams <<<"$(read_state)" || true
deadline=$((SECONDS + READY_TIMEOUT))
# A proxy container that was just (re)created may not have its admin API up yet.
until load "$(render "${PROXY_CONFIG}" "${upstreams[@]}")"; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER}: the edge proxy did not accept its config within ${READY_TIMEOUT}s." >&2
        echo "  See: ssh deploy@${SERVER} docker logs --tail 100 ${PROXY_CONTAINER}" >&2
        exit 1
    fi
    sleep 1
done
echo "${SERVER}: edge proxy config loaded (upstreams: ${upstreams[*]:-none yet})"

# Before the next server's proxy is touched, this one must serve again (an upgrade
# replaces the container). With no release yet there is nothing to check.
((${#upstreams[@]} > 0)) || exit 0
until [[ "$(probe "${VERIFY_URL}${HEALTH_PATH}" "${PROBE_TIMEOUT}")" == 200* ]]; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER}: the edge proxy loaded its config but ${HEALTH_PATH} does not answer 200 through it." >&2
        exit 1
    fi
    sleep 1
done
echo "${SERVER}: edge proxy serves ${upstreams[0]}"
