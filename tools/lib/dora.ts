/**
 * DORA metrics from a stack's update history: deployment frequency, lead time (commit to
 * live), change failure rate and time to restore. Pure: the history comes from
 * `pulumi stack history --json`, commit times from a lookup the caller supplies (git).
 *
 * What counts, and why:
 * - A deployment is a successful update that changed the running release (the set of every
 *   service's tag and digest).
 *   Re-running the same release (a config change, a re-deploy) is not a deployment.
 * - A rollback is a successful update back to a release that ran before the one live now:
 *   the release it replaced counts as failed, and the rollback is when service was restored.
 *   The health-check rollback in the deploy workflow is such an update, so a failed health
 *   check is counted through the rollback it triggers. A rollback is not itself a deployment.
 * - A failed `pulumi up` never went live (the proxy only routes to healthy containers), so it
 *   is not a deployment; it is reported separately as `failedUpdates`.
 */
import { describeSet, HistoryEntry, Release, ReleaseSet, releasesFromHistory, sameSet } from "./releases";

export interface Deployment {
    /** The release's name: its one tag, or `api 1.4.2, web 2.3.0` for several services. */
    tag: string;
    services: ReleaseSet;
    /** When it went live (the update's end). */
    live: string;
    commit?: string;
    /** Commit time (ISO) when git knew the commit. */
    committed?: string;
    /** Hours from commit to live. */
    leadTimeHours?: number;
    /** Rolled back: the next release change went back to an earlier release. */
    failed: boolean;
    /** When the rollback that replaced it finished. */
    restored?: string;
    timeToRestoreHours?: number;
}

export interface Stat {
    count: number;
    medianHours: number | null;
    p90Hours: number | null;
}

export interface DoraReport {
    stack: string;
    window: { since: string; until: string; days: number };
    deployments: number;
    deploymentsPerWeek: number;
    leadTime: Stat & { unknownCommits: number };
    changeFailureRate: { failed: number; deployments: number; rate: number | null };
    timeToRestore: Stat & { unresolved: number };
    failedUpdates: number;
    items: Deployment[];
}

const HOUR = 3600_000;
const hours = (ms: number) => Math.round((ms / HOUR) * 100) / 100;
const sameRelease = (a: Release, b: Release) => sameSet(a.services, b.services);

/** The nearest-rank percentile of a non-empty list; null when the list is empty. */
export function percentile(values: number[], p: number): number | null {
    if (values.length === 0) return null;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1];
}

const stat = (values: number[]): Stat => ({
    count: values.length,
    medianHours: percentile(values, 50),
    p90Hours: percentile(values, 90),
});

/** `90d`, `12w`, `48h` → milliseconds; anything else is a one-line error for the user. */
export function parseSince(text: string): number {
    const m = /^(\d{1,4})([dwh])$/.exec(text);
    if (!m || Number(m[1]) === 0)
        throw new RangeError(`--since ${JSON.stringify(text)}: expected a duration such as 90d, 12w or 48h`);
    return Number(m[1]) * { h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR }[m[2] as "h" | "d" | "w"];
}

/** Commit SHAs look like this; a tag that is a SHA names its commit when git.head is absent. */
const SHA = /^[0-9a-f]{7,40}$/;

/**
 * Deployments oldest first, each marked failed when a rollback replaced it, plus the
 * rollback count. Walks the successful releases in time order.
 */
export function deploymentsFromHistory(
    history: HistoryEntry[],
    project = "platform",
): { deployments: Deployment[]; rollbacks: number } {
    const releases = releasesFromHistory(history, project).slice().reverse();
    const deployments: Deployment[] = [];
    const ran: Release[] = [];
    let live: { release: Release; deployment?: Deployment } | undefined;
    let rollbacks = 0;
    for (const r of releases) {
        if (live && sameRelease(live.release, r)) continue;
        const earlier = live !== undefined && ran.some((x) => sameRelease(x, r));
        if (earlier) {
            rollbacks++;
            if (live!.deployment && !live!.deployment.failed) {
                live!.deployment.failed = true;
                live!.deployment.restored = r.time;
                live!.deployment.timeToRestoreHours = hours(Date.parse(r.time) - Date.parse(live!.deployment.live));
            }
            live = { release: r };
        } else {
            const shaTag = Object.values(r.services)
                .map((s) => s.tag)
                .find((t) => SHA.test(t));
            const d: Deployment = {
                tag: describeSet(r.services),
                services: r.services,
                live: r.time,
                commit: r.commit ?? shaTag,
                failed: false,
            };
            deployments.push(d);
            live = { release: r, deployment: d };
        }
        ran.push(r);
    }
    return { deployments, rollbacks };
}

