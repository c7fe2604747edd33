/**
 * `npm run post-deploy-check -- --stack <name> [--base-url <url>] [--window <s>] [--json]`
 *
 * After a deploy, requests what users request through the public edge: the health path and
 * the stack's smokeRequests must each answer their expected status, then the same requests
 * repeat for verifyWindowSeconds and the error rate must stay within maxErrorPercent. Prints
 * one line saying why it failed; the deploy workflow then rolls back with that line as the
 * reason. Exit codes: 0 passed, 1 failed (roll back), 2 could not start.
 */
import * as fs from "fs";
import { parseSettings } from "../infra/config";
import { EXIT, ToolError } from "./lib/errors";
import { Io, runCli, runTool, workDirOf } from "./lib/cli";
import { configSource, offlineSecrets, readStackConfig, UnknownStackError } from "./lib/stacks";
import { planRequests, publicRequests, verify } from "./lib/verify";

const HELP = `Usage: npm run post-deploy-check -- --stack <name> [--base-url <url>] [--window <seconds>] [--work-dir <dir>] [--json]

Checks a deployed stack through its public edge, as users see it.
  --stack <name>      the stack whose config (the edge's health check, each service's smokeRequests and
                      routes, verifyWindowSeconds, maxErrorPercent) to use: each service is
                      asked on a public host that routes to it
  --base-url <url>    send every request to this origin instead (a test edge)
  --window <seconds>  override verifyWindowSeconds
  --work-dir <dir>    the project directory (default: this repository)
  --json              print the verdict as JSON on stdout (progress goes to stderr)

With GITHUB_OUTPUT set, writes reason=<one line> there for the rollback step.
Exit codes: 0 passed, 1 failed (roll back), 2 could not start.`;

export function main(argv: string[], io: Io): Promise<number> {
    return runTool(
        {
            name: "post-deploy-check",
            help: HELP,
            values: ["--stack", "--base-url", "--window", "--work-dir"],
            flags: ["--json"],
            userErrors: [UnknownStackError],
            explain: (e) =>
                (e as Error).name === "ConfigError" || e instanceof ToolError
                    ? (e as Error).message
                    : `could not run the check: ${(e as Error).message.split("\n")[0]}`,
            run: async (args, r) => {
                if (!args.values.stack) throw new ToolError("--stack is required (see --help)");
                const stack = (r.stack = args.values.stack);
                const conf = readStackConfig(stack, workDirOf(args.values));
                // Only plain settings are read; secrets get the offline placeholders the plan uses.
                const offline = offlineSecrets(conf.values);
                const cfg = parseSettings(
                    configSource({ ...conf.values, ...offline }, [...conf.secretKeys, ...Object.keys(offline)]),
                    stack,
                );
                const window =
                    args.values.window === undefined ? cfg.app.verifyWindowSeconds : Number(args.values.window);
                if (!Number.isInteger(window) || window < 0 || window > 3600)
                    throw new ToolError(`--window ${args.values.window} is not valid; expected whole seconds, 0-3600`);
                const given = args.values["base-url"]?.replace(/\/+$/, "");
                if (given !== undefined && !/^https?:\/\/[^\s/]+$/.test(given))
                    throw new ToolError(
                        `--base-url ${given} is not valid; expected an origin such as https://api.example.com`,
                    );
                const baseUrl = given ?? cfg.urls.api;
                // With --base-url every request goes to that one origin (a test edge); otherwise each
                // service's requests go to a public host that routes to it.
                const requests =
                    given !== undefined
                        ? planRequests(
                              cfg.check.path,
                              cfg.services.flatMap((s) => s.smokeRequests),
                          )
                        : publicRequests(cfg);
                const verdict = await verify(
                    { baseUrl, requests, windowSeconds: window, maxErrorPercent: cfg.app.maxErrorPercent },
                    undefined,
                    r.log,
                );
                r.log(verdict.reason);
                if (process.env.GITHUB_OUTPUT)
                    fs.appendFileSync(process.env.GITHUB_OUTPUT, `reason=${verdict.reason.replace(/[\r\n]+/g, " ")}\n`);
                return r.done(
                    { result: verdict.ok ? "passed" : "failed", baseUrl, ...verdict },
                    verdict.ok ? EXIT.ok : EXIT.failed,
                );
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
