#!/usr/bin/env bash
# The in-service step, run when a server was just resized (the step's update: powered off,
# resized and powered on by the DigitalOcean provider) or rebuilt (a new droplet, so a new
# step: its create). It waits until the server serves its health endpoint through its own
# proxy again, so the next server is not touched before this one is back behind the edge.
# Any other change to the step's inputs (a new health path or timeout) updates it too; then
# the recorded size is unchanged and it returns at once. A new server while none of the
# others serves (the first `up` of a stack) has nothing to keep up: it returns at once too,
# since waiting there would wait for a database that waits for every server.
# Runs on the machine running Pulumi, which must be on the tailnet.
# Env: SIZE (the droplet's size now), SERVER (tailnet hostname), DEPLOY_USER,
#      PROBE_ARGS (curl arguments that reach the proxy on the server's loopback,
#      shell-quoted), TIMEOUT (seconds), OTHERS (the neighbouring server whose service a
#      rebuild must keep: the previous one, or the next for the first),
#      PULUMI_COMMAND_STDOUT (the last run's stdout, unset on create,
#      set by the command provider: `size=<slug>`), INTERVAL (seconds between probes, 5).
# Stdout is exactly `size=<slug>`, which the next run compares with; progress goes to stderr.
set -euo pipefail
: "${SIZE:?}" "${SERVER:?}" "${DEPLOY_USER:?}" "${PROBE_ARGS:?}" "${TIMEOUT:?}"

if [[ "${PULUMI_COMMAND_STDOUT:-}" == "size=${SIZE}" ]]; then
    echo "${SERVER}: not resized, nothing to wait for" >&2
    echo "size=${SIZE}"
    exit 0
fi

ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=accept-new)
serves() {
    # PROBE_ARGS is built by the program with every word shell-quoted; it is meant to expand
    # here and run on the server.
    # shellcheck disable=SC2029
    ssh "${ssh_opts[@]}" "${DEPLOY_USER}@$1" "curl -fsS -o /dev/null --max-time 5 ${PROBE_ARGS}" >&2
}

if [[ -z "${PULUMI_COMMAND_STDOUT:-}" ]]; then
    others_serve=false
    for other in ${OTHERS:-}; do
        if serves "${other}"; then others_serve=true; break; fi
    done
    if [[ "${others_serve}" != true ]]; then
        echo "${SERVER}: new, and no other server serves yet: nothing to keep up" >&2
        echo "size=${SIZE}"
        exit 0
    fi
fi

deadline=$((SECONDS + TIMEOUT))
echo "waiting up to ${TIMEOUT}s for ${SERVER} (${SIZE}) to serve before the next server is touched" >&2
until serves "${SERVER}"; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER} did not serve its health endpoint within ${TIMEOUT}s of its resize or rebuild; the next server was not touched." >&2
        echo "  On the server: docker ps; docker logs edge-proxy --tail 50" >&2
        exit 1
    fi
    sleep "${INTERVAL:-5}"
done
echo "${SERVER} is back in service" >&2
echo "size=${SIZE}"
