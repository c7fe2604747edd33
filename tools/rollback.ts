/**
 * `npm run rollback -- --stack <name> [--service <name>] [--to <previous|n|tag|digest>] [--yes] [--force] [--json]`
 *
 * Re-deploys a prior release of a stack: reads the stack's release history through the
 * Automation API, picks the target set (default: the newest one that differs from what runs
 * now), checks every image still exists in the registry, previews and refuses anything
 * beyond the containers, then sets the images in Pulumi.<stack>.yaml and runs `up` with
 * progress. `--service` moves one service only, and only to a combination of images the
 * stack ran together before. Exit codes: 0 succeeded, 1 failed, 2 could not start, 3 refused.
 */
import { Automation, EXIT, currentRelease, fullHistory, localAutomation, requireKnownStack } from "./lib/automation";
import { Io, runCli, runTool, workDirOf } from "./lib/cli";
import { deployRelease, logOutcome } from "./lib/deploy";
import {
    deployedTogether,
    describeSet,
    pickTarget,
    ReleaseSet,
    releasesFromHistory,
    setOfRecord,
    TargetError,
} from "./lib/releases";

const HELP = `Usage: npm run rollback -- --stack <name> [--service <name>] [--to <target>] [--reason <line>] [--yes] [--force] [--json]

Re-deploys a prior release (the images the stack's services ran before) and nothing else.
  --stack <name>      the stack to roll back
  --to <target>       previous (default): the newest release that differs from what runs now;
                      a number: that update's version (npm run releases shows it);
                      a tag or sha256 digest from the release history
  --service <name>    move this service only; the others keep what runs now. Refused when the
                      resulting combination never ran together (frontend and backend versions
                      must stay compatible), unless --force
  --yes               deploy without asking (required when not interactive)
  --force             deploy even if the preview changes more than the containers, or the
                      services' combination never ran together
  --reason <line>     why (e.g. the post-deploy check's verdict); printed and kept in --json
  --json              print the result as JSON on stdout (progress goes to stderr)
  --work-dir <dir>    the project directory (default: this repository)
  --registry-url <u>  registry API base URL (default: https://<registry host>)

Exit codes: 0 succeeded, 1 failed, 2 could not start (see the message), 3 refused.`;

export function main(argv: string[], io: Io, automation: Automation = localAutomation): Promise<number> {
    return runTool(
        {
            name: "rollback",
            help: HELP,
            values: ["--stack", "--service", "--to", "--work-dir", "--registry-url", "--reason"],
            flags: ["--yes", "--force", "--json"],
            userErrors: [TargetError],
            run: async (args, r) => {
                const log = r.log;
                const workDir = workDirOf(args.values);
                const stackName = (r.stack = requireKnownStack(args.values.stack, workDir));
                const service = args.values.service;
                const force = args.flags.has("force");

                const stack = await automation.selectStack(stackName, workDir);
                const releases = releasesFromHistory(await fullHistory(stack));
                const current = setOfRecord(await currentRelease(stack));
                const target = pickTarget(releases, current, args.values.to ?? "previous", service);
                // One service moves; the others keep what runs now.
                const change: ReleaseSet = service ? { [service]: target.services[service] } : target.services;
                const result: ReleaseSet = { ...current, ...change };
                const kept = Object.keys(current).filter((n) => !(n in change));
                if (!service && kept.length > 0)
                    log(
                        `note: ${kept.join(", ")} did not run in that release; ${kept.length === 1 ? "it keeps" : "they keep"} what runs now`,
                    );
                const reason = args.values.reason?.replace(/[\r\n]+/g, " ");
                if (reason) log(`rolling back because: ${reason}`);
                log(
                    `${stackName}: rolling back ${service ? `${service} ` : ""}from ${Object.keys(current).length ? describeSet(service ? { [service]: current[service] } : current, true) : "?"} to ${describeSet(change, true)}, released ${target.time}`,
                );

                if (service && !deployedTogether(releases, result)) {
                    const why = `${describeSet(result)} never ran together in ${stackName}'s history: frontend and backend versions must stay compatible`;
                    if (!force) {
                        log(
                            `refused: ${why}; roll back the whole release (without --service), or re-run with --force to deploy this combination anyway`,
                        );
                        return r.done(
                            {
                                result: "refused",
                                because: reason,
                                from: current,
                                to: result,
                                reason: `${why}; re-run with --force to deploy it anyway`,
                            },
                            EXIT.refused,
                        );
                    }
                    log(`note: ${why} (deploying anyway: --force)`);
                }

                const res = await deployRelease(stack, {
                    stackName,
                    set: change,
                    yes: args.flags.has("yes"),
                    force,
                    registryUrl: args.values["registry-url"],
                    log,
                });
                logOutcome(res, log);
                return r.done(
                    {
                        result: res.result,
                        because: reason,
                        from: current,
                        to: { ...current, ...res.set },
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
