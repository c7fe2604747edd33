import * as assert from "assert";
import { apiHealthPath, fixtureValue, named, ofType, recordTeam, T, TEAMS } from "./helpers";

const fqdn = (host: unknown, domain: unknown) => (host === "@" ? String(domain) : `${host}.${domain}`);

describe("edge", () => {
    it("one server: a reserved IP assigned to it, no load balancer", async () => {
        const rec = await recordTeam("sample", "dev");
        assert.strictEqual(ofType(rec, T.lb).length, 0);
        assert.strictEqual(ofType(rec, T.reservedIp).length, 1);
        const a = ofType(rec, T.reservedIpAssignment)[0];
        assert.strictEqual(a.inputs.dropletId, Number(named(rec, T.droplet, "dev-web-1").id));
        assert.ok(Number.isInteger(a.inputs.dropletId));
        assert.strictEqual(rec.outputs.edgeKind, "reserved-ip");
    });

    for (const team of TEAMS) {
        for (const stack of ["staging", "prod"]) {
            it(`${team}/${stack}: a load balancer terminating TLS with a managed certificate, health-checking the proxy`, async () => {
                const rec = await recordTeam(team, stack);
                const v = (k: Parameters<typeof fixtureValue>[1]) => fixtureValue(stack, k, team);
                assert.strictEqual(ofType(rec, T.reservedIp).length, 0);
                const lb = named(rec, T.lb, `${stack}-lb`);
                const cert = named(rec, T.cert, `${stack}-cert`);
                assert.strictEqual(cert.inputs.type, "lets_encrypt");
                assert.deepStrictEqual(cert.inputs.domains, [
                    fqdn(v("frontendHost"), v("domain")),
                    fqdn(v("apiHost"), v("domain")),
                ]);
                assert.strictEqual(lb.inputs.dropletTag, `platform-${stack}-app`);
                assert.strictEqual(lb.inputs.redirectHttpToHttps, true);
                assert.deepStrictEqual(
                    (lb.inputs.forwardingRules as any[]).map(
                        (r) => `${r.entryProtocol}:${r.entryPort}->${r.targetProtocol}:${r.targetPort}`,
                    ),
                    ["https:443->http:80", "http:80->http:80"],
                );
                // The balancer checks the proxy on port 80 at the app's own health path, whatever the app's port.
                assert.deepStrictEqual(
                    [
                        (lb.inputs.healthcheck as any).protocol,
                        (lb.inputs.healthcheck as any).port,
                        (lb.inputs.healthcheck as any).path,
                    ],
                    ["http", 80, apiHealthPath(stack, team)],
                );
                assert.strictEqual(rec.outputs.edgeKind, "load-balancer");
            });
        }
    }
});
