/**
 * The replacement guard: reads `pulumi preview --json` (the CLI's PreviewDigest) and lists
 * every step that would replace or delete a server, the database cluster, a database, the
 * VPC or a DNS record. Pure, so it is tested on fixtures in the CLI's real format.
 */

/** Resource types whose replacement or deletion loses data or breaks the stack's address. */
export const GUARDED_TYPES: Readonly<Record<string, string>> = {
    "digitalocean:index/droplet:Droplet": "server",
    "digitalocean:index/databaseCluster:DatabaseCluster": "database cluster",
    "digitalocean:index/databaseDb:DatabaseDb": "database",
    "digitalocean:index/vpc:Vpc": "VPC",
    "digitalocean:index/dnsRecord:DnsRecord": "DNS record",
};

/** Ops that destroy the resource in place (replacement steps appear only with --show-replacement-steps). */
const DESTRUCTIVE_OPS = ["replace", "create-replacement", "delete-replaced", "delete", "discard"];

export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: { type?: string } | null;
    newState?: { type?: string } | null;
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string }> | null;
}

export interface GuardFinding {
    urn: string;
    name: string;
    what: string;
    op: string;
    reasons: string[];
}

/** The type of a step: from its states, or from the URN's type segment. */
export function stepType(step: PreviewStep): string {
    const t = step.newState?.type ?? step.oldState?.type;
    if (t) return t;
    const parts = step.urn.split("::");
    const typePath = parts[2] ?? "";
    return typePath.slice(typePath.lastIndexOf("$") + 1);
}

export function findDestructiveChanges(preview: { steps?: PreviewStep[] }): GuardFinding[] {
    const seen = new Set<string>();
    const out: GuardFinding[] = [];
    for (const step of preview.steps ?? []) {
        const what = GUARDED_TYPES[stepType(step)];
        if (!what || !DESTRUCTIVE_OPS.includes(step.op) || seen.has(step.urn)) continue;
        seen.add(step.urn);
        const reasons = step.replaceReasons?.length
            ? step.replaceReasons
            : Object.entries(step.detailedDiff ?? {}).filter(([, d]) => d.kind.endsWith("-replace")).map(([k]) => k);
        out.push({ urn: step.urn, name: step.urn.split("::").pop() ?? step.urn, what, op: step.op === "delete-replaced" || step.op === "create-replacement" ? "replace" : step.op, reasons });
    }
    return out;
}

export function describe(f: GuardFinding): string {
    return `${f.op === "replace" ? "replaces" : "deletes"} ${f.what} ${f.name}${f.reasons.length ? ` (because of ${f.reasons.join(", ")})` : ""}`;
}