export interface DoraOptions {
    stack: string;
    /** Start of the window. */
    since: Date;
    until: Date;
    /** Commit time for a SHA, or undefined when git does not know it. */
    commitTime: (sha: string) => Date | undefined;
    project?: string;
}

export function doraMetrics(history: HistoryEntry[], o: DoraOptions): DoraReport {
    const { deployments: all } = deploymentsFromHistory(history, o.project);
    const inWindow = (iso: string) => {
        const t = Date.parse(iso);
        return t >= o.since.getTime() && t <= o.until.getTime();
    };
    const items = all.filter((d) => inWindow(d.live));
    for (const d of items) {
        const at = d.commit ? o.commitTime(d.commit) : undefined;
        if (at) {
            d.committed = at.toISOString();
            d.leadTimeHours = hours(Date.parse(d.live) - at.getTime());
        }
    }
    const days = (o.until.getTime() - o.since.getTime()) / (24 * HOUR);
    const failed = items.filter((d) => d.failed);
    const restoreTimes = failed.map((d) => d.timeToRestoreHours).filter((x): x is number => x !== undefined);
    const leadTimes = items.map((d) => d.leadTimeHours).filter((x): x is number => x !== undefined);
    const failedUpdates = history.filter(
        (h) =>
            h.kind === "update" &&
            h.result === "failed" &&
            inWindow(typeof h.startTime === "string" ? h.startTime : h.startTime.toISOString()),
    ).length;
    return {
        stack: o.stack,
        window: { since: o.since.toISOString(), until: o.until.toISOString(), days: Math.round(days * 100) / 100 },
        deployments: items.length,
        deploymentsPerWeek: days > 0 ? Math.round((items.length / days) * 7 * 100) / 100 : 0,
        leadTime: { ...stat(leadTimes), unknownCommits: items.length - leadTimes.length },
        changeFailureRate: {
            failed: failed.length,
            deployments: items.length,
            rate: items.length ? Math.round((failed.length / items.length) * 1000) / 1000 : null,
        },
        timeToRestore: { ...stat(restoreTimes), unresolved: failed.length - restoreTimes.length },
        failedUpdates,
        items,
    };
}

const fmtHours = (h: number | null) =>
    h === null
        ? "n/a"
        : h < 1
          ? `${Math.round(h * 60)} min`
          : h < 48
            ? `${h.toFixed(1)} h`
            : `${(h / 24).toFixed(1)} d`;

/** The human-readable block for one stack. */
export function renderDora(r: DoraReport): string {
    const cfr = r.changeFailureRate;
    return [
        `${r.stack}: ${r.window.since.slice(0, 10)} to ${r.window.until.slice(0, 10)} (${r.window.days} days)`,
        `  deployment frequency  ${r.deployments} deployment(s), ${r.deploymentsPerWeek} per week`,
        `  lead time (commit to live)  median ${fmtHours(r.leadTime.medianHours)}, p90 ${fmtHours(r.leadTime.p90Hours)} over ${r.leadTime.count}` +
            (r.leadTime.unknownCommits ? ` (${r.leadTime.unknownCommits} without a known commit)` : ""),
        `  change failure rate  ${cfr.rate === null ? "n/a" : `${Math.round(cfr.rate * 1000) / 10}%`} (${cfr.failed} of ${cfr.deployments} rolled back)`,
        `  time to restore  median ${fmtHours(r.timeToRestore.medianHours)}, p90 ${fmtHours(r.timeToRestore.p90Hours)} over ${r.timeToRestore.count}`,
        ...(r.failedUpdates ? [`  failed updates (never live)  ${r.failedUpdates}`] : []),
    ].join("\n");
}
