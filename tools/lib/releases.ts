/**
 * Release history as data: which image each successful update of a stack ran, which
 * release a rollback goes back to, and whether a preview touches anything but containers.
 * Pure functions over what the Automation API returns.
 */
import { isDigest } from "../../infra/config/validate";
import { TYPES } from "../../infra/lifecycle/types";

export interface HistoryEntry {
    version?: number;
    kind: string;
    startTime: Date | string;
    endTime?: Date | string;
    message: string;
    environment?: Record<string, string>;
    config?: Record<string, { value?: string; secret?: boolean }>;
    result: string;
}

export interface Release {
    tag: string;
    /** Pinned digest, when the update recorded one (promotions and rollbacks always do). */
    digest?: string;
    /** When the update finished: the release went live then. */
    time: string;
    /** When the update started: before its migration ran (the approximate restore point). */
    started: string;
    message: string;
    author?: string;
    version?: number;
    /** The commit the update ran from (`git.head`, recorded by the CLI in a git checkout). */
    commit?: string;
}

const iso = (t: Date | string | undefined) => (t instanceof Date ? t.toISOString() : String(t ?? ""));

/** Successful updates that recorded an image tag, newest first (the CLI's order). */
export function releasesFromHistory(history: HistoryEntry[], project = "platform"): Release[] {
    return history
        .filter((h) => h.kind === "update" && h.result === "succeeded")
        .map((h) => ({ h, tag: h.config?.[`${project}:imageTag`]?.value }))
        .filter((x): x is { h: HistoryEntry; tag: string } => !!x.tag)
        .map(({ h, tag }) => {
            const digest = h.config?.[`${project}:imageDigest`]?.value;
            const env = h.environment ?? {};
            return {
                tag,
                digest: digest && isDigest(digest) ? digest : undefined,
                time: iso(h.endTime ?? h.startTime),
                started: iso(h.startTime),
                message: h.message,
                author: env["git.author"] ?? env["git.committer"] ?? env["ci.build.id"],
                version: h.version || undefined,
                commit: env["git.head"] || undefined,
            };
        });
}

export class TargetError extends Error {}

export interface Current { tag?: string; digest?: string }

const same = (r: Release, c: Current) => r.tag === c.tag && (!r.digest || !c.digest || r.digest === c.digest);

/**
 * The release to go back to: `previous` (default) is the newest release that differs from
 * what runs now; a tag or a digest names one from the history.
 */
export function pickTarget(releases: Release[], current: Current, to = "previous"): Release {
    if (releases.length === 0) throw new TargetError("no release in this stack's history: nothing to roll back to");
    if (to === "previous") {
        const prior = releases.find((r) => !same(r, current));
        if (!prior) throw new TargetError(`no earlier release: every release in the history is the current one (${current.tag ?? "?"})`);
        return prior;
    }
    const hit = isDigest(to) ? releases.find((r) => r.digest === to) : releases.find((r) => r.tag === to);
    if (!hit) {
        const known = [...new Set(releases.map((r) => r.tag))].slice(0, 8).join(", ");
        throw new TargetError(`target ${to} not found in the stack's release history (known tags: ${known})`);
    }
    return hit;
}

/** Resource types a release may change: the app's containers, images and deploy commands. */
export function isContainerSide(type: string): boolean {
    return type.startsWith("docker:") || type === TYPES.command || type === "pulumi:providers:docker";
}

export interface Change { op: string; type: string; urn: string; name: string }

/** Non-`same` logical steps from a preview's engine events. */
export function changesFromEvents(events: unknown[]): Change[] {
    const out: Change[] = [];
    for (const e of events as { resourcePreEvent?: { metadata?: { op: string; type: string; urn: string } } }[]) {
        const m = e.resourcePreEvent?.metadata;
        if (!m || m.op === "same" || m.op === "read" || m.type === "pulumi:pulumi:Stack") continue;
        // Replacements show as create-replacement/replace/delete-replaced: keep the logical one.
        if (m.op === "create-replacement" || m.op === "delete-replaced") continue;
        out.push({ op: m.op, type: m.type, urn: m.urn, name: m.urn.split("::").pop() ?? m.urn });
    }
    return out;
}

/** Changes a rollback or promotion must not make. */
export function outsideContainers(changes: Change[]): Change[] {
    return changes.filter((c) => !isContainerSide(c.type));
}

// The migration step's restore-point line is parsed where the program reads it too.
export { parseRestorePoint, RESTORE_POINT_MARK } from "../../infra/database/restore";

export interface RestorePoint {
    time: string;
    /**
     * `database-clock`: recorded by the migration step from the database's clock right before
     * it migrated. `update-start`: that release recorded none (older releases, or no
     * migration), so the update's start is used: earlier than any change the update made,
     * so restoring to it never includes that release's migration, but it is the Pulumi
     * runner's clock, and writes between it and the migration are not included.
     */
    source: "database-clock" | "update-start";
}

/** The release record a stack exports (`release` output). */
export interface ReleaseRecord { tag?: string; digest?: string; repository?: string; restorePoint?: string }

/**
 * Where to restore to get "the data as it was just before this release": the database-clock
 * time when the release record carries one for this release, else the update's start.
 */
export function restorePointOf(release: Release, record?: ReleaseRecord): RestorePoint {
    const recorded = record?.restorePoint && record.tag === release.tag && (!record.digest || !release.digest || record.digest === release.digest)
        ? record.restorePoint : undefined;
    return recorded ? { time: recorded, source: "database-clock" } : { time: release.started, source: "update-start" };
}
