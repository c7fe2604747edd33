import * as assert from "assert";
import { named, ofType, record, T } from "./helpers";

describe("edge", () => {
    it("one server: a reserved IP assigned to it, no load balancer", async () => {
        const rec = await record("dev");
        assert.strictEqual(ofType(rec, T.lb).length, 0);
        assert.strictEqual(ofType(rec, T.reservedIp).length, 1);
        const a = ofType(rec, T.reservedIpAssignment)[0];
        assert.strictEqual(a.inputs.dropletId, Number(named(rec, T.droplet, "dev-web-1").id));
        assert.ok(Number.isInteger(a.inputs.dropletId));
        assert.strictEqual(rec.outputs.edgeKind, "reserved-ip");
    });

    for (const stack of ["staging", "prod"]) {
        it(`${stack}: a load balancer terminating TLS with a managed certificate, health-checking the proxy`, async () => {
            const rec = await record(stack);
            assert.strictEqual(ofType(rec, T.reservedIp).length, 0);
            const lb = named(rec, T.lb, `${stack}-lb`);
            const host = stack === "prod" ? "app" : "staging";
            const cert = named(rec, T.cert, `${stack}-cert`);
            assert.strictEqual(cert.inputs.type, "lets_encrypt");
            assert.deepStrictEqual(cert.inputs.domains, [`${host}.acme-shop.com`, `api.${stack === "prod" ? "" : "staging."}acme-shop.com`]);
            assert.strictEqual(lb.inputs.dropletTag, `platform-${stack}-app`);
            assert.strictEqual(lb.inputs.redirectHttpToHttps, true);
            assert.deepStrictEqual((lb.inputs.forwardingRules as any[]).map((r) => `${r.entryProtocol}:${r.entryPort}->${r.targetProtocol}:${r.targetPort}`), ["https:443->http:80", "http:80->http:80"]);
            assert.deepStrictEqual([(lb.inputs.healthcheck as any).protocol, (lb.inputs.healthcheck as any).port, (lb.inputs.healthcheck as any).path], ["http", 80, "/api/v1/health"]);
            assert.strictEqual(rec.outputs.edgeKind, "load-balancer");
        });
    }
});
