/**
 * The decisions of `npm run restore`, as pure functions: which time a request means, whether
 * DigitalOcean can still restore to it, what the new cluster is called, and whether a
 * preview does anything a restore must never do.
 */
import { PITR_WINDOW_DAYS } from "../../infra/database/restorepoint";
import { Change, Release, ReleaseRecord, restorePointOf, RestorePoint } from "./releases";
import { TYPES } from "../../infra/lifecycle/types";

export class RestoreError extends Error {}

const DAY = 86_400_000;

/**
 * A time the user typed: ISO 8601 with `Z` or an offset (a bare local time is ambiguous and
 * refused). Returns it in UTC, whole seconds kept, e.g. `2026-11-20T14:03:11Z`.
 */
export function parseRestoreTime(text: string): string {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text))) {
        throw new RestoreError(`--to-time ${JSON.stringify(text)}: expected an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z`);
    }
    return utc(new Date(text));
}

/** ISO 8601 in UTC; sub-second precision kept only when there is some. */
export function utc(d: Date): string {
    return d.toISOString().replace(/\.000Z$/, "Z");
}

/**
 * Refuses a time DigitalOcean cannot restore to: in the future, or older than the
 * point-in-time window (7 days for managed Postgres). The message carries the window.
 */
export function checkWindow(time: string, now: Date, days = PITR_WINDOW_DAYS): void {
    const t = Date.parse(time);
    const oldest = new Date(now.getTime() - days * DAY);
    const window = `DigitalOcean keeps ${days} days of point-in-time recovery for managed Postgres: ${utc(oldest)} to now (${utc(now)})`;
    if (t > now.getTime()) throw new RestoreError(`${time} is in the future; ${window}`);
    if (t < oldest.getTime()) throw new RestoreError(`${time} is outside the restore window; ${window}. Older data exists only in a logical dump, if the team keeps one`);
}

/** The release a `--to-release` names (a tag or digest of any of its services, newest match) and its restore point. */
export function releaseRestorePoint(releases: Release[], target: string, record?: ReleaseRecord): { release: Release; point: RestorePoint } {
    const i = releases.findIndex((r) => Object.values(r.services).some((s) => s.tag === target || s.digest === target));
    if (i < 0) {
        const known = [...new Set(releases.flatMap((r) => Object.values(r.services).map((s) => s.tag)))].slice(0, 8).join(", ");
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
    return changes.filter((c) => DATA_TYPES.includes(c.type) && c.op !== "create" && c.op !== "same" && c.op !== "update");
}
