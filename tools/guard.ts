/**
 * `npm run guard -- --preview preview.json [--stack prod] [--allow] [--json]`
 *
 * Fails (exit 1) when a preview would replace or delete a server, the database, a
 * firewall, the load balancer, the VPC, a DNS record or another resource whose loss
 * breaks the stack (infra/lifecycle/semantics.ts), unless --allow is given (the workflows
 * pass it for a PR labelled `allow-replacement` or a dispatch with
 * `allow-replacement: true`). Resizes and safe replacements are reported, not refused.
 * Exit 2 on a preview it cannot judge: unreadable, empty or failed.
 */
import * as fs from "fs";
import { describe, findDestructiveChanges, parsePreview, previewErrors, UnreadablePreview } from "./lib/guard";

const HELP = `Usage: npm run guard -- --preview <preview.json> [--stack <name>] [--allow] [--json]

Reads the output of \`pulumi preview --json\` and fails when it would replace or delete a
server, the database, a firewall, the load balancer, the VPC, a DNS record, a volume or
another resource whose loss breaks the stack. Resizes (one server at a time) and
replacements that are safe by design are listed but not refused.
  --allow   report, but exit 0 (the change was approved on purpose)
  --json    print the findings as JSON
Exit codes: 0 nothing refused, 1 refused, 2 the preview cannot be judged (empty, not JSON, failed).`;

export function main(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): number {
    if (argv.includes("-h") || argv.includes("--help")) {
        write(`${HELP}\n`);
        return 0;
    }
    const json = argv.includes("--json");
    const at = argv.indexOf("--preview");
    const file = at >= 0 ? argv[at + 1] : undefined;
    const stack = argv.includes("--stack") ? argv[argv.indexOf("--stack") + 1] : "the stack";
    const allowed = argv.includes("--allow");
    const error = (message: string): number => {
        write(json ? `${JSON.stringify({ ok: false, error: message })}\n` : `error: ${message}\n`);
        return 2;
    };
    if (!file) return error(`--preview <file> is required (see --help)`);
    let findings;
    let errors: string[];
    try {
        const preview = parsePreview(fs.readFileSync(file, "utf8"));
        findings = findDestructiveChanges(preview);
        errors = previewErrors(preview);
    } catch (e) {
        if (e instanceof UnreadablePreview)
            return error(`${file}: ${e.message}. The guard refuses what it cannot judge.`);
        return error(`cannot read ${file}: ${(e as Error).message}`);
    }
    const blocking = findings.filter((f) => f.blocking);
    const refused = blocking.length > 0 && !allowed;
    // A preview that failed is never a pass, allowed or not: the update would fail too.
    const code = refused ? 1 : errors.length > 0 ? 2 : 0;
    if (json) {
        write(`${JSON.stringify({ ok: code === 0, stack, allowed, findings, previewErrors: errors })}\n`);
        return code;
    }
    for (const e of errors) write(`error: the preview failed: ${e}\n`);
    if (findings.length === 0) {
        if (code === 0)
            write(`replacement guard: ${stack} keeps every server, database, firewall, network and DNS record\n`);
        return code;
    }
    const notices = findings.filter((f) => !f.blocking);
    if (notices.length > 0) {
        write(`replacement guard: in ${stack} this change:\n`);
        for (const f of notices) write(`  - ${describe(f)}\n    ${f.urn}\n`);
    }
    if (blocking.length > 0) {
        write(`replacement guard: this change ${allowed ? "(explicitly allowed) " : ""}would, in ${stack}:\n`);
        for (const f of blocking) write(`  - ${describe(f)}\n    ${f.urn}\n`);
        if (!allowed)
            write(
                "Refusing. If this is intended, label the PR `allow-replacement` (or run the workflow with allow-replacement: true) and see docs/operations.md.\n",
            );
    }
    return code;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
