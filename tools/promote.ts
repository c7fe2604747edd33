/**
 * `npm run promote -- --from staging --to prod [--digest <sha256:...> --tag <tag>] [--yes] [--force] [--json]`
 *
 * Sets the target stack to exactly the image digest the source stack runs (from its release
 * record), with the same registry check and preview guard as a rollback.
 */
import { EXIT, currentRelease, explain, openStack, requireKnownStack, ToolError } from "./lib/automation";
import { Io, parseFlags, Reporter, runCli, workDirOf } from "./lib/cli";
import { deployRelease, logOutcome } from "./lib/deploy";
import { isDigest } from "../infra/config/validate";

const HELP = `Usage: npm run promote -- --from <stack> --to <stack> [--digest <sha256:...> --tag <tag>] [--yes] [--force] [--json]

Deploys to --to exactly the image digest --from runs (read from its release record), or the
--digest/--tag given (the merge workflow passes the digest staging just ran).
  --yes, --force, --json, --work-dir, --registry-url: as for rollback

Exit codes: 0 succeeded, 1 failed, 2 could not start (see the message), 3 refused.`;

export async function main(argv: string[], io: Io): Promise<number> {
    const r = new Reporter(io, "promote");
    try {
        const args = parseFlags(argv, ["--from", "--to", "--digest", "--tag", "--work-dir", "--registry-url"], ["--yes", "--force", "--json"]);
        if (args.help) { io.out(`${HELP}\n`); return EXIT.ok; }
        r.json = args.flags.has("json");
        const log = r.log;
        const workDir = workDirOf(args.values);
        const from = requireKnownStack(args.values.from, workDir, "--from");
        const to = r.stack = requireKnownStack(args.values.to, workDir, "--to");
        if (from === to) throw new ToolError("--from and --to name the same stack");
        if (args.values.digest && !isDigest(args.values.digest)) throw new ToolError(`--digest ${args.values.digest} is not a sha256 digest`);
        if (!!args.values.digest !== !!args.values.tag) throw new ToolError("--digest and --tag go together (the tag is kept as the release's name)");

        let source = args.values.digest ? { tag: args.values.tag, digest: args.values.digest } : undefined;
        if (!source) {
            const rec = await currentRelease(await openStack(from, workDir));
            if (!rec.tag || !rec.digest) throw new ToolError(`${from} exports no release record yet: deploy it first`);
            source = { tag: rec.tag, digest: rec.digest };
        }
        const stack = await openStack(to, workDir);
        const current = await currentRelease(stack);
        log(`promoting ${source.tag} (${source.digest}) from ${from} to ${to} (now ${current.tag ?? "?"})`);
        const res = await deployRelease(stack, {
            stackName: to, target: { tag: source.tag!, digest: source.digest }, yes: args.flags.has("yes"), force: args.flags.has("force"),
            registryUrl: args.values["registry-url"], log,
        });
        logOutcome(res, log);
        return r.done({ result: res.result, from, source, previous: current, changes: res.changes, release: res.release, reason: res.reason }, res.code);
    } catch (e) {
        return r.error(e instanceof ToolError ? e.message : explain(e, r.stack));
    }
}

if (require.main === module) runCli(main);
