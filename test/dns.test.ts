import * as assert from "assert";
import { fixtureValue, ofType, recordTeam, T, TEAMS } from "./helpers";

describe("dns", () => {
    for (const team of TEAMS) {
        for (const stack of ["dev", "staging", "prod"]) {
            it(`${team}/${stack}: A records for its own names only, the configured TTL, pointing at the edge`, async () => {
                const rec = await recordTeam(team, stack);
                const records = ofType(rec, T.dns);
                assert.deepStrictEqual(
                    records.map((r) => r.inputs.name),
                    [fixtureValue(stack, "frontendHost", team), fixtureValue(stack, "apiHost", team)],
                );
                for (const r of records) {
                    assert.strictEqual(r.inputs.domain, fixtureValue(stack, "domain", team));
                    assert.strictEqual(r.inputs.type, "A");
                    assert.strictEqual(r.inputs.ttl, Number(fixtureValue(stack, "dnsTtl", team)));
                    assert.strictEqual(r.inputs.value, rec.outputs.edgeIp);
                }
            });
        }
    }

    it("uses the TTL it is given", async () => {
        const rec = await recordTeam("sample", "dev", { overrides: { dnsTtl: "300" } });
        assert.deepStrictEqual(
            ofType(rec, T.dns).map((r) => r.inputs.ttl),
            [300, 300],
        );
    });

    it("never creates or deletes the shared zone", async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const rec = await recordTeam("sample", stack);
            assert.strictEqual(rec.resources.filter((r) => r.type === "digitalocean:index/domain:Domain").length, 0);
        }
    });
});
