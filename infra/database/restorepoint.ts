/**
 * Pure facts about restoring the database, shared by the program and the tools without
 * loading any provider: the restore point a migration prints, and DigitalOcean's recovery
 * window (see restore.ts for the sources).
 */

/**
 * The line the migration step prints with the database's own clock just before migrating
 * (`SELECT now()` on the primary), e.g. `platform.restore-point=2026-11-20T14:03:11.123456Z`.
 * The release record carries it as `restorePoint`; `npm run releases` and `npm run restore`
 * read it from there.
 */
export const RESTORE_POINT_MARK = "platform.restore-point=";

/** The restore point in a migration's output, as an ISO time in UTC; undefined if absent. */
export function parseRestorePoint(stdout: string): string | undefined {
    const line = stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith(RESTORE_POINT_MARK))
        .pop();
    const text = line?.slice(RESTORE_POINT_MARK.length) ?? "";
    // ISO 8601 with a zone only: Date.parse would also guess at other forms.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Days DigitalOcean keeps managed Postgres backups, the only restore window (see restore.ts). */
export const PITR_WINDOW_DAYS = 7;
