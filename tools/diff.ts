/**
 * `npm run diff -- --stack <name> --record <file>` and
 * `npm run diff -- --stack <name> --base <file> [--markdown] [--json]`
 *
 * The pull request's preview diff, without credentials: the workflow records the stack
 * offline on the base commit (`--record`), then asks on the head commit what would change
 * (`--base`): each resource updated, restarted, replaced or deleted as the real providers
 * apply it (infra/lifecycle/semantics.ts), and what the replacement guard would refuse.
 * A real preview needs the stack's secrets, which a pull request's code must never see;
 * the real one runs in the deploy job. It also says which services change and from which
 * tag and digest to which, as the stack files commit them (a digest only where one is
 * pinned; otherwise the deploy resolves the tag). With --repo it first asks GitHub whether
 * the stack's environment was ever deployed to: where it never was, nothing exists to
 * replace or delete, so nothing is refused (a team's first pull requests after adapting the
 * sample would otherwise be refused for replacing what was never created). Exit codes: 0
 * nothing refused, 1 the guard or the API would refuse the change, 2 usage or config errors.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import { parseSettings } from "../infra/config";
import { describe as describeFinding } from "./lib/guard";
import { Io, parseFlags, runCli } from "./lib/cli";
import { everDeployed, GitHubReader, restReader, tokenFromEnv } from "./lib/github";
import { recordStack, RecordedStack } from "./lib/mockrun";
import { configSource, offlineSecrets, readStackConfig, UnknownStackError } from "./lib/stacks";
import { describeStep, judgeChange } from "./lib/whatif";

const HELP = `Usage: npm run diff -- --stack <name> (--record <file> | --base <file>) [--markdown] [--json]

Offline preview diff for pull requests: no credentials, no network.
  --record <file>   record the stack as this checkout builds it (run on the base commit)
  --base <file>     compare this checkout with a recording: what each resource would do
                    (update, restart, replace, delete) and what the guard would refuse
  --work-dir <dir>  read Pulumi.<stack>.yaml from this folder instead of the repository
  --repo <o/r>      with --base: ask GitHub (GH_TOKEN, deployments: read) whether the
                    stack's environment was ever deployed to; if never, nothing is refused
  --markdown        print the comparison as Markdown (for a PR comment or job summary)
  --json            print the comparison as JSON
Both list the services: new, removed, unchanged,
or base tag/digest -> head tag/digest, as committed (a digest only where one is pinned).
Exit codes: 0 nothing refused, 1 the guard or the API would refuse it, 2 usage/config error.`;

/** What a service runs as the stack file commits it: its tag, and its digest if one is pinned. */
export interface ServiceRef {
    tag: string;
    digest?: string;
}

/** A recording as `--record` writes it: the offline run, and the release set the stack file commits. */
export interface Recording extends RecordedStack {
    services?: Record<string, ServiceRef>;
}

export interface ServiceChange {
    name: string;
    change: "new" | "removed" | "unchanged" | "changed";
    base?: ServiceRef;
    head?: ServiceRef;
}

/** The release set the stack file commits, read as the program reads it (offline placeholders for secrets). */
export function committedServices(stack: string, configDir?: string): Record<string, ServiceRef> {
    const cfg = readStackConfig(stack, configDir);
    const values = { ...cfg.values, ...offlineSecrets(cfg.values) };
    const settings = parseSettings(
        configSource(values, [...cfg.secretKeys, ...Object.keys(offlineSecrets(cfg.values))]),
        stack,
    );
    return Object.fromEntries(
        settings.services.map((s) => [s.name, s.digest ? { tag: s.tag, digest: s.digest } : { tag: s.tag }]),
    );
}

/**
 * A base recorded before recordings carried `services`: its tags from the `release` output.
 * The offline run's digests are placeholders, so none is taken.
 */
function servicesOfOldRecording(rec: RecordedStack): Record<string, ServiceRef> {
    const services =
        (rec.outputs?.release as { services?: Record<string, { tag?: unknown }> } | undefined)?.services ?? {};
    return Object.fromEntries(
        Object.entries(services)
            .filter(([, v]) => typeof v?.tag === "string")
            .map(([k, v]) => [k, { tag: v.tag as string }]),
    );
}

/** Per service, base -> head: the base's order, then services the head adds. */
export function compareServices(base: Record<string, ServiceRef>, head: Record<string, ServiceRef>): ServiceChange[] {
    const names = [...Object.keys(base), ...Object.keys(head).filter((n) => !(n in base))];
    return names.map((name) => {
        const b = base[name];
        const h = head[name];
        if (!b) return { name, change: "new", head: h };
        if (!h) return { name, change: "removed", base: b };
        return { name, change: b.tag === h.tag && b.digest === h.digest ? "unchanged" : "changed", base: b, head: h };
    });
}

const short = (digest: string) => digest.replace(/^sha256:([a-f0-9]{12})[a-f0-9]*$/, "sha256:$1");
/** `1.5.0 @ sha256:3f2a9c1b7d0e`, or `1.5.0` (digest resolved at deploy). */
export const refText = (r: ServiceRef) => `${r.tag}${r.digest ? ` @ ${short(r.digest)}` : ""}`;

function serviceLine(c: ServiceChange): string {
    if (c.change === "new") return `new: ${refText(c.head!)}`;
    if (c.change === "removed") return `removed (was ${refText(c.base!)})`;
    if (c.change === "unchanged") return `unchanged (${refText(c.head!)})`;
    return `${refText(c.base!)} -> ${refText(c.head!)}`;
}

/**
 * A recording without secret values. The offline run only ever holds placeholders for
 * secrets, but a secret input also carries plain parts (an app container's environment
 * holds DATABASE_URL and LOG_LEVEL): a digest keeps its changes visible without its text.
 */
