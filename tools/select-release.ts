/**
 * `npm run select-release -- <check|order|apply|record> --stack <name> [...]`
 *
 * The deploy workflow's release selection (.github/workflows/_deploy.yml), as decisions a
 * test can reach: which inputs a deploy accepts, whether an older commit would be deployed
 * over a newer one, which image each service deploys (the one it runs, a tag this merge
 * changed, or the one a dispatch or a promotion names), and the release set a stack runs.
 * The workflow only calls these commands and hands their outputs on.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import { STACKS } from "../infra/config/schema";
import { Automation, currentRelease, localAutomation, StackApi, ToolError } from "./lib/automation";
import { Io, parseFlags, runCli, workDirOf } from "./lib/cli";
import { ConfiguredImage, imageKeys, stackImages } from "./lib/deploy";
import { explain, EXIT } from "./lib/errors";
import { parseReleaseSet, ServiceRelease } from "./lib/notify";
import {
    HistoryEntry,
    recordServices,
    Release,
    ReleaseRecord,
    ReleaseSet,
    releasesFromHistory,
    sameSet,
    describeSet,
} from "./lib/releases";
import { parseStackFile } from "./lib/stacks";

export const HELP = `Usage: npm run select-release -- <command> --stack <dev|staging|prod> [options]

The deploy workflow's release selection, one command per step:
  check   --mode <up|rollback> --commit <sha> [--services "<svc>=<tag>[@sha256:...] ..."]
          [--service <name>] [--require-release true|false]
          refuses bad inputs in one line before anything runs
  order   --commit <sha> [--services ...] [--require-release true|false]
          writes running=<commit the stack runs> and skip=true when that commit already
          contains --commit (its changes are live); fails when a named release would be dropped
  apply   [--services ...] [--running <sha>]
          sets each service's tag, digest and pin: the release it runs, unless this merge
          changed its committed tag (compared with the stack file at --running), or the
          release --services names (tag alone: resolved again by pin; tag@digest: exactly that)
  record  [--skipped true|false --running <sha>]
          writes commit=<the commit deployed> and services=<the release set the stack runs>
Outputs (key=value lines) go to --github-output <file> when given, else to stdout.
  --work-dir <dir>   the project directory (default: this repository)

Exit codes: 0 done, 1 refused (a named release would not be deployed), 2 bad input or error.
In GitHub Actions (GITHUB_ACTIONS=true) an error is one ::error:: line.`;

const SHA = /^[0-9a-f]{40}$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,20}$/;
/** A character a release set may not hold; it is refused before the set is split or echoed. */
const NOT_IN_SET = /[^A-Za-z0-9_.@:=, -]/;

/** A bad input or a refused selection; its message is the whole story. */
export class SelectError extends Error {
    constructor(
        message: string,
        readonly code: number = EXIT.error,
    ) {
        super(message);
    }
}

export interface Inputs {
    stack: string;
    mode: string;
    commit: string;
    services: string;
    service: string;
    requireRelease: boolean;
}

/** The deploy's inputs, checked: the requested release set, or one line saying what is wrong. */
export function checkInputs(i: Inputs): ServiceRelease[] {
    checkStack(i.stack);
    if (i.mode !== "up" && i.mode !== "rollback") throw new SelectError(`mode must be up or rollback, got '${i.mode}'`);
    if (!SHA.test(i.commit))
        throw new SelectError(
            `commit '${i.commit}' is not a full SHA (an empty staging output must stop the promotion)`,
        );
    if (i.service !== "" && !SERVICE_NAME.test(i.service))
        throw new SelectError(`service '${i.service}' is not a service name (lowercase letters, digits and dashes)`);
    const set = requestedSet(i.services);
    // A promotion carries exactly what staging ran: every service with its digest.
    if (i.requireRelease) {
        if (set.length === 0)
            throw new SelectError(
                "promotion needs the release set staging ran (services, each name=tag@sha256:...); got none",
            );
        const bare = set.find((s) => !s.digest);
        if (bare)
            throw new SelectError(
                `promotion needs the digest staging ran for each service; got '${bare.name}=${bare.tag}'`,
            );
    }
    return set;
}

/** Only the stacks the program defines: their names pick the GitHub environment and its credentials. */
export function checkStack(stack: string): void {
    if (!(STACKS as readonly string[]).includes(stack))
        throw new SelectError(`stack must be one of ${STACKS.join(", ")}, got '${stack}'`);
}

