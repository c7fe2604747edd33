/**
 * Release history as data: which images (one per service) each successful update of a stack ran, which
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

/** One service's image in a release. */
export interface ServiceImage {
    tag: string;
    /** Pinned digest, when the update recorded one (promotions and rollbacks always do). */
    digest?: string;
    /** The image repository (no tag) the service ran from. */
    repository?: string;
}

/** A release: what every service of the stack ran, by service name. */
export type ReleaseSet = Record<string, ServiceImage>;

export interface Release {
    services: ReleaseSet;
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

/** One service in the release record. */
export interface ServiceRecord {
    repository?: string;
    tag?: string;
    digest?: string;
    image?: string;
}

/**
 * The release record a stack exports (`release` output), the one declaration the tools
 * share: `services` names every service's image.
 */
export interface ReleaseRecord {
    services?: Record<string, ServiceRecord>;
    /** The database's clock just before this release's migration (see RestorePoint). */
    restorePoint?: string;
}

/** The services a release record names. */
export function recordServices(record?: ReleaseRecord): Record<string, ServiceRecord> {
    return record?.services && typeof record.services === "object" ? record.services : {};
}

/** The set a release record describes: each service with a tag, its digest when it is one. */
export function setOfRecord(record?: ReleaseRecord): ReleaseSet {
    const out: ReleaseSet = {};
    for (const [name, s] of Object.entries(recordServices(record))) {
        if (!s?.tag) continue;
        out[name] = {
            tag: s.tag,
            digest: s.digest && isDigest(s.digest) ? s.digest : undefined,
            repository: s.repository,
        };
    }
    return out;
}

type ConfigEntry = { value?: string; secret?: boolean; objectValue?: unknown };

/**
 * The set an update's recorded config names: `<project>:services` (a JSON string in the
 * history, an object in `pulumi config --json`). Undefined when the config names no image.
 */
export function setFromConfig(
    config: Record<string, ConfigEntry> | undefined,
    project = "platform",
): ReleaseSet | undefined {
    const services = config?.[`${project}:services`];
    if (!services) return undefined;
    let map: unknown = services.objectValue;
    if (map === undefined && services.value !== undefined) {
        try {
            map = JSON.parse(services.value);
        } catch {
            return undefined;
        }
    }
    if (!map || typeof map !== "object" || Array.isArray(map)) return undefined;
    const out: ReleaseSet = {};
    for (const [name, raw] of Object.entries(map as Record<string, Record<string, unknown>>)) {
        const tag = typeof raw?.tag === "string" || typeof raw?.tag === "number" ? String(raw.tag) : undefined;
        if (!tag) continue;
        const digest = typeof raw.digest === "string" && isDigest(raw.digest) ? raw.digest : undefined;
        out[name] = { tag, digest, repository: typeof raw.image === "string" ? raw.image : undefined };
    }
    return Object.keys(out).length > 0 ? out : undefined;
}

const iso = (t: Date | string | undefined) => (t instanceof Date ? t.toISOString() : String(t ?? ""));

/** Successful updates that recorded an image, newest first (the CLI's order), each as the set of its services. */
export function releasesFromHistory(history: HistoryEntry[], project = "platform"): Release[] {
    return history
        .filter((h) => h.kind === "update" && h.result === "succeeded")
        .map((h) => ({ h, services: setFromConfig(h.config, project) }))
        .filter((x): x is { h: HistoryEntry; services: ReleaseSet } => !!x.services)
        .map(({ h, services }) => {
            const env = h.environment ?? {};
            return {
                services,
                time: iso(h.endTime ?? h.startTime),
                started: iso(h.startTime),
                message: h.message,
                author: env["git.author"] ?? env["git.committer"] ?? env["ci.build.id"],
                version: h.version || undefined,
                commit: env["git.head"] || undefined,
            };
        });
}

/** The same image: the tag matches, and the digest too when both are known. */
export function sameImage(a: ServiceImage | undefined, b: ServiceImage | undefined): boolean {
    if (!a || !b) return a === b;
    return a.tag === b.tag && (!a.digest || !b.digest || a.digest === b.digest);
}

/** The same release: the same services, each with the same image. */
export function sameSet(a: ReleaseSet, b: ReleaseSet): boolean {
    const names = Object.keys(a);
    return names.length === Object.keys(b).length && names.every((n) => sameImage(a[n], b[n]));
}

/** `1.4.2` for one service; `api 1.4.2, web 2.3.0` for several. */
export function describeSet(set: ReleaseSet, digests = false): string {
    const entries = Object.entries(set);
    const one = (s: ServiceImage) => `${s.tag}${digests && s.digest ? ` (${s.digest})` : ""}`;
    if (entries.length === 1) return one(entries[0][1]);
    return entries.map(([name, s]) => `${name} ${one(s)}`).join(", ");
}

/** Whether some successful update ran exactly this set (these images of all services together). */
export function deployedTogether(releases: Release[], set: ReleaseSet): Release | undefined {
    return releases.find((r) => sameSet(r.services, set));
}

export class TargetError extends Error {}

/**
 * The release to go back to: `previous` (default) is the newest release that differs from
 * what runs now; a number is an update's version (`npm run releases` shows it); a tag or a
 * digest names the newest release with a service running it. With `service`, only that
 * service's image is compared and matched.
 */
export function pickTarget(releases: Release[], current: ReleaseSet, to = "previous", service?: string): Release {
    const candidates = service ? releases.filter((r) => r.services[service]) : releases;
    if (candidates.length === 0) {
        throw new TargetError(
            service
                ? `no release of service ${service} in this stack's history: nothing to roll back to`
                : "no release in this stack's history: nothing to roll back to",
        );
    }
    if (to === "previous") {
        const differs = (r: Release) =>
            service ? !sameImage(r.services[service], current[service]) : !sameSet(r.services, current);
        const prior = candidates.find(differs);
        if (!prior) {
            const now = service
                ? (current[service]?.tag ?? "?")
                : Object.keys(current).length
                  ? describeSet(current)
                  : "?";
            throw new TargetError(
                `no earlier release: every release in the history is the current one (${service ? `${service} ` : ""}${now})`,
            );
        }
        return prior;
    }
    const images = (r: Release) => (service ? [r.services[service]] : Object.values(r.services));
    const byVersion = /^\d+$/.test(to) ? candidates.find((r) => r.version === Number(to)) : undefined;
    const byImage = isDigest(to)
        ? candidates.find((r) => images(r).some((s) => s.digest === to))
        : candidates.find((r) => images(r).some((s) => s.tag === to));
    // A tag may be a bare number too: guessing which one was meant could deploy the wrong release.
    if (byVersion && byImage && byVersion !== byImage) {
        throw new TargetError(
            `--to ${to} names both update #${to} and the release tagged ${to} (update #${byImage.version ?? "?"}): give that release's digest instead`,
        );
    }
    const hit = byVersion ?? byImage;
    if (!hit) {
        const known = [
            ...new Set(
                candidates.flatMap((r) =>
                    service
                        ? [r.services[service].tag]
                        : Object.entries(r.services).map(([n, s]) =>
                              Object.keys(r.services).length === 1 ? s.tag : `${n} ${s.tag}`,
                          ),
                ),
            ),
        ];
        throw new TargetError(
            `target ${to} not found in the stack's release history${service ? ` of service ${service}` : ""} (known tags: ${known.slice(0, 8).join(", ")})`,
        );
    }
    return hit;
}

/** Resource types a release may change: the app's containers, images and deploy commands. */
export function isContainerSide(type: string): boolean {
    return type.startsWith("docker:") || type === TYPES.command || type === "pulumi:providers:docker";
}

export interface Change {
    op: string;
    type: string;
    urn: string;
    name: string;
}

/** Non-`same` logical steps from a preview's engine events. */
export function changesFromEvents(events: unknown[]): Change[] {
    const out: Change[] = [];
    const seen = new Set<string>();
    for (const e of events as { resourcePreEvent?: { metadata?: { op: string; type: string; urn: string } } }[]) {
        const m = e.resourcePreEvent?.metadata;
        if (!m || m.op === "same" || m.op === "read" || m.type === "pulumi:pulumi:Stack") continue;
        // Replacements show as create-replacement/replace/delete-replaced: keep the logical one.
        if (m.op === "create-replacement" || m.op === "delete-replaced") continue;
        // One logical step per resource: an event delivered twice (the event log is tailed
        // while it is written) must not count, or be refused, twice.
        if (seen.has(`${m.op}::${m.urn}`)) continue;
        seen.add(`${m.op}::${m.urn}`);
        out.push({ op: m.op, type: m.type, urn: m.urn, name: m.urn.split("::").pop() ?? m.urn });
    }
    return out;
}

/** Changes a rollback or promotion must not make. */
export function outsideContainers(changes: Change[]): Change[] {
    return changes.filter((c) => !isContainerSide(c.type));
}

// The migration step's restore-point line is parsed where the program reads it too.
export { parseRestorePoint, RESTORE_POINT_MARK } from "../../infra/database/restorepoint";

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

/**
 * Where to restore to get "the data as it was just before this release": the database-clock
 * time when the release record carries one for this release, else the update's start.
 */
export function restorePointOf(release: Release, record?: ReleaseRecord): RestorePoint {
    const recorded =
        record?.restorePoint && sameSet(setOfRecord(record), release.services) ? record.restorePoint : undefined;
    return recorded ? { time: recorded, source: "database-clock" } : { time: release.started, source: "update-start" };
}
