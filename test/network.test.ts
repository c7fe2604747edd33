import * as assert from "assert";
import { fixtureValue, named, ofType, record, recordTeam, T, TEAMS } from "./helpers";

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
        const servers = ofType(rec, T.droplet).length;
        assert.strictEqual(urns.length, servers + 1 + 1);
        assert.ok(urns.some((u) => u.startsWith("do:dbaas:")) && urns.some((u) => u.startsWith("do:loadbalancer:")));
        assert.strictEqual(urns.filter((u) => u.startsWith("do:droplet:")).length, servers);
    });

    for (const team of TEAMS) {
        it(`${team}: exports what operators and later tooling read`, async () => {
            const rec = await recordTeam(team, "prod");
            const v = (k: Parameters<typeof fixtureValue>[1]) => fixtureValue("prod", k, team);
            const count = Number(v("serverCount"));
            assert.strictEqual(
                rec.outputs.publicUrl,
                v("frontendHost") === "@" ? `https://${v("domain")}` : `https://${v("frontendHost")}.${v("domain")}`,
            );
            assert.deepStrictEqual(
                rec.outputs.serverHostnames,
                Array.from({ length: count }, (_, i) => `prod-web-${i + 1}`),
            );
            assert.strictEqual((rec.outputs.serverPublicIps as string[]).length, count);
            const release = rec.outputs.release as { services: Record<string, Record<string, string>> };
            const declared = v("services") as Record<string, { image: string; tag: string }>;
            const expected = Object.fromEntries(
                Object.entries(declared).map(([n, s]) => [n, { repository: s.image, tag: String(s.tag) }]),
            );
            assert.ok(Object.keys(expected).length > 0, "the fixture declares services");
            assert.deepStrictEqual(Object.keys(release.services), Object.keys(expected).sort());
            for (const [name, want] of Object.entries(expected)) {
                const got = release.services[name];
                assert.strictEqual(got.tag, want.tag, name);
                assert.match(got.digest, /^sha256:[a-f0-9]{64}$/);
                assert.strictEqual(got.image, `${want.repository}@${got.digest}`);
            }
        });
    }
});