function redacted(rec: RecordedStack): RecordedStack {
    const digest = (v: unknown) =>
        `[secret ${crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 12)}]`;
    return {
        ...rec,
        resources: rec.resources.map((r) => ({
            ...r,
            inputs: Object.fromEntries(
                Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? digest(v) : v]),
            ),
        })),
    };
}

export async function main(argv: string[], io: Io, github?: GitHubReader): Promise<number> {
    let args;
    try {
        args = parseFlags(argv, ["--stack", "--record", "--base", "--work-dir", "--repo"], ["--markdown", "--json"]);
    } catch (e) {
        io.err(`error: ${(e as Error).message}\n${HELP}\n`);
        return 2;
    }
    if (args.help) {
        io.out(`${HELP}\n`);
        return 0;
    }
    const { stack, record, base } = args.values;
    if (!stack || !record === !base) {
        io.err(`error: --stack and one of --record or --base are required\n${HELP}\n`);
        return 2;
    }
    let head: Recording;
    try {
        head = redacted(await recordStack(stack, { configDir: args.values["work-dir"] }));
        head.services = committedServices(stack, args.values["work-dir"]);
    } catch (e) {
        const err = e as Error;
        if (err instanceof UnknownStackError || err.name === "ConfigError") {
            io.err(`error: ${err.message}\n`);
            return 2;
        }
        throw e;
    }
    if (record) {
        fs.writeFileSync(record, JSON.stringify(head));
        io.err(`recorded ${stack}: ${head.resources.filter((r) => r.custom).length} resources -> ${record}\n`);
        return 0;
    }
    let before: Recording;
    try {
        before = JSON.parse(fs.readFileSync(base!, "utf8")) as Recording;
        if (!Array.isArray(before.resources)) throw new Error("not a recording made with --record");
    } catch (e) {
        io.err(`error: cannot read ${base}: ${(e as Error).message}\n`);
        return 2;
    }
    const repo = args.values.repo;
    let deployed = true;
    if (repo) {
        try {
            deployed = await everDeployed(github ?? restReader(tokenFromEnv()), repo, stack);
        } catch (e) {
            io.err(`error: cannot tell whether ${stack} was ever deployed: ${(e as Error).message}\n`);
            return 2;
        }
    }
    // Against a stack that was never deployed, what the base would replace or delete does not
    // exist: only the services and what the first deploy creates are worth saying.
    const judged = deployed
        ? judgeChange(stack, before, head)
        : { steps: [], guard: [], nameClashes: [], unapplied: [], serversDownTogether: [], impact: [], refused: false };
    const { steps, guard: findings, serversDownTogether, refused } = judged;
    const clashes = [...judged.nameClashes, ...judged.unapplied];
    const creates = head.resources.filter((r) => r.custom).length;
    const neverDeployed = deployed
        ? []
        : [
              `${stack} was never deployed by a workflow (its GitHub environment has no deployment), so nothing exists to replace or delete: the first deploy creates all ${creates} resources. If it was deployed by hand, the deploy job's guard still checks the real state.`,
          ];
    const together = serversDownTogether.map(([a, b]) => `${a} and ${b} would be down at the same time`);
    const services = compareServices(before.services ?? servicesOfOldRecording(before), head.services ?? {});
    if (args.flags.has("json")) {
        io.out(
            `${JSON.stringify({ stack, deployed, refused, services, steps, guard: findings, nameClashes: clashes, serversDownTogether: together }, null, 2)}\n`,
        );
    } else if (args.flags.has("markdown")) {
        const lines = [
            `### ${stack}: ${steps.length === 0 ? "no change" : `${steps.length} change(s)`}${refused ? " — **refused**" : ""}`,
        ];
        if (services.length > 0)
            lines.push(
                "",
                "Services (as committed; without a pinned digest the deploy resolves the tag):",
                "",
                "| service | change | base | head |",
                "|---|---|---|---|",
            );
        for (const c of services)
            lines.push(
                `| ${c.name} | ${c.change} | ${c.base ? refText(c.base) : "—"} | ${c.head ? refText(c.head) : "—"} |`,
            );
        if (steps.length > 0) {
            lines.push("", "| what | resource | why |", "|---|---|---|");
            for (const s of steps)
                lines.push(
                    `| ${s.op}${s.op === "replace" ? (s.deleteBeforeReplace ? " (old first)" : " (new first)") : ""} | ${s.what} \`${s.name}\` | ${s.changed.join(", ")} |`,
                );
        }
        for (const n of neverDeployed) lines.push("", `- note: ${n}`);
        for (const i of judged.impact) lines.push("", `- **impact**: ${i}`);
        for (const f of findings)
            lines.push("", `- ${f.blocking ? "**refused by the replacement guard**" : "note"}: ${describeFinding(f)}`);
        for (const c of [...clashes, ...together]) lines.push("", `- **refused**: ${c}`);
        io.out(`${lines.join("\n")}\n`);
    } else {
        io.out(`${stack}: ${steps.length === 0 ? "no change" : `${steps.length} change(s)`}\n`);
        for (const c of services) io.out(`  service ${c.name}: ${serviceLine(c)}\n`);
        for (const s of steps) io.out(`  ${describeStep(s)}\n`);
        for (const n of neverDeployed) io.out(`  note: ${n}\n`);
        for (const i of judged.impact) io.out(`  IMPACT: ${i}\n`);
        for (const f of findings) io.out(`  ${f.blocking ? "REFUSED" : "note"}: ${describeFinding(f)}\n`);
        for (const c of [...clashes, ...together]) io.out(`  REFUSED: ${c}\n`);
    }
    return refused ? 1 : 0;
}

if (require.main === module) runCli(main);
