/**
 * `npm run plan -- --stack <name> [--compare <other>] [--change key=value ...] [--json] [--format tree|table|mermaid]`
 *
 * The offline plan: runs the real program under the SDK's mock runtime with the stack's
 * committed config (no credentials, no Pulumi CLI, no network) and prints the stack as a
 * tree, its estimated monthly cost, the policy results, with --compare the parity
 * report, and with --change what a config change would do to the running stack (update,
 * restart, replace, delete), as the real providers would apply it. Exit codes: 0 ok, 1 policy violations or unexpected parity differences,
 * 2 usage or config errors.
 */
import { evaluate, RuleResult } from "../policy/rules";
import { costReport, CostReport } from "./lib/cost";
import { recordStack, RecordedStack } from "./lib/mockrun";
import { configSource, offlineSecrets, readStackConfig, UnknownStackError } from "./lib/stacks";
import { parseSettings, ServiceSpec } from "../infra/config";
import { describe as describeFinding } from "./lib/guard";
import { compareStacks, ParityReport } from "./lib/parity";
import { ChangeVerdict, describeStep, judgeChange } from "./lib/whatif";
import { keyProps, renderMermaid, renderTable, renderTree, shortType } from "./lib/render";
import { subjectsOf } from "./lib/subjects";

export const PLAN_SCHEMA_VERSION = 1;

const HELP = `Usage: npm run plan -- --stack <dev|staging|prod> [--compare <stack>] [--change key=value ...] [--json] [--format tree|table|mermaid] [--work-dir <dir>]

Runs the Pulumi program offline with the stack's committed config and prints what it
would create: resources, estimated monthly cost, policy results and, with --compare,
the parity report. No cloud account, credentials or Pulumi CLI needed.

  --stack <name>     stack to plan (a Pulumi.<name>.yaml must exist)
  --compare <name>   also compare with another stack (e.g. staging vs prod); exits 1
                     when they differ in anything but declared per-stack knobs
  --change k=v       what setting config key k to v would do to the running stack: which
                     resources update, restart (a resize), are replaced or deleted, and
                     whether the replacement guard would refuse it (repeatable; lists and
                     objects as JSON, e.g. --change 'sshKeys=["ab:cd:..."]')
  --json             machine-readable output (stable field names, schemaVersion ${PLAN_SCHEMA_VERSION})
  --format <f>       tree (default), table, or mermaid (a diagram only)
  --work-dir <dir>   directory holding the Pulumi.<stack>.yaml files (default: this repository)
  -h, --help         this help

Exit codes: 0 ok, 1 policy violations, unexpected parity differences, or a --change the
API or the replacement guard would refuse; 2 usage/config error.`;

export interface PlanArgs {
    stack: string;
    compare?: string;
    changes: Record<string, string>;
    json: boolean;
    format: "tree" | "table" | "mermaid";
    workDir?: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): PlanArgs | "help" {
    const args: Partial<PlanArgs> = { json: false, format: "tree", changes: {} };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
            return v;
        };
        if (a === "-h" || a === "--help") return "help";
        else if (a === "--stack") args.stack = value();
        else if (a === "--compare") args.compare = value();
        else if (a === "--change") {
            const v = value();
            const eq = v.indexOf("=");
            if (eq <= 0) throw new UsageError(`--change ${v} is not key=value (e.g. --change serverSize=s-4vcpu-8gb)`);
            args.changes![v.slice(0, eq).replace(/^platform:/, "")] = v.slice(eq + 1);
        } else if (a === "--work-dir") args.workDir = value();
        else if (a === "--json") args.json = true;
        else if (a === "--format") {
            const f = value();
            if (!["tree", "table", "mermaid"].includes(f))
                throw new UsageError(`--format ${f} is not one of tree, table, mermaid`);
            args.format = f as PlanArgs["format"];
        } else throw new UsageError(`unknown argument ${a}`);
    }
    if (!args.stack) throw new UsageError("--stack is required");
    return args as PlanArgs;
}

export interface PlanResult {
    schemaVersion: number;
    stack: string;
    mode: "offline-mock";
    resources: {
        type: string;
        name: string;
        parent: string | null;
        properties: Record<string, unknown>;
        protect: boolean;
        retainOnDelete: boolean;
        ignoreChanges: string[];
    }[];
    outputs: Record<string, unknown>;
    cost: CostReport;
    policy: { violations: number; results: RuleResult[] };
    /** The app's services: what each runs, how it is gated, and the routes that reach it. */
    services: PlannedService[];
    parity?: ParityReport;
    /** With --change: what the change would do, step by step, and what refuses it. */
    change?: { set: Record<string, string> } & ChangeVerdict;
}

