/**
 * `npm run rollback -- --stack <name> [--to <tag|digest|previous>] [--yes] [--force] [--json]`
 *
 * Re-deploys a prior release of a stack: reads the stack's release history through the
 * Automation API, picks the target (default: the release before the current one), checks
 * its image still exists in the registry, previews and refuses anything beyond the
 * containers, then sets the stack's image tag and digest in Pulumi.<stack>.yaml and runs
 * `up` with progress. Exit codes: 0 succeeded, 1 failed, 2 could not start, 3 refused.
 */
import { EXIT, currentRelease, explain, fullHistory, openStack, requireKnownStack, ToolError } from "./lib/automation";
import { Io, parseFlags, Reporter, runCli, workDirOf } from "./lib/cli";
import { deployRelease, logOutcome } from "./lib/deploy";
import { pickTarget, releasesFromHistory, TargetError } from "./lib/releases";

const HELP = `Usage: npm run rollback -- --stack <name> [--to <tag|digest|previous>] [--reason <line>] [--yes] [--force] [--json]

Re-deploys a prior release (an image the stack ran before) and nothing else.
  --stack <name>      the stack to roll back
  --to <target>       a tag or sha256 digest from the release history, or previous (default)
  --yes               deploy without asking (required when not interactive)
  --force             deploy even if the preview changes more than the containers
  --reason <line>     why (e.g. the post-deploy check's verdict); printed and kept in --json
  --json              print the result as JSON on stdout (progress goes to stderr)
  --work-dir <dir>    the project directory (default: this repository)
  --registry-url <u>  registry API base URL (default: https://<registry host>)

Exit codes: 0 succeeded, 1 failed, 2 could not start (see the message), 3 refused.`;

export async function main(argv: string[], io: Io): Promise<number> {
    const r = new Reporter(io, "rollback");
    try {
        const args = parseFlags(argv, ["--stack", "--to", "--work-dir", "--registry-url", "--reason"], ["--yes", "--force", "--json"]);
        if (args.help) { io.out(`${HELP}\n`); return EXIT.ok; }
        r.json = args.flags.has("json");
        const log = r.log;
        const workDir = workDirOf(args.values);
        const stackName = r.stack = requireKnownStack(args.values.stack, workDir);

        const stack = await openStack(stackName, workDir);
        const releases = releasesFromHistory(await fullHistory(stack));
        const current = await currentRelease(stack);
        const target = pickTarget(releases, current, args.values.to ?? "previous");
        const reason = args.values.reason?.replace(/[\r\n]+/g, " ");
        if (reason) log(`rolling back because: ${reason}`);
        log(`${stackName}: rolling back from ${current.tag ?? "?"} (${current.digest ?? "?"}) to ${target.tag}${target.digest ? ` (${target.digest})` : ""}, released ${target.time}`);

        const res = await deployRelease(stack, {
            stackName, target, yes: args.flags.has("yes"), force: args.flags.has("force"), registryUrl: args.values["registry-url"], log,
        });
        logOutcome(res, log);
        return r.done({ result: res.result, because: reason, from: current, to: { tag: target.tag, digest: res.digest }, changes: res.changes, release: res.release, reason: res.reason }, res.code);
    } catch (e) {
        return r.error(e instanceof TargetError || e instanceof ToolError ? e.message : explain(e, r.stack));
    }
}

if (require.main === module) runCli(main);
