#!/usr/bin/env bash
# Gates a release on its workers: each new worker container must stay running, without a
# restart, for STABLE_SECONDS. A crash-looping worker fails the deploy before the cut-over,
# so the previous release keeps serving and the deploy exits non-zero with the reason.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, WORKERS (container names, space-separated),
#      STABLE_SECONDS.
set -euo pipefail
: "${SERVER:?}" "${WORKERS:?}" "${STABLE_SECONDS:?}"

declare -A started
for w in ${WORKERS}; do
    started[${w}]="$(docker inspect --format '{{.State.StartedAt}}' "${w}" 2>/dev/null || echo missing)"
done
deadline=$((SECONDS + STABLE_SECONDS))
while :; do
    for w in ${WORKERS}; do
        read -r status restarts at <<<"$(docker inspect --format '{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}' "${w}" 2>/dev/null || echo missing)"
        if [[ "${status}" != "running" || "${restarts:-0}" != 0 || "${at:-}" != "${started[${w}]}" ]]; then
            echo "error: ${SERVER}: worker ${w} is not staying up (status ${status}, ${restarts:-?} restart(s)); the release is not cut over and the previous one keeps serving." >&2
            echo "  See its logs: ssh deploy@${SERVER} docker logs --tail 200 ${w}" >&2
            exit 1
        fi
    done
    ((SECONDS < deadline)) || break
    sleep 1
done
echo "${SERVER}: workers up for ${STABLE_SECONDS}s: ${WORKERS}"
