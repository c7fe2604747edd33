/**
 * What a config change would make the real engine do, predicted from two mock recordings
 * (before and after the change) and the providers' lifecycle table
 * (infra/lifecycle/semantics.ts): which resources are created, updated in place, restarted,
 * replaced or deleted, and which of those the real APIs would refuse or regret: a
 * replacement that reuses a unique name while the old resource still exists, servers taken
 * down together, data lost. The offline plan's `--change` report and the lifecycle tests
 * use it; the real-engine tier checks the same changes against real previews.
 */
import { changeKind, deletesFirst, PROVIDER_SEMANTICS, unappliedChanges } from "../../infra/lifecycle/semantics";
import { findDestructiveChanges, GuardFinding } from "./guard";
import { RecordedResource, RecordedStack } from "./mockrun";
import { TYPES } from "../../infra/lifecycle/types";

export type PlannedOp = "create" | "delete" | "update" | "restart" | "replace";

export interface PlannedStep {
    type: string;
    name: string;
    what: string;
    op: PlannedOp;
    /** Top-level inputs whose value changes (after ignoreChanges). */
    changed: string[];
    /** Replaced old-first (the resource option, else the provider's default), or new-first. */
    deleteBeforeReplace: boolean;
    /** Changed inputs the provider records but never applies to the real resource. */
    unapplied?: string[];
}

const DROPLET = TYPES.droplet;

function changedInputs(a: RecordedResource, b: RecordedResource): string[] {
    const props = new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)]);
    // The engine keeps the old value of an ignored input, also on replacement.
    for (const p of b.opts.ignoreChanges) props.delete(p);
    return [...props].filter((p) => JSON.stringify(a.inputs[p]) !== JSON.stringify(b.inputs[p])).sort();
}

const key = (r: RecordedResource) => `${r.type}::${r.name}`;
const whatOf = (type: string) => PROVIDER_SEMANTICS[type]?.what ?? type;

/** Steps the engine would take to go from `before` to `after`, for custom resources. */
export function planChange(before: RecordedStack, after: RecordedStack): PlannedStep[] {
    const custom = (r: RecordedResource) => r.custom && !r.type.startsWith("pulumi:providers:");
    const old = new Map(before.resources.filter(custom).map((r) => [key(r), r]));
    const now = new Map(after.resources.filter(custom).map((r) => [key(r), r]));
    const steps: PlannedStep[] = [];
    for (const [k, b] of now) {
        const a = old.get(k);
        const deleteFirst = deletesFirst(b.type, b.inputs, b.opts.deleteBeforeReplace);
        if (!a) {
            steps.push({
                type: b.type,
                name: b.name,
                what: whatOf(b.type),
                op: "create",
                changed: [],
                deleteBeforeReplace: deleteFirst,
            });
            continue;
        }
        const changed = changedInputs(a, b);
        const forced = changed.some((p) => (b.opts.replaceOnChanges ?? []).includes(p));
        const kind = forced ? "replace" : changeKind(b.type, changed, a.inputs, b.inputs);
        if (kind === "none") continue;
        const unapplied = kind === "replace" ? [] : unappliedChanges(b.type, changed);
        steps.push({
            type: b.type,
            name: b.name,
            what: whatOf(b.type),
            op: kind,
            changed,
            deleteBeforeReplace: deleteFirst,
            ...(unapplied.length > 0 ? { unapplied } : {}),
        });
    }
    for (const [k, a] of old) {
        if (!now.has(k))
            steps.push({
                type: a.type,
                name: a.name,
                what: whatOf(a.type),
                op: "delete",
                changed: [],
                deleteBeforeReplace: false,
            });
    }
    return steps;
}

export interface NameClash {
    step: PlannedStep;
    property: string;
    value: unknown;
}

/**
 * Replacements the API would refuse: created new-first under a unique name the old
 * resource still holds.
 */
export function nameClashes(before: RecordedStack, after: RecordedStack, steps: PlannedStep[]): NameClash[] {
    const find = (rec: RecordedStack, s: PlannedStep) =>
        rec.resources.find((r) => r.type === s.type && r.name === s.name);
    const out: NameClash[] = [];
    for (const s of steps) {
        const sem = PROVIDER_SEMANTICS[s.type];
        const unique = sem?.uniqueName;
        if (s.op !== "replace" || s.deleteBeforeReplace || !unique) continue;
        const a = find(before, s)?.inputs;
        const b = find(after, s)?.inputs;
        // A name unique within a cluster does not clash in a new cluster.
        if (sem.uniqueWithin && JSON.stringify(a?.[sem.uniqueWithin]) !== JSON.stringify(b?.[sem.uniqueWithin]))
            continue;
        if (b?.[unique] !== undefined && JSON.stringify(a?.[unique]) === JSON.stringify(b[unique]))
            out.push({ step: s, property: unique, value: b[unique] });
    }
    return out;
}

/** Whether `from` waits for `to`, through explicit dependencies and their dependencies. */
export function waitsFor(rec: RecordedStack, from: string, to: string): boolean {
    const deps = new Map(rec.resources.map((r) => [r.name, r.opts.dependsOn]));
    const seen = new Set<string>();
    const stack = [...(deps.get(from) ?? [])];
    while (stack.length > 0) {
        const n = stack.pop()!;
        if (n === to) return true;
        if (seen.has(n)) continue;
        seen.add(n);
        stack.push(...(deps.get(n) ?? []));
    }
    return false;
}

/**
 * Pairs of servers the plan would take down at the same time (restart or replace with no
 * order between them). Empty when every server waits for the one before it.
 */
