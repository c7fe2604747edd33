#!/usr/bin/env bash
# Waits until a server that was just resized (powered off, resized, powered on by the
# DigitalOcean provider) serves its health endpoint through its own proxy again, so the next
# server is not touched before this one is back behind the edge. Runs on the machine
# running Pulumi, which must be on the tailnet.
# Env: SERVER (tailnet hostname), DEPLOY_USER, PROBE_ARGS (curl arguments that reach the
#      proxy on the server's loopback, shell-quoted), TIMEOUT (seconds).
set -euo pipefail
: "${SERVER:?}" "${DEPLOY_USER:?}" "${PROBE_ARGS:?}" "${TIMEOUT:?}"

deadline=$((SECONDS + TIMEOUT))
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=accept-new)
echo "waiting up to ${TIMEOUT}s for ${SERVER} to serve again after its resize"
# PROBE_ARGS is built by the program with every word shell-quoted; it is meant to expand
# here and run on the server.
# shellcheck disable=SC2029
until ssh "${ssh_opts[@]}" "${DEPLOY_USER}@${SERVER}" "curl -fsS -o /dev/null --max-time 5 ${PROBE_ARGS}"; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER} did not serve its health endpoint within ${TIMEOUT}s of its resize; the next server was not touched." >&2
        echo "  On the server: docker ps; docker logs edge-proxy --tail 50" >&2
        exit 1
    fi
    sleep 5
done
echo "${SERVER} is back in service"
