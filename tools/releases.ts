/**
 * `npm run releases -- --stack <name> [--json]`: the stack's releases, newest first, with
 * the one running now marked.
 */
import { EXIT, currentRelease, explain, fullHistory, openStack, requireKnownStack, ToolError } from "./lib/automation";
import { Io, parseFlags, runCli, workDirOf } from "./lib/cli";
import { releasesFromHistory } from "./lib/releases";

const HELP = `Usage: npm run releases -- --stack <name> [--json] [--work-dir <dir>]

Lists the releases (image tag, digest, time, message and author) the stack's successful
updates deployed, newest first; * marks the one running now.`;

export async function main(argv: string[], io: Io): Promise<number> {
    let stackName = "";
    try {
        const args = parseFlags(argv, ["--stack", "--work-dir"], ["--json"]);
        if (args.help) { io.out(`${HELP}\n`); return EXIT.ok; }
        const workDir = workDirOf(args.values);
        stackName = requireKnownStack(args.values.stack, workDir);
        const stack = await openStack(stackName, workDir);
        const releases = releasesFromHistory(await fullHistory(stack));
        const current = await currentRelease(stack);
        if (args.flags.has("json")) {
            io.out(`${JSON.stringify({ stack: stackName, current, releases }, null, 2)}\n`);
            return EXIT.ok;
        }
        if (releases.length === 0) io.out(`${stackName}: no releases yet\n`);
        for (const r of releases) {
            const now = r.tag === current.tag && (!r.digest || r.digest === current.digest) ? "*" : " ";
            io.out(`${now} ${r.time}  ${r.tag.padEnd(14)} ${(r.digest ?? "(digest resolved at deploy time)").slice(0, 19).padEnd(19)}  ${r.message}${r.author ? ` (${r.author})` : ""}\n`);
        }
        return EXIT.ok;
    } catch (e) {
        io.err(`error: ${e instanceof ToolError ? e.message : explain(e, stackName)}\n`);
        return EXIT.error;
    }
}

if (require.main === module) runCli(main);
