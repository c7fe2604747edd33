#!/usr/bin/env bash
# Waits until a new server has finished cloud-init and its Docker daemon answers over the
# tailnet, so the first `pulumi up` does not race the boot. Runs on the machine running
# Pulumi (a laptop or the CI runner), which must be on the tailnet.
# Env: SERVER (tailnet hostname), DEPLOY_USER, BOOT_TIMEOUT (seconds).
set -euo pipefail
: "${SERVER:?}" "${DEPLOY_USER:?}" "${BOOT_TIMEOUT:?}"

deadline=$((SECONDS + BOOT_TIMEOUT))
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=accept-new)
echo "waiting up to ${BOOT_TIMEOUT}s for ${SERVER} to finish cloud-init"
until ssh "${ssh_opts[@]}" "${DEPLOY_USER}@${SERVER}" \
    'cloud-init status --wait >/dev/null 2>&1; test -f /var/lib/cloud/instance/boot-finished && docker info >/dev/null 2>&1'; do
    if ((SECONDS >= deadline)); then
        echo "error: ${SERVER} did not finish cloud-init and answer as ${DEPLOY_USER} over the tailnet within ${BOOT_TIMEOUT}s." >&2
        echo "  Is this machine on the tailnet (tailscale status)? On the droplet console run: cloud-init status --long; journalctl -u cloud-final" >&2
        exit 1
    fi
    sleep 10
done
echo "${SERVER} is ready"