export interface PlannedService {
    name: string;
    image: string;
    health: string;
    routes: string[];
    workers: string[];
    migrates: boolean;
}

/** The stack file's services, read by the program's own config check (secrets as placeholders). */
export function plannedServices(stack: string, workDir?: string): PlannedService[] {
    const cfg = readStackConfig(stack, workDir);
    const offline = offlineSecrets(cfg.values);
    const settings = parseSettings(
        configSource({ ...cfg.values, ...offline }, [...cfg.secretKeys, ...Object.keys(offline)]),
        stack,
    );
    const health = (s: ServiceSpec) =>
        s.health.kind === "http"
            ? `GET ${s.health.path} = 200`
            : s.health.kind === "docker"
              ? `docker healthcheck ${s.healthcheckCommand.join(" ")}`
              : "any answer below 500";
    return settings.services.map((s) => ({
        name: s.name,
        image: `${s.repository}:${s.tag}${s.digest ? `@${s.digest}` : ""}`,
        health: health(s),
        routes: s.routes.map((r) => `${r.host}${r.path}`),
        workers: s.processes.map((p) => p.name),
        migrates: s.migrationCommand.length > 0,
    }));
}

/** Secret inputs replaced by "[secret]" at the top level: the JSON never carries one. */
function publicProps(r: RecordedStack["resources"][number]): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? "[secret]" : v]),
    );
}

export async function plan(args: PlanArgs): Promise<{ result: PlanResult; rec: RecordedStack }> {
    const rec = await recordStack(args.stack, { configDir: args.workDir });
    const results = evaluate(subjectsOf(rec), rec.stack).sort(
        (a, b) => Number(b.violations.length > 0) - Number(a.violations.length > 0),
    );
    const result: PlanResult = {
        schemaVersion: PLAN_SCHEMA_VERSION,
        stack: rec.stack,
        mode: "offline-mock",
        resources: rec.resources.map((r) => ({
            type: r.type,
            name: r.name,
            parent: r.opts.parent ?? null,
            properties: publicProps(r),
            protect: r.opts.protect,
            retainOnDelete: r.opts.retainOnDelete,
            ignoreChanges: r.opts.ignoreChanges,
        })),
        outputs: rec.outputs,
        cost: costReport(rec.resources),
        policy: { violations: results.reduce((n, r) => n + r.violations.length, 0), results },
        services: plannedServices(args.stack, args.workDir),
    };
    if (Object.keys(args.changes).length > 0) {
        const after = await recordStack(args.stack, { configDir: args.workDir, overrides: args.changes });
        result.change = { set: args.changes, ...judgeChange(args.stack, rec, after) };
    }
    if (args.compare) {
        const other = await recordStack(args.compare, { configDir: args.workDir });
        result.parity = compareStacks(
            rec,
            readStackConfig(rec.stack, args.workDir),
            other,
            readStackConfig(other.stack, args.workDir),
        );
    }
    return { result, rec };
}

const usd = (n: number | null) => (n === null ? "unknown" : `$${n.toFixed(2)}`);

