/**
 * `npm run cost-diff -- (--base <git ref> | --base-dir <dir>) [--stack <name>]... [--full] [--json]`
 *
 * Each stack's estimated monthly cost with the base branch's stack config and with this
 * checkout's, per resource, as Markdown for the pull request (or JSON). Both sides run this
 * checkout's program offline under mocks (no credentials), so the figure isolates what the
 * config change costs; prices come from the offline plan's dated tables.
 * Exit codes: 0 ok, 2 usage error or a config the program refuses (see the message).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { costReport } from "./lib/cost";
import { CostDiff, costDiffMarkdown, diffCosts } from "./lib/costdiff";
import { Io, runCli, runTool } from "./lib/cli";
import { recordStack } from "./lib/mockrun";
import { committedStacks, parseStackFile, readStackConfig, ROOT } from "./lib/stacks";

const HELP = `Usage: npm run cost-diff -- (--base <git ref> | --base-dir <dir>) [--stack <name>]... [--full] [--json]

Estimated monthly cost of each stack (default: every committed stack) before and after this
change: the base's Pulumi.<stack>.yaml (from git, or from a directory) against this checkout's,
with the delta per resource, as Markdown for a pull request comment.
  --base <ref>       a git ref holding the base config, e.g. origin/main
  --base-dir <dir>   a directory holding the base Pulumi.<stack>.yaml files instead
  --stack <name>     a stack to compare (repeatable)
  --full             list unchanged resources too
  --json             the comparison as JSON

Exit codes: 0 ok, 2 usage or config error.`;

class UsageError extends Error {}

/** The base side's stack file, or undefined when the stack is new in this change. */
function baseYaml(stack: string, ref?: string, dir?: string): string | undefined {
    if (dir) {
        const f = path.join(dir, `Pulumi.${stack}.yaml`);
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
    }
    try {
        return execFileSync("git", ["-C", ROOT, "show", `${ref}:Pulumi.${stack}.yaml`], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    } catch (e) {
        const msg = String((e as { stderr?: string }).stderr ?? "");
        if (/does not exist|exists on disk, but not in/.test(msg)) return undefined;
        throw new UsageError(
            `git cannot read Pulumi.${stack}.yaml at ${ref}: ${msg.trim().split("\n")[0] || "unknown ref"} (fetch the base branch first, e.g. git fetch origin main)`,
        );
    }
}

/** Overrides that turn the committed config into the base's (read as the CLI reads a stack file): every base value, minus keys the base lacks. */
export function baseOverrides(
    text: string,
    head: Record<string, string>,
): { overrides: Record<string, string>; unset: string[]; secretKeys: string[] } {
    const { values: overrides, secretKeys } = parseStackFile(text);
    return { overrides, unset: Object.keys(head).filter((k) => !(k in overrides)), secretKeys };
}

export function main(argv: string[], io: Io): Promise<number> {
    // --stack repeats; parseFlags keeps one value per option, so the stacks are taken out
    // first (one left behind has no value, and parseFlags says so).
    const stacks: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--stack" && argv[i + 1] && !argv[i + 1].startsWith("--")) stacks.push(argv[++i]);
        else rest.push(argv[i]);
    }
    return runTool(
        {
            name: "cost-diff",
            help: HELP,
            values: ["--base", "--base-dir", "--stack"],
            flags: ["--full", "--json"],
            userErrors: [UsageError],
            run: async (args) => {
                const { base, "base-dir": baseDir } = args.values;
                if (!!base === !!baseDir)
                    throw new UsageError("give exactly one of --base <git ref> and --base-dir <dir>");
                const known = committedStacks();
                const unknown = stacks.find((s) => !known.includes(s));
                if (unknown)
                    throw new UsageError(`unknown stack ${JSON.stringify(unknown)} (stacks: ${known.join(", ")})`);

                const diffs: CostDiff[] = [];
                for (const stack of stacks.length ? stacks : known) {
                    const after = costReport((await recordStack(stack)).resources);
                    const text = baseYaml(stack, base, baseDir);
                    let before;
                    if (text !== undefined) {
                        let b;
                        try {
                            b = baseOverrides(text, readStackConfig(stack).values);
                        } catch (e) {
                            throw new UsageError(`the base's Pulumi.${stack}.yaml: ${(e as Error).message}`);
                        }
                        try {
                            before = costReport((await recordStack(stack, b)).resources);
                        } catch (e) {
                            throw new UsageError(
                                `${stack}: the base config does not run with this change's program: ${(e as Error).message.split("\n")[0]}`,
                            );
                        }
                    }
                    diffs.push(diffCosts(stack, before, after));
                }
                if (args.flags.has("json"))
                    io.out(`${JSON.stringify({ base: base ?? baseDir, stacks: diffs }, null, 2)}\n`);
                else io.out(costDiffMarkdown(diffs, { base: base ?? "base", full: args.flags.has("full") }));
                return 0;
            },
        },
        rest,
        io,
    );
}

if (require.main === module) runCli(main);
