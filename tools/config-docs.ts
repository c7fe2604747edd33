/**
 * `npm run gen:config-docs [-- --check]`
 *
 * Writes docs/configuration.md from the schema (infra/config/schema.ts: every key, its type,
 * default, knob and description; the stack tiers) and from doctor's DigitalOcean token scope
 * list, so the reference cannot drift from the code. Run it after changing either; a test
 * fails when the committed file is stale. The key groups are the schema's own
 * `// --- <group>` comments, read from its source.
 *
 * Exit codes: 0 written (or, with --check, up to date), 1 --check found the file stale,
 * 2 usage error.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { DEPLOY_BRANCH, KEYS, KeyDef, PROJECT, STACK_TIERS } from "../infra/config/schema";
import { DO_TOKEN_SCOPES } from "./lib/digitalocean";

const ROOT = path.join(__dirname, "..");
export const CONFIG_DOCS = "docs/configuration.md";
const SCHEMA = "infra/config/schema.ts";

const HELP = `Usage: npm run gen:config-docs [-- --check]

Writes ${CONFIG_DOCS} from ${SCHEMA} and doctor's DigitalOcean token scopes.

  --check     write nothing; exit 1 when the committed file differs from what would be written
  -h, --help  this help

Exit codes: 0 written or up to date, 1 stale (--check), 2 usage error.`;

/** Each key's group, from the `// --- <group>` comment above it in the schema's source. */
export function groupsOf(source: string): Map<string, string> {
    const groups = new Map<string, string>();
    let group = "";
    for (const line of source.split("\n")) {
        const heading = /^\s*\/\/ --- (.+?)\s*$/.exec(line);
        if (heading) group = heading[1];
        // A key of KEYS: four spaces in, on its own line or with its definition (the formatter decides).
        const key = /^ {4}(\w+): \{/.exec(line);
        if (key && group) groups.set(key[1], group);
    }
    return groups;
}

/** The doc comment above `export type Knob`: what each knob lets staging and prod differ on. */
export function knobDoc(source: string): string {
    const m = /\/\*\*\n((?:(?!\*\/)[\s\S])*)\*\/\nexport type Knob\b/.exec(source);
    if (!m) throw new Error(`${SCHEMA}: no doc comment above \`export type Knob\``);
    return m[1]
        .split("\n")
        .map((l) => l.replace(/^\s*\* ?/, ""))
        .join("\n")
        .trim();
}

const code = (v: unknown) => {
    const s = typeof v === "string" ? v : JSON.stringify(v);
    return s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``;
};

function renderKey(key: string, d: KeyDef): string {
    const facts: string[] = [d.type];
    if (d.required) facts.push("required in every stack file");
    else if (d.default !== undefined) facts.push(`default ${code(d.default)}`);
    else facts.push("optional");
    if (d.secret) facts.push(`secret: \`pulumi config set --secret ${key} … --stack <stack>\``);
    if (d.knob) facts.push(`knob: ${d.knob}`);
    return `#### \`${key}\`\n\n${facts.join(" · ")}\n\n${d.description}\n`;
}

export function renderConfigDocs(source = fs.readFileSync(path.join(ROOT, SCHEMA), "utf8")): string {
    const groups = groupsOf(source);
    const byGroup = new Map<string, string[]>();
    for (const key of Object.keys(KEYS)) {
        const g = groups.get(key) ?? "other";
        byGroup.set(g, [...(byGroup.get(g) ?? []), key]);
    }
    const defs = KEYS as Record<string, KeyDef>;
    const tierRows = Object.entries(STACK_TIERS).map(
        ([stack, t]) =>
            `| ${stack} | ${[t.backups, t.standby, t.protectedData, t.approvals].map((b) => (b ? "yes" : "no")).join(" | ")} |`,
    );
    const out = [
        "# Configuration reference",
        "",
        `<!-- Generated from ${SCHEMA} and tools/lib/digitalocean.ts by \`npm run gen:config-docs\`. Edit those, not this file. -->`,
        "",
        `Every key is set per stack in \`Pulumi.<stack>.yaml\` under the \`${PROJECT}:\` namespace, with`,
        "`pulumi config set <key> <value> --stack <stack>` (nested values with `--path`). Values stay the",
        "strings written in the stack file; a key the program does not declare is refused with the",
        "closest one; a secret stored in plain text is refused with the command that stores it.",
        "`npm run init` writes the common ones; `npm run doctor -- --offline` lists what is missing.",
        "",
        "## Knobs: how staging and prod may differ",
        "",
        knobDoc(source),
        "",
        "## Stack tiers",
        "",
        "What each stack must have, checked by the config check and the policy pack:",
        "",
        "| stack | server backups | database standby | protected data | approvals |",
        "| --- | --- | --- | --- | --- |",
        ...tierRows,
        "",
        `Every stack's GitHub environment admits only the \`${DEPLOY_BRANCH}\` branch, the one its workflows deploy from.`,
        "",
        "## DigitalOcean token scopes",
        "",
        "A *Full Access* token works. A *Custom Scopes* token needs create, read, update and delete on",
        DO_TOKEN_SCOPES.crud.map((s) => `\`${s}\``).join(", ") + ", and",
        DO_TOKEN_SCOPES.single.map((s) => `\`${s}\``).join(", ") + ".",
        "Without `database:view_credentials` the database user's password reads back empty and",
        "`DATABASE_URL` gets none. The control panel adds the read scopes each one requires (such as",
        "`regions:read` and `sizes:read`). `npm run doctor` checks every read scope it can probe;",
        "the write scopes are proven by the first `pulumi up`.",
        "",
        "## Keys",
        "",
    ];
    for (const [group, keys] of byGroup) {
        out.push(`### ${group}`, "");
        for (const key of keys) out.push(renderKey(key, defs[key]));
    }
    return `${out
        .join("\n")
        .replace(/\n{3,}/g, "\n\n")
        .trimEnd()}\n`;
}

export function main(argv: string[]): number {
    let values: { check?: boolean; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: argv,
            options: { check: { type: "boolean" }, help: { type: "boolean", short: "h" } },
        }));
    } catch (e) {
        process.stderr.write(`error: ${(e as Error).message}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${HELP}\n`);
        return 0;
    }
    const file = path.join(ROOT, CONFIG_DOCS);
    const text = renderConfigDocs();
    if (values.check) {
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        if (current === text) return 0;
        process.stderr.write(`${CONFIG_DOCS} is stale: run npm run gen:config-docs and commit it\n`);
        return 1;
    }
    fs.writeFileSync(file, text);
    process.stdout.write(`wrote ${CONFIG_DOCS}\n`);
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
