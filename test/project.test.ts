/** The project around the program: Pulumi.yaml in step with the schema, one SDK copy, stack files. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { KEYS } from "../infra/config/schema";
import { committedStacks, readStackConfig, ROOT } from "../tools/lib/stacks";
import { renderPulumiYaml } from "../tools/pulumi-yaml";

describe("project", () => {
    it("Pulumi.yaml declares every config key, generated from the schema (run npm run gen:pulumi-yaml)", () => {
        const committed = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        assert.strictEqual(committed, renderPulumiYaml());
        const doc = parse(committed);
        assert.strictEqual(doc.runtime.name, "nodejs");
        assert.strictEqual(doc.main, "infra/");
        assert.deepStrictEqual(Object.keys(doc.config).sort(), Object.keys(KEYS).sort());
        for (const [k, d] of Object.entries(doc.config) as [string, { description?: string; type?: string }][]) {
            assert.ok(d.description && d.description.length > 10, k);
            if (KEYS[k as keyof typeof KEYS].type !== "object") assert.ok(d.type, `${k} has a type`);
        }
    });

    it("commits the three stacks, with no plain-text secret in them (encrypted ones are how a team commits its secrets)", () => {
        assert.deepStrictEqual(committedStacks(), ["dev", "prod", "staging"]);
        for (const stack of committedStacks()) {
            const { values, secretKeys } = readStackConfig(stack);
            for (const [k, d] of Object.entries(KEYS)) {
                if ((d as { secret?: boolean }).secret && values[`platform:${k}`] !== undefined)
                    assert.ok(secretKeys.includes(`platform:${k}`), `${stack} holds ${k} in plain text`);
            }
            for (const key of Object.keys(values))
                assert.ok(key.startsWith("platform:") && key.slice(9) in KEYS, `${stack}: unknown key ${key}`);
        }
    });

    it("resolves a single @pulumi/pulumi for the program and every provider (or the mocks stop working)", () => {
        const main = require.resolve("@pulumi/pulumi", { paths: [ROOT] });
        for (const pkg of [
            "@pulumi/digitalocean",
            "@pulumi/docker",
            "@pulumi/github",
            "@pulumi/tailscale",
            "@pulumi/command",
            "@pulumi/policy",
        ]) {
            const dir = path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }));
            assert.strictEqual(require.resolve("@pulumi/pulumi", { paths: [dir] }), main, pkg);
        }
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
        // Exactly one copy in the committed lock, and it is the one installed.
        const copies = Object.keys(lock.packages).filter((k) => k.endsWith("node_modules/@pulumi/pulumi"));
        assert.deepStrictEqual(copies, ["node_modules/@pulumi/pulumi"]);
        const installed = JSON.parse(
            fs.readFileSync(
                path.join(
                    main.slice(0, main.lastIndexOf("node_modules/@pulumi/pulumi")),
                    "node_modules/@pulumi/pulumi/package.json",
                ),
                "utf8",
            ),
        ).version;
        assert.strictEqual(lock.packages["node_modules/@pulumi/pulumi"].version, installed);
        assert.match(lock.packages["node_modules/typescript"].version, /^5\./);
    });
});
