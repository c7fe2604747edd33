#!/usr/bin/env bash
# Loads a changed edge proxy config (new domains, health path) through Caddy's admin API.
# Runs only when the config itself changes, never on a routine deploy.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, PROXY_CONTAINER, PROXY_CONFIG (Caddy JSON).
set -euo pipefail
: "${SERVER:?}" "${PROXY_CONTAINER:?}" "${PROXY_CONFIG:?}"

printf '%s' "${PROXY_CONFIG}" | docker exec -i "${PROXY_CONTAINER}" caddy reload --config /dev/stdin
echo "${SERVER}: edge proxy config loaded"