export function concurrentServerOutages(after: RecordedStack, steps: PlannedStep[]): [string, string][] {
    const down = steps
        .filter((s) => s.type === DROPLET && (s.op === "restart" || s.op === "replace"))
        .map((s) => s.name);
    const out: [string, string][] = [];
    for (let i = 0; i < down.length; i++) {
        for (let j = i + 1; j < down.length; j++) {
            if (!waitsFor(after, down[j], down[i]) && !waitsFor(after, down[i], down[j])) out.push([down[i], down[j]]);
        }
    }
    return out;
}

/** Steps that replace or delete a resource holding data. */
export function dataLosses(steps: PlannedStep[]): PlannedStep[] {
    return steps.filter((s) => (s.op === "replace" || s.op === "delete") && PROVIDER_SEMANTICS[s.type]?.holdsData);
}

/** The steps in the shape of `pulumi preview --json`, so the guard can judge a predicted plan. */
export function asPreview(
    stack: string,
    steps: PlannedStep[],
): { steps: { op: string; urn: string; newState: { type: string }; diffs: string[]; replaceReasons?: string[] }[] } {
    const op = (s: PlannedStep) => (s.op === "restart" ? "update" : s.op);
    return {
        steps: [
            {
                op: "same",
                urn: `urn:pulumi:${stack}::platform::pulumi:pulumi:Stack::platform-${stack}`,
                newState: { type: "pulumi:pulumi:Stack" },
                diffs: [],
            },
            ...steps.map((s) => ({
                op: op(s),
                urn: `urn:pulumi:${stack}::platform::${s.type}::${s.name}`,
                newState: { type: s.type },
                diffs: s.changed,
                ...(s.op === "replace"
                    ? {
                          replaceReasons: s.changed.filter(
                              (p) =>
                                  PROVIDER_SEMANTICS[s.type]?.replaceOn.includes(p) ||
                                  !!PROVIDER_SEMANTICS[s.type]?.replaceOnAllExcept,
                          ),
                      }
                    : {}),
            })),
        ],
    };
}

/** One line per step, for the offline plan. */
export function describeStep(s: PlannedStep): string {
    const how =
        s.op === "replace"
            ? s.deleteBeforeReplace
                ? "replace (delete first)"
                : "replace (create first)"
            : s.op === "restart"
              ? "restart (update in place with downtime)"
              : s.unapplied
                ? "update (not applied)"
                : s.op;
    return `${how.padEnd(24)} ${s.what} ${s.name}${s.changed.length ? `  [${s.changed.join(", ")}]` : ""}`;
}

export interface ChangeVerdict {
    steps: PlannedStep[];
    /** What the replacement guard says of the predicted plan. */
    guard: GuardFinding[];
    /** Replacements the API would refuse, one line each. */
    nameClashes: string[];
    /** Updates the provider would record but never apply, one line each. */
    unapplied: string[];
    /** Servers the plan would take down at the same time. */
    serversDownTogether: [string, string][];
    /** What the change costs the running stack, said plainly: downtime, restarted services. */
    impact: string[];
    /** The guard or the API would refuse it, or it would take servers down together. */
    refused: boolean;
}

/** The predicted plan from `before` to `after` and everything that would refuse it: what `plan --change` and `diff` report. */
export function judgeChange(stack: string, before: RecordedStack, after: RecordedStack): ChangeVerdict {
    const steps = planChange(before, after);
    const guard = findDestructiveChanges(asPreview(stack, steps));
    const clashes = nameClashes(before, after, steps).map(
        (c) =>
            `${c.step.what} ${c.step.name}: a new one under the same ${c.property} ${JSON.stringify(c.value)} while the old one exists`,
    );
    // An update the provider never applies would leave state describing what does not exist.
    const unapplied = steps
        .filter((s) => s.unapplied)
        .map(
            (s) =>
                `${s.what} ${s.name}: the provider records a change of ${s.unapplied!.join(", ")} but never applies it (the real ${s.what} keeps the old value)`,
        );
    const together = concurrentServerOutages(after, steps);
    return {
        steps,
        guard,
        nameClashes: clashes,
        unapplied,
        serversDownTogether: together,
        impact: impactOf(after, steps),
        refused: guard.some((f) => f.blocking) || clashes.length > 0 || unapplied.length > 0 || together.length > 0,
    };
}

/**
 * What a plan does to the running stack beyond its steps: a replaced server on a stack with
 * no other leaves nothing serving until the new one does (the droplet goes first, and every
 * container, proxy and step of it with it); a pool change is a release of every service
 * that uses the database (their DATABASE_URL names the new pool).
 */
export function impactOf(after: RecordedStack, steps: PlannedStep[]): string[] {
    const out: string[] = [];
    const servers = after.resources.filter((r) => r.type === DROPLET);
    for (const s of steps.filter((x) => x.type === DROPLET && x.op === "replace")) {
        const riding = steps.filter(
            (x) => x.op === "replace" && x.name !== s.name && x.name.startsWith(`${s.name}-`),
        ).length;
        if (servers.length === 1)
            out.push(
                `${s.name} is the only server: it is deleted before its replacement exists, with the ${riding} resources on it, so the stack serves nothing until the new server does (minutes)`,
            );
    }
    if (steps.some((x) => x.type === TYPES.pool && x.op === "replace")) {
        const apps = steps.filter(
            (x) => x.type === TYPES.container && x.op === "replace" && x.name.endsWith("-app"),
        ).length;
        out.push(
            `the pool is replaced new pool first, and every service that uses the database gets a new container and cut-over onto it (${apps} app containers): a release of those services`,
        );
    }
    return out;
}
