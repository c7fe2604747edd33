/** The runbooks' commands match the code: scripts, flags and config keys exist; shell parses. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KEYS } from "../infra/config/schema";
import { shellcheck } from "./helpers";

const ROOT = path.join(__dirname, "..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const DOCS = ["docs/runbooks.md", "docs/threat-model.md", "README.md"];
const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
const toolHelp = (tool: string) => read(`tools/${tool}.ts`);

describe("docs", () => {
    it("covers deploy, rollback, promote, secret rotation, restore, rebuild and failed updates", () => {
        const rb = read("docs/runbooks.md");
        for (const h of ["## Deploy", "## Roll back", "## Promote", "## Rotate a secret", "## Restore the database to a point in time", "## Rebuild a server on purpose", "## Recover from a failed `up`"]) {
            assert.ok(rb.includes(h), h);
        }
        for (const s of ["Tailscale API key", "Database password", "GHCR token", "DigitalOcean token"]) assert.ok(rb.includes(s), s);
    });

    for (const doc of DOCS) {
        it(`${doc}: every npm run command exists, with flags the tool accepts`, () => {
            for (const m of read(doc).matchAll(/npm run(?: -s)? ([\w:-]+)(?: -- ([^\n`]*))?/g)) {
                assert.ok(scripts[m[1]], `npm run ${m[1]}`);
                // The file the script runs: its help text must name every flag the docs use.
                const file = /tools\/([\w-]+)\.ts/.exec(scripts[m[1]])?.[1];
                const tool = file ? toolHelp(file) : "";
                for (const flag of (m[2] ?? "").match(/--[a-z-]+/g) ?? []) assert.ok(tool.includes(flag), `${m[1]} ${flag}`);
            }
        });

        it(`${doc}: every config key it sets exists, and secrets are set as secrets`, () => {
            for (const m of read(doc).matchAll(/pulumi config set (--secret )?(?:platform:)?([A-Za-z]+)/g)) {
                const def = (KEYS as Record<string, { secret?: boolean }>)[m[2]];
                assert.ok(def, `config key ${m[2]}`);
                assert.strictEqual(!!m[1], !!def.secret, `${m[2]} ${def.secret ? "must" : "must not"} use --secret`);
            }
        });

        it(`${doc}: its bash blocks pass shellcheck`, () => {
            for (const m of read(doc).matchAll(/```bash\n([\s\S]*?)```/g)) {
                // URNs hold a literal `$` between type segments, so single quotes are meant.
                assert.strictEqual(shellcheck(`#!/usr/bin/env bash\n${m[1]}`, ["SC2016"]), "", m[1]);
            }
        });
    }

    it("the rebuild runbook names resources the program really registers", () => {
        const rb = read("docs/runbooks.md");
        const urns = [...rb.matchAll(/'(?:prod=)?urn:pulumi:prod::platform::([^']+)'/g)].map((m) => m[1]);
        assert.ok(urns.length >= 3);
        for (const u of urns) {
            const [typePath, name] = u.split("::");
            const type = typePath.split("$").pop()!;
            assert.ok(/^(platform|digitalocean|tailscale):/.test(type), u);
            assert.match(name, /^prod(-|$)/);
        }
    });
});
