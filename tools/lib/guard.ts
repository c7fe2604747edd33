/**
 * The replacement guard: reads `pulumi preview --json` (the CLI's PreviewDigest) and lists
 * every step that would replace or delete something whose loss breaks the stack or loses
 * data, plus the in-place updates that take a server down (a resize). Which types count,
 * and why, comes from the providers' lifecycle table (infra/lifecycle/semantics.ts). Pure,
 * so it is tested on fixtures in the CLI's real format and on real previews.
 *
 * It fails closed: a preview it cannot read, an empty one or a failed one is an error,
 * never "nothing to worry about".
 */
import { PROVIDER_SEMANTICS } from "../../infra/lifecycle/semantics";
import { TYPES } from "../../infra/lifecycle/types";

/** Resource types whose replacement or deletion the guard refuses, with what they are called. */
export const GUARDED_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
    Object.entries(PROVIDER_SEMANTICS)
        .filter(([, s]) => s.guarded)
        .map(([t, s]) => [t, s.what]),
);

/**
 * Replacements that are routine and safe by design, reported but not refused: a pool is
 * created under its new name before the app moves to it (infra/database), a certificate
 * before the balancer switches to it (infra/edge).
 */
const SAFE_REPLACEMENTS = new Set<string>([TYPES.pool, TYPES.cert]);

/** Ops that destroy the resource in place (replacement steps appear only with --show-replacement-steps). */
const DESTRUCTIVE_OPS = ["replace", "create-replacement", "delete-replaced", "delete", "discard"];

export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: { type?: string } | null;
    newState?: { type?: string } | null;
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string }> | null;
    /** Top-level properties that differ. */
    diffs?: string[];
}

export interface PreviewDigest {
    steps?: PreviewStep[];
    diagnostics?: { severity?: string; message?: string }[];
}

export interface GuardFinding {
    urn: string;
    name: string;
    what: string;
    op: "replace" | "delete" | "restart";
    reasons: string[];
    /** Refused unless allowed; otherwise reported only. */
    blocking: boolean;
}

export class UnreadablePreview extends Error {}

/** The type of a step: from its states, or from the URN's type segment. */
export function stepType(step: PreviewStep): string {
    const t = step.newState?.type ?? step.oldState?.type;
    if (t) return t;
    const parts = step.urn.split("::");
    const typePath = parts[2] ?? "";
    return typePath.slice(typePath.lastIndexOf("$") + 1);
}

/** Error diagnostics of a preview: a failed preview is never a green light. */
export function previewErrors(d: PreviewDigest): string[] {
    return (d.diagnostics ?? [])
        .filter((x) => x.severity === "error")
        .map((x) => (x.message ?? "error").trim().replace(/\s+/g, " "));
}

/**
 * Parses `pulumi preview --json` output, refusing what cannot be judged: no JSON, or no
 * steps (a preview of any stack has at least its Stack resource). A preview that reports
 * errors still has steps worth reading; `previewErrors` tells.
 */
export function parsePreview(text: string): PreviewDigest {
    if (text.trim() === "")
        throw new UnreadablePreview("the preview is empty: the preview itself probably failed (see its log)");
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new UnreadablePreview(`the preview is not JSON from \`pulumi preview --json\`: ${(e as Error).message}`);
    }
    const d = doc as PreviewDigest;
    if (!d || typeof d !== "object" || !Array.isArray(d.steps))
        throw new UnreadablePreview("the preview has no steps: it is not the output of `pulumi preview --json`");
    if (d.steps.length === 0)
        throw new UnreadablePreview("the preview has no steps at all, not even the stack: it did not run to the end");
    return d;
}

function changedProps(step: PreviewStep): string[] {
    return step.diffs ?? Object.keys(step.detailedDiff ?? {});
}

export function findDestructiveChanges(preview: PreviewDigest): GuardFinding[] {
    const seen = new Set<string>();
    const out: GuardFinding[] = [];
    for (const step of preview.steps ?? []) {
        const type = stepType(step);
        const s = PROVIDER_SEMANTICS[type];
        if (!s || seen.has(step.urn)) continue;
        const name = step.urn.split("::").pop() ?? step.urn;
        if (step.op === "update" && s.restartOn) {
            const reasons = changedProps(step).filter((p) => s.restartOn!.includes(p));
            if (reasons.length > 0) {
                seen.add(step.urn);
                out.push({ urn: step.urn, name, what: s.what, op: "restart", reasons, blocking: false });
            }
            continue;
        }
        if (!DESTRUCTIVE_OPS.includes(step.op)) continue;
        const op = step.op === "delete" || step.op === "discard" ? "delete" : "replace";
        if (!s.guarded && !(op === "replace" && SAFE_REPLACEMENTS.has(type))) continue;
        seen.add(step.urn);
        const reasons = step.replaceReasons?.length
            ? step.replaceReasons
            : Object.entries(step.detailedDiff ?? {})
                  .filter(([, d]) => d.kind.endsWith("-replace"))
                  .map(([k]) => k);
        out.push({
            urn: step.urn,
            name,
            what: s.what,
            op,
            reasons,
            blocking: !(op === "replace" && SAFE_REPLACEMENTS.has(type)),
        });
    }
    return out;
}

export function describe(f: GuardFinding): string {
    const verb = f.op === "replace" ? "replaces" : f.op === "delete" ? "deletes" : "restarts";
    const because = f.reasons.length ? ` (because of ${f.reasons.join(", ")})` : "";
    const note =
        f.op === "restart"
            ? ": powered off, resized and started again, one server at a time"
            : f.blocking
              ? ""
              : ": the new one is created first and takes over";
    return `${verb} ${f.what} ${f.name}${because}${note}`;
}
