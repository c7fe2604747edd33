#!/usr/bin/env bash
# Runs as the in-service step's update: when a server was just resized (powered off,
# resized and powered on by the DigitalOcean provider), waits until it serves its health
# endpoint through its own proxy again, so the next server is not touched before this one
# is back behind the edge. Any other change to this step's inputs (a new health path or
# timeout) updates it too; then the recorded size is unchanged and it returns at once.
# Runs on the machine running Pulumi, which must be on the tailnet.
# Env: SIZE (the droplet's size now), SERVER (tailnet hostname), DEPLOY_USER,
#      PROBE_ARGS (curl arguments that reach the proxy on the server's loopback,
#      shell-quoted), TIMEOUT (seconds), PULUMI_COMMAND_STDOUT (the last run's stdout,
#      set by the command provider: `size=<slug>`), INTERVAL (seconds between probes, 5).
# Stdout is exactly `size=<slug>`, which the next run compares with; progress goes to stderr.
set -euo pipefail
: "${SIZE:?}" "${SERVER:?}" "${DEPLOY_USER:?}" "${PROBE_ARGS:?}" "${TIMEOUT:?}"

if [[ "${PULUMI_COMMAND_STDOUT:-}" == "size=${SIZE}" ]]; then
    echo "${SERVER}: not resized, nothing to wait for" >&2
    echo "size=${SIZE}"
    exit 0
fi

deadline=$((SECONDS + TIMEOUT))
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=accept-new)
echo "waiting up to ${TIMEOUT}s for ${SERVER} to serve again after its resize to ${SIZE}" >&2
# PROBE_ARGS is built by the program with every word shell-quoted; it is meant to expand
# here and run on the server.
# shellcheck disable=SC2029
until ssh "${ssh_opts[@]}" "${DEPLOY_USER}@${SERVER}" "curl -fsS -o /dev/null --max-time 5 ${PROBE_ARGS}" >&2; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER} did not serve its health endpoint within ${TIMEOUT}s of its resize; the next server was not touched." >&2
        echo "  On the server: docker ps; docker logs edge-proxy --tail 50" >&2
        exit 1
    fi
    sleep "${INTERVAL:-5}"
done
echo "${SERVER} is back in service" >&2
echo "size=${SIZE}"