export function renderText(result: PlanResult, rec: RecordedStack, format: "tree" | "table"): string {
    const out: string[] = [];
    out.push(
        `Offline plan for stack ${result.stack}: ${rec.resources.filter((r) => r.custom).length} resources (mock runtime, the stack file's config, no cloud calls)`,
        "",
    );
    out.push(format === "table" ? renderTable(rec) : renderTree(rec), "");
    out.push("Services (each routed by host and path, cut over on its own, one server at a time)");
    const nw = Math.max(...result.services.map((s) => s.name.length));
    for (const s of result.services) {
        const extra = [s.migrates ? "migrates" : "", s.workers.length ? `workers: ${s.workers.join(", ")}` : ""]
            .filter(Boolean)
            .join("; ");
        out.push(
            `  ${s.name.padEnd(nw)}  ${s.image}`,
            `  ${"".padEnd(nw)}  routes ${s.routes.join(", ")}; health: ${s.health}${extra ? `; ${extra}` : ""}`,
        );
    }
    out.push("", "Outputs");
    for (const [k, v] of Object.entries(result.outputs))
        out.push(`  ${k} = ${typeof v === "string" ? v : JSON.stringify(v)}`);
    out.push("", `Estimated monthly cost (list prices as of ${result.cost.pricesAsOf}, USD, before tax and credits)`);
    const w = Math.max(...result.cost.items.map((i) => `${shortType(i.type)} ${i.resource}`.length), 10);
    for (const i of result.cost.items) {
        out.push(
            `  ${`${shortType(i.type)} ${i.resource}`.padEnd(w)}  ${i.item.padEnd(36)} ${usd(i.usdPerMonth).padStart(9)}${i.note ? `  (${i.note})` : ""}`,
        );
    }
    out.push(
        `  ${"Total".padEnd(w)}  ${"".padEnd(36)} ${usd(result.cost.totalUsdPerMonth).padStart(9)}${result.cost.unknownItems ? `  + ${result.cost.unknownItems} item(s) of unknown price` : ""}`,
    );
    out.push(
        `  The services (${result.services.map((x) => x.name).join(", ")}) and their workers run on these droplets: containers add no line item.`,
    );
    out.push("", `Policy: ${result.policy.results.length} rules, ${result.policy.violations} violation(s)`);
    for (const r of result.policy.results) {
        if (r.violations.length === 0) out.push(`  ok    ${r.rule}`);
        else
            for (const v of r.violations)
                out.push(`  FAIL  ${r.rule} [${r.severity}] ${v.resource ?? ""}: ${v.message}`);
    }
    if (result.parity) out.push("", renderParity(result.parity));
    if (result.change) out.push("", renderChange(result.change));
    return out.join("\n");
}

export function renderChange(c: NonNullable<PlanResult["change"]>): string {
    const set = Object.entries(c.set)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
    const out = [`What setting ${set} would do (as the providers apply it; the real-engine tier checks this):`];
    if (c.steps.length === 0) out.push("  nothing changes");
    for (const s of c.steps) out.push(`  ${describeStep(s)}`);
    for (const f of c.guard)
        out.push(`  ${f.blocking ? "REFUSED by the replacement guard" : "note"}: ${describeFinding(f)}`);
    for (const n of c.nameClashes) out.push(`  REFUSED by the API: ${n}`);
    for (const n of c.unapplied) out.push(`  REFUSED, never applied: ${n}`);
    for (const [a, b] of c.serversDownTogether) out.push(`  OUTAGE: ${a} and ${b} would be down at the same time`);
    for (const i of c.impact) out.push(`  IMPACT: ${i}`);
    return out.join("\n");
}

export function renderParity(p: ParityReport): string {
    const out = [
        `Parity ${p.a} vs ${p.b}: ${p.unexpected === 0 ? "mirrors (only declared knobs differ)" : `${p.unexpected} unexpected difference(s)`}`,
    ];
    for (const c of p.causes) out.push(`  ${c.blocking ? "REFUSED   " : "CAUSE     "}  ${c.message}`);
    for (const o of p.onlyIn)
        out.push(
            `  ${o.expected ? "knob      " : "UNEXPECTED"}  only in ${o.stack}: ${o.resource}${o.knob ? `  (${o.knob.kind} knob ${o.knob.key})` : ""}`,
        );
    for (const d of p.diffs) {
        const show = (v: unknown) => {
            const s = JSON.stringify(v) ?? "undefined";
            return s.length > 60 ? `${s.slice(0, 57)}...` : s;
        };
        out.push(
            `  ${d.expected ? "knob      " : "UNEXPECTED"}  ${d.resource} ${d.property}: ${show(d.a)} -> ${show(d.b)}${d.knob ? `  (${d.knob.kind} knob ${d.knob.key})` : ""}`,
        );
    }
    return out.join("\n");
}

export async function main(
    argv: string[],
    write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
    let args: PlanArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (e) {
        write(`error: ${(e as Error).message}\n\n${HELP}\n`);
        return 2;
    }
    if (args === "help") {
        write(`${HELP}\n`);
        return 0;
    }
    try {
        const { result, rec } = await plan(args);
        if (args.json) write(`${JSON.stringify(result, null, 2)}\n`);
        else if (args.format === "mermaid") write(`${renderMermaid(rec)}\n`);
        else write(`${renderText(result, rec, args.format)}\n`);
        const changeRefused = result.change?.refused ?? false;
        return result.policy.violations > 0 || (result.parity?.unexpected ?? 0) > 0 || changeRefused ? 1 : 0;
    } catch (e) {
        const err = e as Error;
        if (err instanceof UnknownStackError || err.name === "ConfigError") {
            write(`error: ${err.message}\n`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: Error) => {
            process.stderr.write(`error: ${e.message}\n`);
            process.exitCode = 2;
        },
    );
}

export { keyProps };
