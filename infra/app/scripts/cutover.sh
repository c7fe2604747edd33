#!/usr/bin/env bash
# Puts a server's new app container into service once it is healthy, without touching the
# proxy's config: the proxy balances over two fixed upstream names, app-blue and app-green,
# with active health checks. The new container takes the slot the live one does not hold;
# both serve side by side until Pulumi stops the old one, whose in-flight requests finish
# while new ones are retried on the new container. No proxy reload, no dropped connection.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, APP_CONTAINER, PROXY_CONTAINER, NETWORK,
#      HEALTH_TIMEOUT (seconds), PROXY_SETTLE_SECONDS (a few of the proxy's check intervals).
set -euo pipefail
: "${SERVER:?}" "${APP_CONTAINER:?}" "${PROXY_CONTAINER:?}" "${NETWORK:?}" "${HEALTH_TIMEOUT:?}" "${PROXY_SETTLE_SECONDS:?}"

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

# The live slot is recorded in the proxy's config volume; the new container takes the other.
live="$(docker exec "${PROXY_CONTAINER}" cat /config/platform-live-slot 2>/dev/null || true)"
if [[ "${live}" == "blue" ]]; then slot="green"; else slot="blue"; fi

docker network connect --alias "app-${slot}" "${NETWORK}" "${APP_CONTAINER}"
docker exec "${PROXY_CONTAINER}" sh -c "echo ${slot} > /config/platform-live-slot"
# Until the proxy's next active check it still counts the new slot as down; returning only
# after a few intervals means the old container is never stopped before the new one is in
# rotation.
sleep "${PROXY_SETTLE_SECONDS}"
echo "${SERVER}: ${APP_CONTAINER} now serves as app-${slot}"

# Keep a week of images on the host so a rollback to a recent release starts without a pull.
docker image prune --all --force --filter "until=168h" >/dev/null || true
