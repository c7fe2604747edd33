/**
 * Deploy, rollback, promote and restore notifications that say what changed: the release
 * (tag and short digest per service), what it replaced, who approved, how long it took, the
 * run's link, and for a rollback why. Pure: the workflow gathers the facts, this formats a
 * Slack incoming-webhook payload (mrkdwn) and a plain line for logs.
 */

export interface ServiceRelease {
    /** The service's name: `app`, a process such as `worker`, or `proxy`. */
    name: string;
    tag?: string;
    digest?: string;
}

export interface Notice {
    action: "deploy" | "rollback" | "promote" | "restore";
    stack: string;
    /** The job's status as GitHub reports it: success, failure or cancelled. */
    result: string;
    /** What runs after this run, one entry per service. */
    to: ServiceRelease[];
    /** What ran before, same services. */
    from?: ServiceRelease[];
    /** GitHub logins who approved the environment's deployment. */
    approvedBy?: string[];
    /** Who started the run. */
    actor?: string;
    durationSeconds?: number;
    runUrl?: string;
    /** Why a rollback happened (the failed health check, or the person's reason). */
    reason?: string;
}

/** `sha256:3f2a9c1b7d0e…` → `3f2a9c1b7d0e`: enough to tell releases apart at a glance. */
export function shortDigest(digest?: string): string | undefined {
    const m = /^sha256:([a-f0-9]{12})[a-f0-9]{52}$/.exec(digest ?? "");
    return m ? m[1] : undefined;
}

export function formatDuration(seconds?: number): string | undefined {
    if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Slack mrkdwn needs &, < and > escaped in text (api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const release = (r: ServiceRelease) => {
    const d = shortDigest(r.digest);
    return `${r.tag ?? "unknown"}${d ? ` (${d})` : ""}`;
};

/** `api 1.5.0 (3f2a9c1b7d0e), web 2.4.1 (a1a1a1a1a1a1)`; `release unknown` when none was read. */
export function releaseLine(services: ServiceRelease[]): string {
    if (services.length === 0) return "release unknown";
    return services.map((s) => `${s.name} ${release(s)}`).join(", ");
}

/**
 * A release set as the deploy workflow passes it: `name=tag` or `name=tag@sha256:<64 hex>`
 * per service, separated by spaces or commas (the `services` input, and the set a services
 * stack's release record holds). Throws, naming the entry, on anything else.
 */
export function parseReleaseSet(text: string): ServiceRelease[] {
    const out: ServiceRelease[] = [];
    for (const entry of text.split(/[\s,]+/).filter((e) => e !== "")) {
        const m = /^([a-z][a-z0-9-]{0,20})=([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?:@(sha256:[a-f0-9]{64}))?$/.exec(entry);
        if (!m) throw new Error(`${JSON.stringify(entry)} is not <service>=<tag> or <service>=<tag>@sha256:<64 hex>`);
        if (out.some((s) => s.name === m[1])) throw new Error(`${m[1]} is named twice`);
        out.push({ name: m[1], tag: m[2], digest: m[3] });
    }
    return out;
}

const OUTCOME: Record<string, string> = { success: "succeeded", failure: "FAILED", cancelled: "was cancelled" };
const ICON: Record<string, string> = { success: ":white_check_mark:", failure: ":x:", cancelled: ":grey_question:" };

/** The facts in reading order, each one line; absent facts are left out rather than guessed. */
export function noticeLines(n: Notice): string[] {
    const outcome = OUTCOME[n.result] ?? n.result;
    const lines = [`${n.action} ${n.stack} ${outcome}: ${releaseLine(n.to)}`];
    if (n.from?.length) {
        const same = releaseLine(n.from) === releaseLine(n.to);
        lines.push(same ? `from: the same release (nothing changed in the image)` : `from: ${releaseLine(n.from)}`);
    }
    if (n.action === "rollback") lines.push(`why: ${n.reason?.trim() || "no reason given"}`);
    else if (n.reason?.trim()) lines.push(`note: ${n.reason.trim()}`);
    if (n.approvedBy !== undefined)
        lines.push(`approved by: ${n.approvedBy.length ? n.approvedBy.join(", ") : "no approval required"}`);
    if (n.actor) lines.push(`started by: ${n.actor}`);
    const took = formatDuration(n.durationSeconds);
    if (took) lines.push(`took: ${took}`);
    return lines;
}

/** The Slack payload: a summary line with the icon and run link, then the facts. */
export function slackNotice(n: Notice): { text: string } {
    const [head, ...rest] = noticeLines(n).map(slackEscape);
    const link = n.runUrl ? ` — <${n.runUrl}|run>` : "";
    return {
        text: [`${ICON[n.result] ?? ":information_source:"} *${head}*${link}`, ...rest.map((l) => `> ${l}`)].join("\n"),
    };
}

/** One plain line for logs and the run summary. */
export function plainNotice(n: Notice): string {
    return [...noticeLines(n), ...(n.runUrl ? [`run: ${n.runUrl}`] : [])].join(" — ");
}

/**
 * Approvers from GitHub's `GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`
 * (an array of `{ state, user: { login }, environments: [{ name }] }`): the logins that
 * approved this environment, in order, once each.
 */
export function approversFrom(approvals: unknown, environment: string): string[] {
    if (!Array.isArray(approvals)) return [];
    const out: string[] = [];
    for (const a of approvals as { state?: string; user?: { login?: string }; environments?: { name?: string }[] }[]) {
        if (a.state !== "approved" || !a.user?.login) continue;
        if (!(a.environments ?? []).some((e) => e.name === environment)) continue;
        if (!out.includes(a.user.login)) out.push(a.user.login);
    }
    return out;
}
