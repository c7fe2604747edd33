/**
 * `npm run releases -- --stack <name> [--json]`: the stack's releases, newest first, with
 * the one running now marked and each release's restore point.
 * `npm run releases -- --dora [--stack <name>] [--since 90d] [--json]`: DORA metrics per
 * stack from the same history, with commit times from git.
 */
import { execFileSync } from "child_process";
import { EXIT, currentRelease, explain, fullHistory, openStack, requireKnownStack, ToolError } from "./lib/automation";
import { Io, parseFlags, runCli, workDirOf } from "./lib/cli";
import { doraMetrics, DoraReport, parseSince, renderDora } from "./lib/dora";
import { ReleaseRecord, releasesFromHistory, restorePointOf } from "./lib/releases";
import { committedStacksIn } from "./lib/stacks";

const HELP = `Usage: npm run releases -- --stack <name> [--json] [--work-dir <dir>]
       npm run releases -- --dora [--stack <name>] [--since 90d] [--json] [--work-dir <dir>]

Lists the releases (image tag, digest, time, message and author) the stack's successful
updates deployed, newest first; * marks the one running now. Each release shows its restore
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
                const out = execFileSync("git", ["-C", dir, "show", "-s", "--format=%cI", `${sha}^{commit}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
                cache.set(sha, out ? new Date(out) : undefined);
            } catch {
                cache.set(sha, undefined);
            }
        }
        return cache.get(sha);
    };
}

async function dora(stacks: string[], workDir: string, since: string, json: boolean, io: Io): Promise<number> {
    const until = new Date();
    const from = new Date(until.getTime() - parseSince(since));
    const commitTime = gitCommitTime(workDir);
    const reports: DoraReport[] = [];
    for (const name of stacks) {
        const stack = await openStack(name, workDir);
        reports.push(doraMetrics(await fullHistory(stack), { stack: name, since: from, until, commitTime }));
    }
    if (json) io.out(`${JSON.stringify({ since: from.toISOString(), until: until.toISOString(), stacks: reports }, null, 2)}\n`);
    else io.out(`${reports.map(renderDora).join("\n\n")}\n`);
    return EXIT.ok;
}

export async function main(argv: string[], io: Io): Promise<number> {
    let stackName = "";
    try {
        const args = parseFlags(argv, ["--stack", "--work-dir", "--since"], ["--json", "--dora"]);
        if (args.help) { io.out(`${HELP}\n`); return EXIT.ok; }
        const workDir = workDirOf(args.values);
        const json = args.flags.has("json");
        if (args.flags.has("dora")) {
            const since = args.values.since ?? "90d";
            try { parseSince(since); } catch (e) { throw new ToolError((e as Error).message); }
            const stacks = args.values.stack ? [stackName = requireKnownStack(args.values.stack, workDir)] : committedStacksIn(workDir);
            return await dora(stacks, workDir, since, json, io);
        }
        if (args.values.since) throw new ToolError("--since applies to --dora only");
        stackName = requireKnownStack(args.values.stack, workDir);
        const stack = await openStack(stackName, workDir);
        const releases = releasesFromHistory(await fullHistory(stack));
        const current: ReleaseRecord = await currentRelease(stack);
        // The record describes the newest update only; older releases fall back to their start.
        const points = releases.map((r, i) => restorePointOf(r, i === 0 ? current : undefined));
        if (json) {
            io.out(`${JSON.stringify({ stack: stackName, current, releases: releases.map((r, i) => ({ ...r, restorePoint: points[i] })) }, null, 2)}\n`);
            return EXIT.ok;
        }
        if (releases.length === 0) io.out(`${stackName}: no releases yet\n`);
        releases.forEach((r, i) => {
            const now = r.tag === current.tag && (!r.digest || r.digest === current.digest) ? "*" : " ";
            const point = `${points[i].source === "database-clock" ? "db" : "~ "} ${points[i].time}`;
            io.out(`${now} ${r.time}  ${r.tag.padEnd(14)} ${(r.digest ?? "(digest resolved at deploy time)").slice(0, 19).padEnd(19)}  restore point ${point}  ${r.message}${r.author ? ` (${r.author})` : ""}\n`);
        });
        return EXIT.ok;
    } catch (e) {
        io.err(`error: ${e instanceof ToolError ? e.message : explain(e, stackName)}\n`);
        return EXIT.error;
    }
}

if (require.main === module) runCli(main);
