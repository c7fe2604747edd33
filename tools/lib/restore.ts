/**
 * The decisions of `npm run restore`, as pure functions: which time a request means, whether
 * DigitalOcean can still restore to it, which backup it restores and what that loses, what
 * the new cluster is called, and whether a preview does anything a restore must never do.
 */
import { PITR_WINDOW_DAYS } from "../../infra/database/restorepoint";
import type { DatabaseBackup } from "./digitalocean";
import { Change, Release, ReleaseRecord, restorePointOf, RestorePoint } from "./releases";
import { TYPES } from "../../infra/lifecycle/types";

export class RestoreError extends Error {}

const DAY = 86_400_000;

/**
 * A time the user typed: ISO 8601 with `Z` or an offset (a bare local time is ambiguous and
 * refused). Returns it in UTC, whole seconds kept, e.g. `2026-11-20T14:03:11Z`.
 */
export function parseRestoreTime(text: string): string {
    if (
        !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ||
        Number.isNaN(Date.parse(text))
    ) {
        throw new RestoreError(
            `--to-time ${JSON.stringify(text)}: expected an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z`,
        );
    }
    return utc(new Date(text));
}

/** ISO 8601 in UTC; sub-second precision kept only when there is some. */
export function utc(d: Date): string {
    return d.toISOString().replace(/\.000Z$/, "Z");
}

/**
 * Refuses a time DigitalOcean cannot restore to: in the future, or older than the
 * backup window (7 days for managed Postgres). The message carries the window.
 */
export function checkWindow(time: string, now: Date, days = PITR_WINDOW_DAYS): void {
    const t = Date.parse(time);
    const oldest = new Date(now.getTime() - days * DAY);
    const window = `DigitalOcean keeps ${days} days of backups for managed Postgres: ${utc(oldest)} to now (${utc(now)})`;
    if (t > now.getTime()) throw new RestoreError(`${time} is in the future; ${window}`);
    if (t < oldest.getTime())
        throw new RestoreError(
            `${time} is outside the restore window; ${window}. Older data exists only in a logical dump, if the team keeps one`,
        );
}

/** What a restore to `point` brings back: the backup it restores and the writes it cannot. */
export interface BackupChoice {
    /** The newest backup at or before the restore point. */
    backup: DatabaseBackup;
    /** The time sent as `backup_restore.backup_created_at`: the backup's, or the point itself with `exact`. */
    restoreTime: string;
    /**
     * Writes the restore will not bring back, from the backup to the restore point; undefined
     * with `exact` (the team's drill showed the API restores to the time itself).
     */
    lost?: { from: string; to: string; seconds: number };
}

/**
 * The backup a restore to `point` uses. DigitalOcean's API describes `backup_created_at` as
 * "The timestamp of an existing database cluster backup in ISO8601 combined date and time
 * format. The most recent backup will be used if excluded." (digitalocean/openapi,
 * specification/resources/databases/models/database_backup.yml:12-14); nothing in the API
 * offers an arbitrary point in time (only the control panel documents point-in-time recovery,
 * "limited to the last 7 days"), and backups run once a day and are kept seven days. So unless
 * the team's drill (docs/operations.md) showed their account's API takes any time (`exact`),
 * the restore asks for the newest backup at or before the point, and says what lies between.
 * A point older than every backup is refused: there is nothing to restore it from.
 */
export function chooseBackup(backups: DatabaseBackup[], point: string, source: string, exact = false): BackupChoice {
    const t = Date.parse(point);
    const sorted = [...backups].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    const backup = sorted.find((b) => Date.parse(b.createdAt) <= t);
    if (!backup) {
        const oldest = sorted.at(-1);
        throw new RestoreError(
            oldest
                ? `${point} is older than every backup of ${source} (the oldest is ${utc(new Date(oldest.createdAt))}; DigitalOcean keeps daily backups ${PITR_WINDOW_DAYS} days): older data exists only in a logical dump, if the team keeps one`
                : `${source} has no backups yet (DigitalOcean takes the first within a day of creating a cluster): there is nothing to restore from`,
        );
    }
    const from = utc(new Date(backup.createdAt));
    if (exact) return { backup, restoreTime: point };
    return {
        backup,
        restoreTime: from,
        lost: { from, to: point, seconds: Math.round((t - Date.parse(backup.createdAt)) / 1000) },
    };
}

/** `2d 3h 4m 5s`, without the zero parts before the first non-zero one; `0s` for nothing. */
export function duration(seconds: number): string {
    const parts: [number, string][] = [
        [Math.floor(seconds / 86_400), "d"],
        [Math.floor(seconds / 3600) % 24, "h"],
        [Math.floor(seconds / 60) % 60, "m"],
        [seconds % 60, "s"],
    ];
    const first = parts.findIndex(([n]) => n > 0);
    return first < 0
        ? "0s"
        : parts
              .slice(first)
              .map(([n, u]) => `${n}${u}`)
              .join(" ");
}

/** The release a `--to-release` names (a tag or digest of any of its services, newest match) and its restore point. */
export function releaseRestorePoint(
    releases: Release[],
    target: string,
    record?: ReleaseRecord,
): { release: Release; point: RestorePoint } {
    const i = releases.findIndex((r) => Object.values(r.services).some((s) => s.tag === target || s.digest === target));
    if (i < 0) {
        const known = [...new Set(releases.flatMap((r) => Object.values(r.services).map((s) => s.tag)))]
            .slice(0, 8)
            .join(", ");
        throw new RestoreError(`release ${target} not found in the stack's history (known tags: ${known || "none"})`);
    }
    // The record describes the newest update only (see tools/releases.ts).
    return { release: releases[i], point: restorePointOf(releases[i], i === 0 ? record : undefined) };
}

/** `<source>-r<yyyymmdd>t<hhmm>`, cut to DigitalOcean's 63 characters. */
export function restoredClusterName(source: string, time: string): string {
    const stamp = time.replace(/[-:]/g, "").slice(0, 13).toLowerCase();
    const suffix = `-r${stamp}`;
    return `${source.slice(0, 63 - suffix.length)}${suffix}`;
}

const DATA_TYPES: string[] = [TYPES.cluster, TYPES.db];

/** Changes a restore must never make: deleting or replacing a cluster or a database. */
export function destructiveDataChanges(changes: Change[]): Change[] {
    return changes.filter(
        (c) => DATA_TYPES.includes(c.type) && c.op !== "create" && c.op !== "same" && c.op !== "update",
    );
}
