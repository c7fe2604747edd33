/**
 * The docs match the code: every command they name exists with the flags its tool accepts,
 * every config key they set exists (secrets set as secrets), their shell parses, their links
 * resolve, the configuration reference is what the schema generates, and the README stays a
 * front door.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KEYS } from "../infra/config/schema";
import { CONFIG_DOCS, renderConfigDocs } from "../tools/config-docs";
import { record, shellcheck } from "./helpers";

const ROOT = path.join(__dirname, "..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const markdownIn = (dir: string): string[] =>
    fs
        .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
        .flatMap((e) =>
            e.isDirectory()
                ? markdownIn(path.join(dir, e.name))
                : e.name.endsWith(".md")
                  ? [path.join(dir, e.name)]
                  : [],
        );
const DOCS = ["README.md", ...markdownIn("docs")];
const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-");
}

function anchorsOf(markdown: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const m of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)) {
        const base = slug(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
}

/** A tool's help text: its `HELP` template, as `--help` prints it; "" when it has none. */
export function helpOf(source: string): string {
    return /\bconst HELP = `([^`]*)`/.exec(source)?.[1] ?? "";
}

describe("docs", () => {
    it("reads a flag from a tool's help, never from a comment", () => {
        const source =
            '// also takes --secret-flag\nexport const HELP = `Usage: x [--json]\n  --stack <name>`;\nconst note = "--other";';
        assert.match(helpOf(source), /--json/);
        assert.match(helpOf(source), /--stack/);
        assert.doesNotMatch(helpOf(source), /--secret-flag|--other/);
    });

    it("finds the README and the docs", () => {
        assert.ok(DOCS.length > 5, DOCS.join(", "));
    });

    for (const doc of DOCS) {
        it(`${doc}: every npm run command exists, with flags the tool accepts`, () => {
            for (const m of read(doc).matchAll(/npm run(?: -s)? ([\w:-]+)(?: -- ([^\n`|]*))?/g)) {
                assert.ok(scripts[m[1]], `npm run ${m[1]}`);
                // The file the script runs: its help (what --help prints, not a comment or
                // another string in its source) must name every flag the docs use.
                const file = /(?:tools|bench)\/[\w/-]+\.ts/.exec(scripts[m[1]])?.[0];
                const help = file ? helpOf(read(file)) : "";
                for (const flag of (m[2] ?? "").match(/(?<![\w-])--[a-z][a-z-]*/g) ?? []) {
                    assert.ok(
                        new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(help),
                        `${doc}: npm run ${m[1]} ${flag}: not in ${file ?? "the script"}'s --help`,
                    );
                }
            }
        });

        it(`${doc}: every config key it sets exists, and secrets are set as secrets`, () => {
            for (const m of read(doc).matchAll(
                /pulumi config set (--secret )?(?:--path )?'?(?:platform:)?([A-Za-z]+)/g,
            )) {
                const def = (KEYS as Record<string, { secret?: boolean }>)[m[2]];
                assert.ok(def, `${doc}: config key ${m[2]}`);
                assert.strictEqual(
                    !!m[1],
                    !!def.secret,
                    `${doc}: ${m[2]} ${def.secret ? "must" : "must not"} use --secret`,
                );
            }
        });

        it(`${doc}: its bash blocks pass shellcheck`, () => {
            for (const m of read(doc).matchAll(/```bash\n([\s\S]*?)```/g)) {
                // URNs hold a literal `$` between type segments, so single quotes are meant.
                assert.strictEqual(shellcheck(`#!/usr/bin/env bash\n${m[1]}`, ["SC2016"]), "", m[1]);
            }
        });

        it(`${doc}: every relative link resolves, anchors included`, () => {
            const text = read(doc).replace(/```[\s\S]*?```/g, "");
            const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
            for (const link of links) {
                const [file, anchor] = link.split("#");
                const target = file === "" ? doc : path.join(path.dirname(doc), file);
                assert.ok(fs.existsSync(path.join(ROOT, target)), `${doc}: ${link}: no ${target}`);
                if (anchor !== undefined && target.endsWith(".md")) {
                    assert.ok(
                        anchorsOf(read(target)).has(anchor),
                        `${doc}: ${link}: no heading #${anchor} in ${target}`,
                    );
                }
            }
        });
    }

    it(`${CONFIG_DOCS} is what npm run gen:config-docs writes from the schema`, () => {
        assert.strictEqual(
            read(CONFIG_DOCS),
            renderConfigDocs(),
            `${CONFIG_DOCS} is stale: run npm run gen:config-docs`,
        );
    });

    it("the configuration reference documents every config key", () => {
        const anchors = anchorsOf(read(CONFIG_DOCS));
        const keys = Object.keys(KEYS);
        assert.ok(keys.length > 0);
        for (const key of keys) assert.ok(anchors.has(slug(`\`${key}\``)), key);
    });

    it("every npm script is named in the README or the docs", () => {
        const all = DOCS.map(read).join("\n");
        const names = Object.keys(scripts);
        assert.ok(names.length > 0);
        for (const name of names)
            assert.ok(
                all.includes(`npm run ${name}`) || (name === "test" && all.includes("npm test")),
                `npm run ${name}`,
            );
    });

    it("every docs page the code names exists", () => {
        const sources = ["infra", "tools", "policy", ".github"].flatMap((dir) => {
            const walk = (d: string): string[] =>
                fs
                    .readdirSync(path.join(ROOT, d), { withFileTypes: true })
                    .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
            return walk(dir);
        });
        const named = sources.flatMap((f) =>
            [...read(f).matchAll(/(?<![\w/.-])docs\/[\w/.-]+\.md\b/g)].map((m) => `${f}: ${m[0]}`),
        );
        assert.ok(named.length > 0);
        for (const n of named) assert.ok(fs.existsSync(path.join(ROOT, n.split(": ")[1])), n);
    });

    it("the README stays a front door: at most about 200 lines", () => {
        const lines = read("README.md").split("\n").length;
        assert.ok(lines <= 220, `README.md has ${lines} lines; move the detail into docs/`);
    });

    it("the Tailscale ACL in Getting started owns every stack's tags, and each CI tag reaches only its own stack", () => {
        const acl = JSON.parse(
            /```json\n([\s\S]*?)```/.exec(read("docs/getting-started.md"))![1].replace(/^ {4}/gm, ""),
        ) as {
            tagOwners: Record<string, string[]>;
            ssh: { src: string[]; dst: string[] }[];
        };
        for (const stack of ["dev", "staging", "prod"]) assert.ok(acl.tagOwners[`tag:${stack}`], `tag:${stack}`);
        assert.ok(acl.tagOwners["tag:server"]);
        for (const stack of ["staging", "prod"]) {
            assert.ok(acl.tagOwners[`tag:ci-${stack}`], `tag:ci-${stack}`);
            const reach = acl.ssh.filter((r) => r.src.includes(`tag:ci-${stack}`)).flatMap((r) => r.dst);
            assert.deepStrictEqual(reach, [`tag:${stack}`], `tag:ci-${stack} reaches only ${stack}'s servers`);
        }
    });

    it("every Spaces endpoint in the docs has the one form the program uses", () => {
        const endpoints = DOCS.flatMap((d) => [...read(d).matchAll(/endpoint=([^&'`\s]+)/g)].map((m) => m[1]));
        assert.ok(endpoints.length > 0);
        for (const e of endpoints) assert.match(e, /^https:\/\/([a-z0-9]+|<region>)\.digitaloceanspaces\.com$/);
    });

    it("the rebuild and restore runbooks name resources the program really registers", async () => {
        const urns = [...read("docs/operations.md").matchAll(/'urn:pulumi:prod::platform::([^']+)'/g)].map((m) => m[1]);
        assert.ok(urns.length >= 3);
        const prod = await record("prod");
        for (const u of urns) {
            const [typePath, name] = u.split("::");
            const type = typePath.split("$").pop()!;
            assert.ok(
                prod.resources.some((r) => r.type === type && r.name === name),
                `${u}: prod registers no ${type} named ${name}`,
            );
        }
    });
});
