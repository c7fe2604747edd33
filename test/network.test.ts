import * as assert from "assert";
import { named, ofType, record, T } from "./helpers";

describe("network and project", () => {
    it("gives each stack its own VPC with its own range", async () => {
        const ranges = [];
        const names = [];
        for (const stack of ["dev", "staging", "prod"]) {
            const rec = await record(stack);
            const vpcs = ofType(rec, T.vpc);
            assert.strictEqual(vpcs.length, 1);
            assert.ok(String(vpcs[0].inputs.name).includes(stack), "a VPC's name says whose it is");
            ranges.push(vpcs[0].inputs.ipRange);
            names.push(vpcs[0].inputs.name);
        }
        assert.strictEqual(new Set(ranges).size, 3);
        assert.strictEqual(new Set(names).size, 3, "VPC names are unique per account");
    });

    it("groups the droplets, the database and the edge in a DigitalOcean project, not the shared domain", async () => {
        const rec = await record("prod");
        const p = named(rec, T.project, "prod-project");
        assert.strictEqual(p.inputs.environment, "Production");
        const urns = p.inputs.resources as string[];
        assert.strictEqual(urns.length, 2 + 1 + 1);
        assert.ok(urns.some((u) => u.startsWith("do:dbaas:")) && urns.some((u) => u.startsWith("do:loadbalancer:")));
        assert.strictEqual(urns.filter((u) => u.startsWith("do:droplet:")).length, 2);
    });

    it("exports what operators and later tooling read", async () => {
        const rec = await record("prod");
        assert.strictEqual(rec.outputs.publicUrl, "https://app.acme-shop.com");
        assert.deepStrictEqual(rec.outputs.serverHostnames, ["prod-web-1", "prod-web-2"]);
        assert.strictEqual((rec.outputs.serverPublicIps as string[]).length, 2);
        const release = rec.outputs.release as Record<string, string>;
        assert.strictEqual(release.tag, "1.4.2");
        assert.match(release.digest, /^sha256:[a-f0-9]{64}$/);
        assert.strictEqual(release.image, `ghcr.io/acme-shop/shop@${release.digest}`);
    });
});