/** `--services` as entries: name=tag or name=tag@sha256:<64 hex>, separated by spaces or commas. */
export function requestedSet(text: string): ServiceRelease[] {
    if (NOT_IN_SET.test(text)) {
        throw new SelectError(
            `services '${text.replace(new RegExp(NOT_IN_SET.source, "g"), "?")}' has a character that is not in a service name, tag or digest (? marks it): expected e.g. api=1.5.0 web=2.4.1`,
        );
    }
    try {
        return parseReleaseSet(text);
    } catch (e) {
        throw new SelectError(`services: ${(e as Error).message} (e.g. api=1.5.0 web=2.4.1)`);
    }
}

/** The commit the stack runs: the newest update whose message ends with ` at <sha>`. */
export function runningCommitOf(messages: string[]): string {
    for (const m of messages) {
        const hit = / at ([0-9a-f]{40})$/.exec(m);
        if (hit) return hit[1];
    }
    return "";
}

export interface Order {
    running: string;
    skip: boolean;
    notice?: string;
}

/**
 * Queued runs start in the order they began waiting, which is not always merge order. A
 * commit the stack already runs a descendant of is not deployed over it (its changes are
 * live); a release named by a dispatch would be dropped by that skip, so it fails instead.
 */
export function orderOf(o: {
    stack: string;
    commit: string;
    running: string;
    containsCommit: boolean;
    named: ServiceRelease[];
    requireRelease: boolean;
}): Order {
    if (o.running === "" || o.running === o.commit || !o.containsCommit) return { running: o.running, skip: false };
    if (o.named.length > 0 && !o.requireRelease) {
        throw new SelectError(
            `${o.stack} already runs ${o.running}, newer than ${o.commit}: ${setText(o.named)} was not deployed; dispatch it again`,
            EXIT.failed,
        );
    }
    return {
        running: o.running,
        skip: true,
        notice: `${o.stack} already runs ${o.running}, which contains ${o.commit}: not deploying the older commit over it`,
    };
}

/**
 * A promotion approved after an emergency rollback would deploy again the release that was
 * just rolled back: it was queued (and its set read from staging) before the rollback. The
 * stack's newest release is a rollback when it equals a release older than the one it
 * replaced; then a promotion of exactly the replaced set is refused, in one line.
 */
export function promotionOverRollback(
    stack: string,
    releases: Release[],
    requested: ServiceRelease[],
): string | undefined {
    if (releases.length < 3 || requested.length === 0) return undefined;
    const [now, replaced, ...older] = releases;
    const rolledBack =
        !sameSet(now.services, replaced.services) && older.some((r) => sameSet(r.services, now.services));
    const set: ReleaseSet = Object.fromEntries(requested.map((s) => [s.name, { tag: s.tag ?? "", digest: s.digest }]));
    if (!rolledBack || !sameSet(set, replaced.services)) return undefined;
    return `${stack} was rolled back from ${describeSet(replaced.services)} to ${describeSet(now.services)} at ${now.time}, after this promotion was queued: promoting would deploy the release just rolled back; promote again once staging runs a fixed release`;
}

export interface ImageWrite {
    service: string;
    tag: string;
    digest: string;
    pin: string;
}

/**
 * Which image each service deploys. Nothing is committed back to the repository, so the
 * committed tags are only a stack's first release: a service keeps the release it runs
 * (the stack's `release` output), unless this merge changed its committed tag (it differs
 * from the tag committed at the commit the stack runs), which is what the merge deploys.
 * A service named in `requested` gets exactly that: its tag (digest and pin cleared, so
 * `npm run pin` resolves it) or tag@digest (a promotion). Every name is checked first.
 */
