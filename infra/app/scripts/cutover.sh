#!/usr/bin/env bash
# Points a server's edge proxy at its new app container, once that container is healthy.
# The old container keeps serving until this succeeds; Pulumi removes it afterwards.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, APP_CONTAINER, PROXY_CONTAINER,
#      PROXY_CONFIG (Caddy JSON), HEALTH_TIMEOUT (seconds).
set -euo pipefail
: "${SERVER:?}" "${APP_CONTAINER:?}" "${PROXY_CONTAINER:?}" "${PROXY_CONFIG:?}" "${HEALTH_TIMEOUT:?}"

deadline=$((SECONDS + HEALTH_TIMEOUT))
while :; do
    status="$(docker inspect --format '{{.State.Health.Status}}' "${APP_CONTAINER}" 2>/dev/null || echo missing)"
    [[ "${status}" == "healthy" ]] && break
    if [[ "${status}" == "missing" || "${status}" == "exited" ]] || ((SECONDS >= deadline)); then
        echo "error: app container ${APP_CONTAINER} on ${SERVER} failed its health check (status: ${status}); traffic stays on the previous version." >&2
        echo "  See its logs: ssh deploy@${SERVER} docker logs --tail 200 ${APP_CONTAINER}" >&2
        exit 1
    fi
    sleep 1
done

# caddy reload loads the config through the admin API: in-flight requests finish on the old
# upstream, new ones go to the new container, and no listener is closed in between.
printf '%s' "${PROXY_CONFIG}" | docker exec -i "${PROXY_CONTAINER}" caddy reload --config /dev/stdin
echo "${SERVER}: traffic now goes to ${APP_CONTAINER}"

# Keep a week of images on the host so a rollback to a recent release starts without a pull.
docker image prune --all --force --filter "until=168h" >/dev/null || true
