/**
 * The drift report: reads `pulumi preview --refresh --expect-no-changes --json` (the CLI's
 * PreviewDigest) and lists what changed outside Pulumi, per resource and property, with the
 * value the program declares and the value found in the cloud. Pure, tested on fixtures in
 * the CLI's format; the nightly drift workflow renders it for the run summary and Slack.
 *
 * In a refreshing preview the step's `oldState` is the state just refreshed from the cloud
 * (what is live) and `newState` is what the program declares, so a drifted property reads
 * old = live, new = declared. The report names them that way, because "old" and "new" are
 * the wrong way round for a person reading about drift.
 */
import { PreviewStep, stepType } from "./guard";

export interface DriftStep extends PreviewStep {
    diffReasons?: string[];
    oldState?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> } | null;
    newState?: { type?: string; inputs?: Record<string, unknown> } | null;
}

export interface DriftItem {
    resource: string;
    type: string;
    /** `update`, `replace`, `create` (gone from the cloud) or `delete`. */
    op: string;
    /** The property path, or `(resource)` when the whole resource is missing or unmanaged. */
    property: string;
    /** What the program declares (the "new" side of the preview). */
    declared: string;
    /** What the refresh found in the cloud (the "old" side). */
    live: string;
}

/** The SDK's marker for a secret value in serialized state. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const MAX = 80;

const NO_CHANGE = new Set(["same", "read", "refresh", "discard", "discard-replaced", "remove-pending-replace"]);

/** A value as one short line; secrets stay `[secret]` at any depth. */
export function showValue(v: unknown): string {
    if (v === undefined) return "(not set)";
    const text = JSON.stringify(v, (_k, x) =>
        x && typeof x === "object" && (x as Record<string, unknown>)[SIG_KEY] === SECRET_SIG ? "[secret]" : x,
    );
    if (text === undefined) return "(not set)";
    const one = text.startsWith('"') && !text.includes("\\") ? text.slice(1, -1) : text;
    return one.length > MAX ? `${one.slice(0, MAX - 1)}…` : one;
}

/** Reads `a.b[0].c` (the CLI's property paths) from an object. */
export function atPath(obj: unknown, p: string): unknown {
    let cur = obj;
    const keys = [...p.matchAll(/\["([^"]*)"\]|\[(\d+)\]|([^.[\]]+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    for (const key of keys) {
        if (cur === null || typeof cur !== "object") return undefined;
        if ((cur as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) return cur;
        cur = (cur as Record<string, unknown>)[key];
    }
    return cur;
}

export function driftFromPreview(preview: { steps?: DriftStep[] }): DriftItem[] {
    const out: DriftItem[] = [];
    const seen = new Set<string>();
    for (const step of preview.steps ?? []) {
        const type = stepType(step);
        if (NO_CHANGE.has(step.op) || type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:")) continue;
        // A replacement shows as several steps; the logical one is enough.
        const op = step.op === "create-replacement" || step.op === "delete-replaced" ? "replace" : step.op;
        if (seen.has(`${step.urn} ${op}`)) continue;
        seen.add(`${step.urn} ${op}`);
        const resource = step.urn.split("::").pop() ?? step.urn;
        if (op === "create" || op === "delete") {
            out.push({
                resource,
                type,
                op,
                property: "(resource)",
                declared: op === "create" ? "exists" : "(not declared)",
                live: op === "create" ? "missing: deleted outside Pulumi" : "exists",
            });
            continue;
        }
        const live = { ...(step.oldState?.inputs ?? {}), ...(step.oldState?.outputs ?? {}) };
        const declared = step.newState?.inputs ?? {};
        const props =
            Object.keys(step.detailedDiff ?? {}).length > 0
                ? Object.keys(step.detailedDiff!)
                : (step.diffReasons ?? step.replaceReasons ?? []);
        if (props.length === 0) out.push({ resource, type, op, property: "(unknown)", declared: "", live: "" });
        for (const p of props) {
            // Live values come from the refreshed inputs, as bridged providers read them back.
            const liveValue = atPath(step.oldState?.inputs ?? {}, p) ?? atPath(live, p);
            out.push({
                resource,
                type,
                op,
                property: p,
                declared: showValue(atPath(declared, p)),
                live: showValue(liveValue),
            });
        }
    }
    return out;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "'");

/** Markdown for the run summary. */
export function driftMarkdown(stack: string, items: DriftItem[], runUrl?: string): string {
    if (items.length === 0) return `## Drift: ${stack}\n\nNo drift: the cloud matches the program.\n`;
    const lines = [
        `## Drift: ${stack}`,
        "",
        `${items.length} change(s) made outside Pulumi. The next deploy would put back the declared values${runUrl ? ` ([run](${runUrl}))` : ""}.`,
        "",
        "| Resource | Property | Declared (old) | Live now (new) | Step |",
        "|---|---|---|---|---|",
        ...items.map(
            (i) =>
                `| \`${cell(i.resource)}\` | ${cell(i.property)} | \`${cell(i.declared)}\` | \`${cell(i.live)}\` | ${i.op} |`,
        ),
        "",
    ];
    return lines.join("\n");
}

/** Slack incoming-webhook payload: one line per drifted property, at most `limit`. */
export function driftSlack(stack: string, items: DriftItem[], runUrl?: string, limit = 15): { text: string } {
    if (items.length === 0) return { text: `Drift check ${stack}: no drift.` };
    const shown = items
        .slice(0, limit)
        .map((i) => `• ${i.resource} ${i.property}: declared ${i.declared}, live ${i.live} (${i.op})`);
    const more = items.length > limit ? [`…and ${items.length - limit} more`] : [];
    return {
        text: [
            `:warning: Drift in ${stack}: ${items.length} change(s) made outside Pulumi${runUrl ? ` — ${runUrl}` : ""}`,
            ...shown,
            ...more,
        ].join("\n"),
    };
}
