/**
 * `npm run drift -- --preview preview.json --stack <name> [--format text|markdown|slack|json] [--run-url <url>]`
 *
 * Turns the JSON of `pulumi preview --refresh --expect-no-changes --json` into a drift
 * report: what changed outside Pulumi, per resource and property, declared vs live. The
 * nightly drift workflow writes the Markdown to the run summary and posts the Slack payload.
 * Exit codes: 0 no drift, 1 drift found, 2 the preview could not be read (see the message).
 */
import * as fs from "fs";
import { EXIT, ToolError } from "./lib/errors";
import { Io, runCli, runTool } from "./lib/cli";
import { DriftStep, driftFromPreview, driftMarkdown, driftSlack } from "./lib/drift";

const HELP = `Usage: npm run drift -- --preview <preview.json> --stack <name> [--format text|markdown|slack|json] [--run-url <url>]

Reports drift from a refreshing preview's JSON (pulumi preview --refresh --expect-no-changes --json):
each resource and property changed outside Pulumi, with the declared value (old) and the
live one (new).
  --format text      one line per property (default)
  --format markdown  a table for the GitHub run summary
  --format slack     a Slack incoming-webhook payload ({"text": ...}); printed even when the
                     preview cannot be read (saying so), with exit 2
  --format json      the items, for machines

Exit codes: 0 no drift, 1 drift found, 2 the preview could not be read.`;

const FORMATS = ["text", "markdown", "slack", "json"];

/** The preview JSON, or a one-line reason it is not one. */
export function readPreview(file: string): {
    steps?: DriftStep[];
    diagnostics?: { severity?: string; message?: string }[];
} {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new ToolError(
            `cannot read ${file}: run pulumi preview --refresh --expect-no-changes --json > ${file} first`,
        );
    }
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        throw new ToolError(
            `${file} is not JSON: the preview failed before it produced its report (see the preview step's log)`,
        );
    }
    if (!json || typeof json !== "object" || Array.isArray(json))
        throw new ToolError(`${file} is not a preview report (expected an object with steps)`);
    const preview = json as { steps?: DriftStep[]; diagnostics?: { severity?: string; message?: string }[] };
    const error = (preview.diagnostics ?? []).find((d) => d.severity === "error");
    if (!preview.steps && error)
        throw new ToolError(
            `the preview failed: ${
                String(error.message ?? "")
                    .trim()
                    .split("\n")[0]
            }`,
        );
    return preview;
}

export function main(argv: string[], io: Io): Promise<number> {
    return runTool(
        {
            name: "drift",
            help: HELP,
            values: ["--preview", "--stack", "--format", "--run-url"],
            flags: [],
            run: async (args) => {
                const file = args.values.preview;
                const stack = args.values.stack;
                if (!file || !stack) throw new ToolError("--preview <file> and --stack <name> are required");
                const format = args.values.format ?? "text";
                if (!FORMATS.includes(format))
                    throw new ToolError(`--format ${format} is not one of ${FORMATS.join(", ")}`);
                const runUrl = args.values["run-url"] || undefined;
                let preview: ReturnType<typeof readPreview>;
                try {
                    preview = readPreview(file);
                } catch (e) {
                    // The Slack message still goes out, saying the check failed before it could report.
                    if (format === "slack") {
                        const text = `Drift check ${stack} failed before it could report${runUrl ? `: ${runUrl}` : ""}`;
                        io.out(`${JSON.stringify({ text })}\n`);
                    }
                    throw e;
                }
                const items = driftFromPreview(preview);
                if (format === "markdown") io.out(driftMarkdown(stack, items, runUrl));
                else if (format === "slack") io.out(`${JSON.stringify(driftSlack(stack, items, runUrl))}\n`);
                else if (format === "json")
                    io.out(`${JSON.stringify({ stack, drift: items.length > 0, items }, null, 2)}\n`);
                else if (items.length === 0) io.out(`${stack}: no drift\n`);
                else
                    for (const i of items)
                        io.out(
                            `${stack}: ${i.resource} ${i.property}: declared ${i.declared}, live ${i.live} (${i.op})\n`,
                        );
                return items.length > 0 ? EXIT.failed : EXIT.ok;
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
