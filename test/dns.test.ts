import * as assert from "assert";
import { ofType, record, T } from "./helpers";

describe("dns", () => {
    for (const [stack, names] of [["dev", ["dev", "api.dev"]], ["staging", ["staging", "api.staging"]], ["prod", ["app", "api"]]] as const) {
        it(`${stack}: A records for its own names only, low TTL, pointing at the edge`, async () => {
            const rec = await record(stack);
            const records = ofType(rec, T.dns);
            assert.deepStrictEqual(records.map((r) => r.inputs.name), names);
            for (const r of records) {
                assert.strictEqual(r.inputs.domain, "acme-shop.com");
                assert.strictEqual(r.inputs.type, "A");
                assert.strictEqual(r.inputs.ttl, 60);
                assert.strictEqual(r.inputs.value, rec.outputs.edgeIp);
            }
        });
    }

    it("never creates or deletes the shared zone", async () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const rec = await record(stack);
            assert.strictEqual(rec.resources.filter((r) => r.type === "digitalocean:index/domain:Domain").length, 0);
        }
    });
});
