/**
 * `npm run promote -- --from staging --to prod [--service <name>] [--digest <sha256:...> --tag <tag>] [--yes] [--force] [--json]`
 *
 * Sets the target stack to exactly the release the source stack runs: every service's image
 * digest from its release record (or one service's, with --service), with the same registry
 * check and preview guard as a rollback.
 */
import { Automation, currentRelease, localAutomation, requireKnownStack, ToolError } from "./lib/automation";
import { Io, runCli, runTool, workDirOf } from "./lib/cli";
import { deployRelease, logOutcome, stackImages } from "./lib/deploy";
import { describeSet, ReleaseSet, setOfRecord } from "./lib/releases";
import { isDigest } from "../infra/config/validate";

const HELP = `Usage: npm run promote -- --from <stack> --to <stack> [--service <name>] [--digest <sha256:...> --tag <tag>] [--yes] [--force] [--json]

Deploys to --to exactly the release --from runs: each service's image digest, read from its
release record. The --to stack's services that --from does not run keep what they run.
  --service <name>    promote this service only; the others keep what runs in --to
  --digest, --tag     promote this image instead of --from's: one service, --service or
                      the stack's only one
  --yes, --force, --json, --work-dir, --registry-url: as for rollback

Exit codes: 0 succeeded, 1 failed, 2 could not start (see the message), 3 refused.`;

export function main(argv: string[], io: Io, automation: Automation = localAutomation): Promise<number> {
    return runTool(
        {
            name: "promote",
            help: HELP,
            values: ["--from", "--to", "--service", "--digest", "--tag", "--work-dir", "--registry-url"],
            flags: ["--yes", "--force", "--json"],
            run: async (args, r) => {
                const log = r.log;
                const workDir = workDirOf(args.values);
                const from = requireKnownStack(args.values.from, workDir, "--from");
                const to = (r.stack = requireKnownStack(args.values.to, workDir, "--to"));
                const { service, digest, tag } = args.values;
                if (from === to) throw new ToolError("--from and --to name the same stack");
                if (digest && !isDigest(digest)) throw new ToolError(`--digest ${digest} is not a sha256 digest`);
                if (!!digest !== !!tag)
                    throw new ToolError("--digest and --tag go together (the tag is kept as the release's name)");

                const stack = await automation.selectStack(to, workDir);
                let set: ReleaseSet;
                if (digest) {
                    const names = Object.keys(stackImages(await stack.getAllConfig()).services);
                    if (!service && names.length !== 1)
                        throw new ToolError(
                            `--digest and --tag name one service's image, and ${to} runs ${names.join(", ")}: add --service <name>`,
                        );
                    set = { [service ?? names[0]]: { tag: tag!, digest } };
                } else {
                    set = setOfRecord(await currentRelease(await automation.selectStack(from, workDir)));
                    const names = Object.keys(set);
                    if (names.length === 0)
                        throw new ToolError(`${from} exports no release record yet: deploy it first`);
                    const undigested = names.filter((n) => !set[n].digest);
                    if (undigested.length > 0)
                        throw new ToolError(
                            `${from}'s release record has no digest for ${undigested.join(", ")}: re-deploy ${from} (npm run pin runs before every up) first`,
                        );
                    if (service) {
                        if (!set[service])
                            throw new ToolError(
                                `${from}'s release has no service ${service} (it runs ${names.join(", ")})`,
                            );
                        set = { [service]: set[service] };
                    }
                }
                const current = setOfRecord(await currentRelease(stack));
                log(
                    `promoting ${describeSet(set, true)} from ${from} to ${to} (now ${Object.keys(current).length ? describeSet(current) : "?"})`,
                );
                const res = await deployRelease(stack, {
                    stackName: to,
                    set,
                    yes: args.flags.has("yes"),
                    force: args.flags.has("force"),
                    registryUrl: args.values["registry-url"],
                    log,
                });
                logOutcome(res, log);
                return r.done(
                    {
                        result: res.result,
                        from,
                        source: set,
                        previous: current,
                        changes: res.changes,
                        release: res.release,
                        reason: res.reason,
                    },
                    res.code,
                );
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