export function planWrites(o: {
    stack: string;
    record: ReleaseRecord;
    declared: Record<string, ConfiguredImage>;
    /** Each service's tag as committed at the commit the stack runs; undefined: unknown, keep every service. */
    committedThen?: Record<string, string>;
    requested: ServiceRelease[];
}): { writes: ImageWrite[]; lines: string[] } {
    const unknown = o.requested.find((s) => !o.declared[s.name]);
    if (unknown)
        throw new SelectError(
            `services: ${unknown.name} is not a service of ${o.stack} (no platform:services.${unknown.name} in Pulumi.${o.stack}.yaml at this commit)`,
        );
    const writes: ImageWrite[] = [];
    const lines: string[] = [];
    const image = (service: string, tag: string, digest = ""): ImageWrite => ({
        service,
        tag,
        digest,
        pin: digest ? `${tag}@${digest}` : "",
    });
    const running = Object.entries(recordServices(o.record)).filter(([, s]) => !!s?.tag);
    if (running.length === 0) lines.push(`${o.stack} has no release yet: deploying the committed tags`);
    for (const [name, s] of running) {
        if (o.requested.some((r) => r.name === name)) continue;
        if (!o.declared[name]) {
            lines.push(`${name} is no longer a service of ${o.stack}: nothing to keep`);
            continue;
        }
        const committed = o.declared[name].tag ?? "";
        const before = o.committedThen?.[name] ?? "";
        if (o.committedThen && committed !== before) {
            lines.push(
                `${name}: this merge changes its committed tag from ${before || "nothing"} to ${committed}: deploying ${committed}`,
            );
            continue;
        }
        lines.push(`${name} keeps its running release ${s.tag} (${s.digest ?? "no digest"})`);
        writes.push(image(name, s.tag!, s.digest));
    }
    for (const r of o.requested) {
        lines.push(`${r.name}: ${r.tag}${r.digest ? ` (${r.digest})` : ""}`);
        writes.push(image(r.name, r.tag ?? "", r.digest));
    }
    return { writes, lines };
}

/** `api=1.5.0@sha256:... web=2.4.1`: a release set as the workflow passes it on. */
export function setText(set: { name: string; tag?: string; digest?: string }[]): string {
    return set.map((s) => `${s.name}=${s.tag ?? ""}${s.digest ? `@${s.digest}` : ""}`).join(" ");
}

/** The release set a stack's record names, as `setText` writes it. */
export function recordText(record: ReleaseRecord): string {
    return setText(
        Object.entries(recordServices(record))
            .filter(([, s]) => !!s?.tag)
            .map(([name, s]) => ({ name, tag: s.tag, digest: s.digest || undefined })),
    );
}

/** The tag of each service in a stack file's text; undefined when it cannot be read. */
export function committedTags(text: string): Record<string, string> | undefined {
    try {
        const raw = parseStackFile(text).values["platform:services"];
        const map = JSON.parse(raw ?? "{}") as Record<string, { tag?: unknown }>;
        return Object.fromEntries(Object.entries(map).map(([n, s]) => [n, s?.tag === undefined ? "" : String(s.tag)]));
    } catch {
        return undefined;
    }
}

/** What the commands read and write outside this file: the stack's backend and git. */
export interface Backend {
    /** The stack's `release` output; throws when the backend cannot be read. */
    release(stack: string): Promise<ReleaseRecord>;
    /** The messages of the stack's newest updates, newest first. */
    updateMessages(stack: string): Promise<string[]>;
    /** The stack's releases (its successful updates), newest first. */
    releases(stack: string): Promise<Release[]>;
    /** Each service's image as the stack's config names it now. */
    declared(stack: string): Promise<Record<string, ConfiguredImage>>;
    setImage(stack: string, w: ImageWrite): Promise<void>;
    /** Whether `commit` is an ancestor of `of` (git merge-base --is-ancestor). */
    contains(of: string, commit: string): boolean;
    /** The stack file's text as committed at `commit`, or undefined. */
    stackFileAt(commit: string, stack: string): string | undefined;
    head(): string;
}

export function realBackend(workDir: string, automation: Automation = localAutomation): Backend {
    const git = (args: string[]) => spawnSync("git", args, { cwd: workDir, encoding: "utf8" });
    // One command runs in one process: each stack is selected once (a CLI call), and its
    // newest history page is read once for both the running commit and the releases.
    const stacks = new Map<string, Promise<StackApi>>();
    const openStack = (stack: string) => {
        if (!stacks.has(stack)) stacks.set(stack, automation.selectStack(stack, workDir));
        return stacks.get(stack)!;
    };
    const histories = new Map<string, Promise<HistoryEntry[]>>();
    const recent = (stack: string) => {
        if (!histories.has(stack))
            histories.set(
                stack,
                openStack(stack).then((s) => s.history(20, 1)),
            );
        return histories.get(stack)!;
    };
    return {
        release: async (stack) => currentRelease(await openStack(stack)),
        updateMessages: async (stack) => (await recent(stack)).map((h) => h.message ?? ""),
        releases: async (stack) => releasesFromHistory(await recent(stack)),
        declared: async (stack) => stackImages(await (await openStack(stack)).getAllConfig()).services,
        setImage: async (stack, w) => {
            const s = await openStack(stack);
            const keys = imageKeys(w.service);
            for (const [key, value] of [
                [keys.tag, w.tag],
                [keys.digest, w.digest],
                [keys.pin, w.pin],
            ])
                await s.setConfig(key, { value, secret: false }, true);
        },
        contains: (of, commit) => git(["merge-base", "--is-ancestor", commit, of]).status === 0,
        stackFileAt: (commit, stack) => {
            const r = git(["show", `${commit}:Pulumi.${stack}.yaml`]);
            return r.status === 0 ? r.stdout : undefined;
        },
        head: () => execFileSync("git", ["rev-parse", "HEAD"], { cwd: workDir, encoding: "utf8" }).trim(),
    };
}

