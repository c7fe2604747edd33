#!/usr/bin/env bash
# Runs the database migrations once per deploy, from the new image, before any new app
# container starts. A non-zero exit stops the deploy; the previous version keeps serving.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, IMAGE (repo@sha256:...),
#      DATABASE_URL (secret, direct connection), MIGRATE_ARGS (argv, shell-quoted).
set -euo pipefail
: "${DOCKER_HOST:?}" "${SERVER:?}" "${IMAGE:?}" "${DATABASE_URL:?}" "${MIGRATE_ARGS:?}"

# MIGRATE_ARGS is built by the program with every word shell-quoted.
eval "set -- ${MIGRATE_ARGS}"
echo "running migrations on ${SERVER} from ${IMAGE}: $*"
if ! docker run --rm --pull never --env DATABASE_URL --label platform.role=migrate "${IMAGE}" "$@"; then
    echo "error: the migration from ${IMAGE} failed on ${SERVER}; nothing was cut over and the previous version keeps serving." >&2
    echo "  Re-run it by hand to see why: ssh deploy@${SERVER} docker run --rm -e DATABASE_URL ${IMAGE} $*" >&2
    exit 1
fi
echo "migrations finished"
