/**
 * `npm run notify -- --action <deploy|rollback|promote|restore> --stack <name> --result <status> --services "api=1.5.0@sha256:... web=2.4.1@sha256:..." [--from-services "..."] [...]`
 *
 * Prints the Slack payload (or a plain line) for a deploy-style run, from facts the workflow
 * has: the release record after the run and before it, the run's approvals JSON, who started
 * it, when it started, its link, and a rollback's reason. Formatting lives in lib/notify.ts.
 * Exit codes: 0 printed, 2 usage error.
 */
import * as fs from "fs";
import { ToolError } from "./lib/errors";
import { Io, runCli, runTool } from "./lib/cli";
import { approversFrom, Notice, parseReleaseSet, plainNotice, slackNotice } from "./lib/notify";

const HELP = `Usage: npm run notify -- --action <deploy|rollback|promote|restore> --stack <name> --result <success|failure|cancelled>
         --services "<svc>=<tag>[@sha256:...] ..." [--from-services "..."]
         [--approvals <file>] [--actor <login>] [--started-at <unix seconds>] [--run-url <url>] [--reason <text>] [--format slack|text]

Prints a notification naming the release (each service's tag and short digest: --services,
the release set the deploy read), what it replaced, who approved (from the run's approvals
JSON: gh api repos/OWNER/REPO/actions/runs/ID/approvals), who started it, how long it took
and the run's link; a rollback says why.

Exit codes: 0 printed, 2 usage error.`;

const ACTIONS = ["deploy", "rollback", "promote", "restore"];

export function main(argv: string[], io: Io, now: () => number = () => Date.now()): Promise<number> {
    return runTool(
        {
            name: "notify",
            help: HELP,
            flags: [],
            values: [
                "--action",
                "--stack",
                "--result",
                "--services",
                "--from-services",
                "--approvals",
                "--actor",
                "--started-at",
                "--run-url",
                "--reason",
                "--format",
            ],
            run: async (a) => {
                const v = a.values;
                if (!v.action || !ACTIONS.includes(v.action))
                    throw new ToolError(`--action must be one of ${ACTIONS.join(", ")}`);
                if (!v.stack || !v.result) throw new ToolError("--stack and --result are required");
                const format = v.format ?? "slack";
                if (!["slack", "text"].includes(format))
                    throw new ToolError(`--format ${format} is not one of slack, text`);
                let approvedBy: string[] | undefined;
                if (v.approvals) {
                    try {
                        approvedBy = approversFrom(JSON.parse(fs.readFileSync(v.approvals, "utf8")), v.stack);
                    } catch {
                        approvedBy = undefined;
                    }
                }
                const set = (flag: string, text: string) => {
                    try {
                        return parseReleaseSet(text);
                    } catch (e) {
                        throw new ToolError(`--${flag}: ${(e as Error).message}`);
                    }
                };
                // Empty when the release could not be read (a failed run): the line says so.
                if (v.services === undefined)
                    throw new ToolError(
                        '--services is required: the release set, e.g. --services "api=1.5.0 web=2.4.1" ("" when unknown)',
                    );
                const to = set("services", v.services);
                const fromSet = v["from-services"] ? set("from-services", v["from-services"]) : undefined;
                const started = v["started-at"] ? Number(v["started-at"]) : NaN;
                const n: Notice = {
                    action: v.action as Notice["action"],
                    stack: v.stack,
                    result: v.result,
                    to,
                    from: fromSet?.length ? fromSet : undefined,
                    approvedBy,
                    actor: v.actor || undefined,
                    durationSeconds: Number.isFinite(started) ? now() / 1000 - started : undefined,
                    runUrl: v["run-url"] || undefined,
                    reason: v.reason || undefined,
                };
                io.out(format === "slack" ? `${JSON.stringify(slackNotice(n))}\n` : `${plainNotice(n)}\n`);
                return 0;
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
