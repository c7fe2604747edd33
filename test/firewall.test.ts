import * as assert from "assert";
import { ANYWHERE, inboundRules, outboundRules } from "../infra/firewall";
import { named, ofType, record, T } from "./helpers";

type Rule = {
    protocol: string;
    portRange?: string;
    sourceAddresses?: string[];
    sourceLoadBalancerUids?: string[];
    destinationAddresses?: string[];
};

describe("firewall", () => {
    it("with one server opens only TCP 80 and 443 to the internet", () => {
        const rules = inboundRules({ vpcIpRange: "10.10.0.0/20" }) as Rule[];
        assert.deepStrictEqual(
            rules.map((r) => `${r.protocol}/${r.portRange}`),
            ["tcp/80", "tcp/443"],
        );
        for (const r of rules) assert.deepStrictEqual(r.sourceAddresses, ANYWHERE);
    });

    it("behind a load balancer admits web traffic only from the balancer", () => {
        const rules = inboundRules({ vpcIpRange: "10.30.0.0/20", loadBalancerUid: "lb-123" }) as Rule[];
        assert.deepStrictEqual(rules, [{ protocol: "tcp", portRange: "80", sourceLoadBalancerUids: ["lb-123"] }]);
    });

    it("allows outbound DNS, NTP, HTTP(S), Tailscale, and Postgres only inside the VPC", () => {
        const out = outboundRules({ vpcIpRange: "10.30.0.0/20" }) as Rule[];
        const keys = out.map((r) => `${r.protocol}/${r.portRange ?? "*"}`);
        for (const k of ["udp/53", "tcp/443", "tcp/80", "udp/41641", "udp/3478", "udp/123"])
            assert.ok(keys.includes(k), k);
        assert.deepStrictEqual(out.find((r) => r.portRange === "25060-25061")!.destinationAddresses, ["10.30.0.0/20"]);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: no port 22 and nothing but 80/443 inbound, applied by the servers' tag`, async () => {
            const rec = await record(stack);
            const fw = named(rec, T.firewall, `${stack}-fw`);
            assert.deepStrictEqual(fw.inputs.tags, [`platform-${stack}-app`]);
            const inbound = fw.inputs.inboundRules as Rule[];
            for (const r of inbound) {
                assert.ok(["80", "443"].includes(r.portRange!), `inbound ${r.protocol}/${r.portRange}`);
                assert.strictEqual(r.protocol, "tcp");
            }
            if (stack === "dev") {
                assert.strictEqual(inbound.length, 2);
            } else {
                const lb = ofType(rec, T.lb)[0];
                assert.ok(lb, "several servers have a load balancer");
                assert.deepStrictEqual(inbound, [
                    {
                        protocol: "tcp",
                        portRange: "80",
                        sourceLoadBalancerUids: [inbound[0].sourceLoadBalancerUids![0]],
                    },
                ]);
                assert.ok(inbound[0].sourceLoadBalancerUids![0].length > 0);
            }
        });
    }
});
