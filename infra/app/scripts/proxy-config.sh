#!/usr/bin/env bash
# Loads the edge proxy's config (new routes or domains, a new proxy container) through
# Caddy's admin API, with the upstreams the last cut-overs recorded, then checks the proxy
# answers each service that has a release through that service's verify listener. Runs when
# the config or the proxy container changes, never on a routine deploy.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, PROXY_CONTAINER, PROXY_CONFIG (Caddy JSON
#      with the upstreams placeholders), PROBE_TIMEOUT, READY_TIMEOUT (seconds),
#      CHECKS ("service|url|status ...": per service, a URL inside the proxy container, on
#      its verify listener, and the status it must answer, or `any` for below 500).
set -euo pipefail
: "${SERVER:?}" "${PROXY_CONTAINER:?}" "${PROXY_CONFIG:?}" "${PROBE_TIMEOUT:?}" "${READY_TIMEOUT:?}" "${CHECKS:?}"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # platform:include (script() inlines lib.sh here)

# The record is read and the config reloaded under the cut-over's per-host lock: a cut-over
# in another process cannot change the record in between and have its switch undone.
trap release_lock EXIT
acquire_lock "${READY_TIMEOUT}"

deadline=$((SECONDS + READY_TIMEOUT))
# A proxy container that was just (re)created may not have its admin API up yet.
until load "$(render "${PROXY_CONFIG}")"; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER}: the edge proxy did not accept its config within ${READY_TIMEOUT}s." >&2
        echo "  See: ssh deploy@${SERVER} docker logs --tail 100 ${PROXY_CONTAINER}" >&2
        exit 1
    fi
    sleep 1
done
echo "${SERVER}: edge proxy config loaded"

# Before the next server's proxy is touched, this one must serve again (an upgrade
# replaces the container): every service that has a release answers through it.
for item in ${CHECKS}; do
    IFS='|' read -r service url want <<<"${item}"
    read -r -a upstreams <<<"$(read_state "${service}")" || true
    if ((${#upstreams[@]} == 0)); then
        echo "${SERVER}: ${service} has no release yet"
        continue
    fi
    until got="$(probe "${url}" "${PROBE_TIMEOUT}")" && [[ "${got%% *}" == "${want}" || ("${want}" == any && "${got%% *}" =~ ^[1-4][0-9][0-9]$) ]]; do
        if ((SECONDS >= deadline)); then
            echo "error: ${SERVER}: the edge proxy loaded its config but ${service} does not answer /${url#http://*/} with ${want} through it (last: ${got%% *})." >&2
            exit 1
        fi
        sleep 1
    done
    echo "${SERVER}: edge proxy serves ${service} from ${upstreams[0]}"
done
