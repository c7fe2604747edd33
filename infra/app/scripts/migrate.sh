#!/usr/bin/env bash
# Runs the database migrations once per deploy, from the new image, before any new app
# container starts. A non-zero exit stops the deploy; the previous version keeps serving.
# Before migrating it records the restore point: the database's own clock, printed as
# `platform.restore-point=<UTC time>`, which the program keeps in the release record, so
# every release says "the data as it was just before me" (npm run restore --to-release).
# No clock, no migration: the deploy stops before anything changes.
# Env: DOCKER_HOST (ssh://deploy@server), SERVER, IMAGE (repo@sha256:...),
#      DATABASE_URL (secret, direct connection), MIGRATE_ARGS (argv, shell-quoted),
#      PG_CLIENT_IMAGE (an image with psql and pg_dump, pinned; empty skips the restore point),
#      optionally DUMP_URL (https://<region>.digitaloceanspaces.com/<bucket>), DUMP_REGION,
#      DUMP_PREFIX, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (secret): a logical dump is
#      uploaded there first; a failed dump or upload stops the deploy before anything changes.
set -euo pipefail
: "${DOCKER_HOST:?}" "${SERVER:?}" "${IMAGE:?}" "${DATABASE_URL:?}" "${MIGRATE_ARGS:?}"

# MIGRATE_ARGS is built by the program with every word shell-quoted.
eval "set -- ${MIGRATE_ARGS}"

# The dump upload below signs with `curl --aws-sigv4 ... -T`. curl before 8.0.0 signs an
# upload's payload wrongly (curl commit 495d09810aa9, "aws_sigv4: fall back to
# UNSIGNED-PAYLOAD for sign_as_s3", first in curl-8_0_0), and Spaces refuses it only after the
# dump ran. curl runs here, on the machine running this script (the deployer), not in an
# image, so its version is checked here, before the database is touched.
if [[ -n "${DUMP_URL:-}" ]]; then
    curl_version="$(curl --version 2>/dev/null || true)"
    curl_version="${curl_version#curl }"
    curl_version="${curl_version%% *}"
    if ! [[ "${curl_version%%.*}" =~ ^[0-9]+$ ]] || ((${curl_version%%.*} < 8)); then
        echo "error: curl ${curl_version:-(not found)} on $(uname -n) cannot sign the dump upload: curl >= 8.0.0 is needed to sign an upload with --aws-sigv4 (install a newer curl, or unset dbDump); nothing was dumped, migrated or cut over and the previous version keeps serving." >&2
        exit 1
    fi
fi

if [[ -n "${PG_CLIENT_IMAGE:-}" ]]; then
    # The URL reaches psql through the environment, never a command line.
    # shellcheck disable=SC2016 # expanded inside the client container, not here
    clock_sql='SELECT to_char(now() AT TIME ZONE '"'UTC'"', '"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"')'
    if ! rp="$(docker run --rm --env DATABASE_URL --env CLOCK_SQL="${clock_sql}" --label platform.role=restore-point "${PG_CLIENT_IMAGE}" \
        sh -c 'exec psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$CLOCK_SQL"')" || [[ -z "${rp}" ]]; then
        echo "error: could not read the database's clock on ${SERVER} for the restore point; nothing was migrated or cut over and the previous version keeps serving." >&2
        exit 1
    fi
    echo "platform.restore-point=${rp}"
fi

if [[ -n "${DUMP_URL:-}" ]]; then
    : "${PG_CLIENT_IMAGE:?}" "${DUMP_REGION:?}" "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
    dump="$(mktemp)"
    trap 'rm -f "${dump}"' EXIT
    name="${DUMP_PREFIX:-release}-$(date -u +%Y%m%dT%H%M%SZ).dump"
    echo "dumping the database before migrating (${name})"
    # shellcheck disable=SC2016 # expanded inside the client container, not here
    if ! docker run --rm --env DATABASE_URL --label platform.role=dump "${PG_CLIENT_IMAGE}" \
        sh -c 'exec pg_dump --format=custom --no-owner "$DATABASE_URL"' > "${dump}" || [[ ! -s "${dump}" ]]; then
        echo "error: the database dump before migrating failed on ${SERVER}; nothing was migrated or cut over and the previous version keeps serving." >&2
        exit 1
    fi
    # The keys reach curl as a config on its stdin, never on a command line.
    if ! printf 'user = "%s:%s"\n' "${AWS_ACCESS_KEY_ID}" "${AWS_SECRET_ACCESS_KEY}" \
        | curl -fsS -K - --aws-sigv4 "aws:amz:${DUMP_REGION}:s3" -T "${dump}" -o /dev/null "${DUMP_URL}/${name}"; then
        echo "error: uploading the database dump to ${DUMP_URL} failed; nothing was migrated or cut over and the previous version keeps serving." >&2
        exit 1
    fi
    echo "platform.dump=${DUMP_URL}/${name}"
fi
echo "running migrations on ${SERVER} from ${IMAGE}: $*"
if ! docker run --rm --pull never --env DATABASE_URL --label platform.role=migrate "${IMAGE}" "$@"; then
    echo "error: the migration from ${IMAGE} failed on ${SERVER}; nothing was cut over and the previous version keeps serving." >&2
    echo "  Re-run it by hand to see why: ssh deploy@${SERVER} docker run --rm -e DATABASE_URL ${IMAGE} $*" >&2
    exit 1
fi
echo "migrations finished"
