/**
 * `npm run guard -- --preview preview.json [--stack prod] [--allow]`
 *
 * Fails (exit 1) when a preview would replace or delete a server, the database cluster, a
 * database, the VPC or a DNS record, unless --allow is given (the workflows pass it for a
 * PR labelled `allow-replacement` or a dispatch with `allow-replacement: true`). Exit 2 on
 * unreadable input.
 */
import * as fs from "fs";
import { describe, findDestructiveChanges } from "./lib/guard";

const HELP = `Usage: npm run guard -- --preview <preview.json> [--stack <name>] [--allow]

Reads the output of \`pulumi preview --json\` and fails when it would replace or delete a
server, the database cluster, a database, the VPC or a DNS record.
  --allow   report, but exit 0 (the change was approved on purpose)`;

export function main(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): number {
    if (argv.includes("-h") || argv.includes("--help")) { write(`${HELP}\n`); return 0; }
    const at = argv.indexOf("--preview");
    const file = at >= 0 ? argv[at + 1] : undefined;
    const stack = argv.includes("--stack") ? argv[argv.indexOf("--stack") + 1] : "the stack";
    if (!file) { write(`error: --preview <file> is required\n${HELP}\n`); return 2; }
    let preview: unknown;
    try {
        preview = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        write(`error: cannot read ${file} as pulumi preview --json output: ${(e as Error).message}\n`);
        return 2;
    }
    const findings = findDestructiveChanges(preview as { steps?: [] });
    if (findings.length === 0) { write(`replacement guard: ${stack} keeps every server, database, VPC and DNS record\n`); return 0; }
    const allowed = argv.includes("--allow");
    write(`replacement guard: this change ${allowed ? "(explicitly allowed) " : ""}would, in ${stack}:\n`);
    for (const f of findings) write(`  - ${describe(f)}\n    ${f.urn}\n`);
    if (!allowed) write("Refusing. If this is intended, label the PR `allow-replacement` (or run the workflow with allow-replacement: true) and see docs/runbooks.md.\n");
    return allowed ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
