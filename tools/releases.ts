/**
 * `npm run releases -- --stack <name> [--json]`: the stack's releases, newest first, with
 * the one running now marked and each release's restore point.
 * `npm run releases -- --dora [--stack <name>] [--since 90d] [--json]`: DORA metrics per
 * stack from the same history, with commit times from git.
 */
import { execFileSync } from "child_process";
import {
    Automation,
    EXIT,
    currentRelease,
    fullHistory,
    localAutomation,
    requireKnownStack,
    ToolError,
} from "./lib/automation";
import { Io, runCli, runTool, workDirOf } from "./lib/cli";
import { doraMetrics, DoraReport, parseSince, renderDora } from "./lib/dora";
import { shortDigest } from "./lib/notify";
import { ReleaseSet, releasesFromHistory, restorePointOf, sameSet, setOfRecord } from "./lib/releases";
import { committedStacksIn } from "./lib/stacks";

const HELP = `Usage: npm run releases -- --stack <name> [--json] [--work-dir <dir>]
       npm run releases -- --dora [--stack <name>] [--since 90d] [--json] [--work-dir <dir>]

Lists the releases the stack's successful updates deployed, newest first: the update's
version (what rollback --to <n> takes), its time, each service's image tag and digest, its
message and author; * marks the one running now. Each release shows its restore
point: the database's clock just before its migration (db), or, when the release recorded
none, the start of its update (~).

--dora prints, per stack (all stacks unless --stack), over the window --since (default 90d):
deployment frequency, lead time from commit to live (commit times from git in --work-dir),
change failure rate (releases replaced by a rollback, which a failed health check triggers)
and time to restore.

Exit codes: 0 ok, 2 could not read the history (see the message).`;

/** Commit time of a SHA from git in `dir`, or undefined when git does not know it. */
export function gitCommitTime(dir: string): (sha: string) => Date | undefined {
    const cache = new Map<string, Date | undefined>();
    return (sha) => {
        if (!/^[0-9a-f]{7,40}$/.test(sha)) return undefined;
        if (!cache.has(sha)) {
            try {
                const out = execFileSync("git", ["-C", dir, "show", "-s", "--format=%cI", `${sha}^{commit}`], {
                    encoding: "utf8",
                    stdio: ["ignore", "pipe", "ignore"],
                }).trim();
                cache.set(sha, out ? new Date(out) : undefined);
            } catch {
                cache.set(sha, undefined);
            }
        }
        return cache.get(sha);
    };
}

async function dora(
    automation: Automation,
    stacks: string[],
    workDir: string,
    since: string,
    json: boolean,
    io: Io,
): Promise<number> {
    const until = new Date();
    const from = new Date(until.getTime() - parseSince(since));
    const commitTime = gitCommitTime(workDir);
    const reports: DoraReport[] = [];
    for (const name of stacks) {
        const stack = await automation.selectStack(name, workDir);
        reports.push(doraMetrics(await fullHistory(stack), { stack: name, since: from, until, commitTime }));
    }
    if (json)
        io.out(
            `${JSON.stringify({ since: from.toISOString(), until: until.toISOString(), stacks: reports }, null, 2)}\n`,
        );
    else io.out(`${reports.map(renderDora).join("\n\n")}\n`);
    return EXIT.ok;
}

/** One service's image in a listing row: `1.4.2  sha256:3333333333333…` alone, `api 1.4.2 (333333333333)` among several. */
function imageColumn(set: ReleaseSet): string {
    const entries = Object.entries(set);
    if (entries.length === 1) {
        const s = entries[0][1];
        return `${s.tag.padEnd(14)} ${(s.digest ?? "(digest resolved at deploy time)").slice(0, 19).padEnd(19)}`;
    }
    return entries.map(([name, s]) => `${name} ${s.tag} (${shortDigest(s.digest) ?? "no digest"})`).join(", ");
}

export function main(argv: string[], io: Io, automation: Automation = localAutomation): Promise<number> {
    return runTool(
        {
            name: "releases",
            help: HELP,
            values: ["--stack", "--work-dir", "--since"],
            flags: ["--json", "--dora"],
            run: async (args, r) => {
                const workDir = workDirOf(args.values);
                const json = args.flags.has("json");
                if (args.flags.has("dora")) {
                    const since = args.values.since ?? "90d";
                    try {
                        parseSince(since);
                    } catch (e) {
                        throw new ToolError((e as Error).message);
                    }
                    const stacks = args.values.stack
                        ? [(r.stack = requireKnownStack(args.values.stack, workDir))]
                        : committedStacksIn(workDir);
                    return await dora(automation, stacks, workDir, since, json, io);
                }
                if (args.values.since) throw new ToolError("--since applies to --dora only");
                const stackName = (r.stack = requireKnownStack(args.values.stack, workDir));
                const stack = await automation.selectStack(stackName, workDir);
                const releases = releasesFromHistory(await fullHistory(stack));
                const current = await currentRelease(stack);
                const running = setOfRecord(current);
                // The record describes the newest update only; older releases fall back to their start.
                const points = releases.map((rel, i) => restorePointOf(rel, i === 0 ? current : undefined));
                if (json) {
                    io.out(
                        `${JSON.stringify({ stack: stackName, current, releases: releases.map((rel, i) => ({ ...rel, restorePoint: points[i] })) }, null, 2)}\n`,
                    );
                    return EXIT.ok;
                }
                if (releases.length === 0) io.out(`${stackName}: no releases yet\n`);
                releases.forEach((rel, i) => {
                    const now = sameSet(rel.services, running) ? "*" : " ";
                    const point = `${points[i].source === "database-clock" ? "db" : "~ "} ${points[i].time}`;
                    const version = rel.version === undefined ? "" : `#${rel.version}`;
                    io.out(
                        `${now} ${version.padEnd(5)} ${rel.time}  ${imageColumn(rel.services)}  restore point ${point}  ${rel.message}${rel.author ? ` (${rel.author})` : ""}\n`,
                    );
                });
                return EXIT.ok;
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
