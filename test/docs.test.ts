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

    it("README: the walkthrough covers each credential's scopes, the ACL's tags, one Spaces endpoint form, the passphrase and the order of the first applies", () => {
        const readme = read("README.md");
        const flat = readme.replace(/\*\*/g, "").replace(/\s+/g, " ");
        for (const must of ["Custom Scopes", "ns1.digitalocean.com", "ssh-key import", "90 days", "auth_keys", "tag:ci", "Administration", "PULUMI_CONFIG_PASSPHRASE",
            "one passphrase per backend", "encryptionsalt", "npm run init", "npm run doctor -- --stack staging", "pulumi up --stack staging", "before any workflow runs"]) {
            assert.ok(flat.includes(must), must);
        }
        // One Spaces endpoint form everywhere: https://<region>.digitaloceanspaces.com.
        for (const m of read("README.md").matchAll(/endpoint=([^&'`\s]+)/g)) assert.match(m[1], /^https:\/\/([a-z0-9]+|<region>)\.digitaloceanspaces\.com$/, m[0]);
        // The ACL in the README owns the tags of every stack the repository defines, and each
        // deployed stack's CI tag, which reaches that stack's servers only.
        const acl = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)![1]) as { tagOwners: Record<string, string[]>; ssh: { src: string[]; dst: string[] }[] };
        for (const stack of ["dev", "staging", "prod"]) assert.ok(acl.tagOwners[`tag:${stack}`], `tag:${stack}`);
        assert.ok(acl.tagOwners["tag:server"]);
        for (const stack of ["staging", "prod"]) {
            assert.ok(acl.tagOwners[`tag:ci-${stack}`], `tag:ci-${stack}`);
            const reach = acl.ssh.filter((r) => r.src.includes(`tag:ci-${stack}`)).flatMap((r) => r.dst);
            assert.deepStrictEqual(reach, [`tag:${stack}`], `tag:ci-${stack} reaches only ${stack}'s servers`);
        }
    });

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