const COMMANDS = ["check", "order", "apply", "record"];

export async function main(
    argv: string[],
    io: Io,
    env: NodeJS.ProcessEnv = process.env,
    backendOf: (workDir: string) => Backend = realBackend,
): Promise<number> {
    const github = env.GITHUB_ACTIONS === "true";
    const fail = (message: string, code: number) => {
        io.err(github ? `::error::${message}\n` : `error: ${message}\n`);
        return code;
    };
    const [command, ...rest] = argv;
    if (command === "-h" || command === "--help") {
        io.out(`${HELP}\n`);
        return EXIT.ok;
    }
    try {
        if (!COMMANDS.includes(command))
            throw new SelectError(
                `expected a command, one of ${COMMANDS.join(", ")}; got '${command ?? ""}' (see --help)`,
            );
        const a = parseFlags(
            rest,
            [
                "--stack",
                "--mode",
                "--commit",
                "--services",
                "--service",
                "--require-release",
                "--running",
                "--skipped",
                "--github-output",
                "--work-dir",
            ],
            [],
        );
        if (a.help) {
            io.out(`${HELP}\n`);
            return EXIT.ok;
        }
        const v = (k: string) => a.values[k] ?? "";
        const bool = (k: string) => {
            if (!["", "true", "false"].includes(v(k)))
                throw new SelectError(`--${k} must be true or false, got '${v(k)}'`);
            return v(k) === "true";
        };
        const stack = v("stack");
        checkStack(stack);
        const output = (pairs: [string, string][]) => {
            const text = pairs.map(([k, val]) => `${k}=${val}\n`).join("");
            if (a.values["github-output"]) fs.appendFileSync(a.values["github-output"], text);
            else io.out(text);
        };
        const backend = () => backendOf(workDirOf(a.values));

        if (command === "check") {
            checkInputs({
                stack,
                mode: v("mode"),
                commit: v("commit"),
                services: v("services"),
                service: v("service"),
                requireRelease: bool("require-release"),
            });
            return EXIT.ok;
        }
        if (command === "order") {
            if (!SHA.test(v("commit"))) throw new SelectError(`commit '${v("commit")}' is not a full SHA`);
            const b = backend();
            if (bool("require-release")) {
                const refused = promotionOverRollback(stack, await b.releases(stack), requestedSet(v("services")));
                if (refused) throw new SelectError(refused, EXIT.refused);
            }
            const running = runningCommitOf(await b.updateMessages(stack));
            const o = orderOf({
                stack,
                commit: v("commit"),
                running,
                containsCommit: running !== "" && b.contains(running, v("commit")),
                named: requestedSet(v("services")),
                requireRelease: bool("require-release"),
            });
            if (o.notice) io.out(github ? `::notice::${o.notice}\n` : `${o.notice}\n`);
            output([
                ["running", o.running],
                ["skip", String(o.skip)],
            ]);
            return EXIT.ok;
        }
        if (command === "apply") {
            const b = backend();
            const text = v("running") ? b.stackFileAt(v("running"), stack) : undefined;
            const plan = planWrites({
                stack,
                record: await b.release(stack),
                declared: await b.declared(stack),
                committedThen: text === undefined ? undefined : committedTags(text),
                requested: requestedSet(v("services")),
            });
            for (const line of plan.lines) io.out(`${line}\n`);
            for (const w of plan.writes) await b.setImage(stack, w);
            return EXIT.ok;
        }
        // record: what the stack runs after this job (an unreadable backend names no release).
        const b = backend();
        const record = await b.release(stack).catch((): ReleaseRecord => ({}));
        output([
            ["commit", bool("skipped") ? v("running") : b.head()],
            ["services", recordText(record)],
        ]);
        return EXIT.ok;
    } catch (e) {
        if (e instanceof SelectError) return fail(e.message, e.code);
        return fail(
            e instanceof ToolError ? e.message : explain(e, argv[argv.indexOf("--stack") + 1] ?? ""),
            EXIT.error,
        );
    }
}

if (require.main === module) runCli((argv, io) => main(argv, io));
