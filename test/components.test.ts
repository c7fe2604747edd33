/**
 * One component at a time, from hand-made args (as pulumi-awsx and the Pulumi examples test
 * theirs): a single branch of behaviour each, with no stack config and no other component.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { App, AppService } from "../infra/app";
import { certificateName, Edge } from "../infra/edge";
import { Firewall } from "../infra/firewall";
import { TYPES } from "../infra/lifecycle/types";
import { Monitoring } from "../infra/monitoring";

interface Made {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

/** Registers what `make` builds under mocks and returns every resource with its inputs. */
async function build(make: () => void): Promise<Made[]> {
    const made: Made[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource: (a) => {
                made.push({ type: a.type, name: a.name, inputs: a.inputs as Record<string, unknown> });
                return { id: `${a.name}-id`, state: { ...a.inputs, ip: "198.51.100.7", ipAddress: "192.0.2.7" } };
            },
            call: (a) => a.inputs,
        },
        "platform",
        "components",
        false,
    );
    await pulumi.runtime.runInPulumiStack(async () => {
        make();
    });
    await (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();
    return made;
}

const ofType = (made: Made[], type: string) => made.filter((m) => m.type === type);

describe("components from hand-made args", () => {
    const edgeArgs = {
        prefix: "t",
        region: "fra1",
        vpcId: "vpc-1",
        dropletIds: [11, 12],
        serverTag: "t-app",
        hostnames: ["www.example.com", "api.example.com"],
        healthPath: "/up",
    };

    it("Edge, several servers: a load balancer with a certificate named after its domains, and no reserved IP", async () => {
        const made = await build(() => new Edge("t", { ...edgeArgs, kind: "load-balancer" }));
        assert.strictEqual(ofType(made, TYPES.reservedIp).length, 0);
        const [cert] = ofType(made, TYPES.cert);
        assert.strictEqual(
            cert.inputs.name,
            certificateName("t", ["api.example.com", "www.example.com"]),
            "the order of the names does not matter",
        );
        const [lb] = ofType(made, TYPES.lb);
        assert.strictEqual(lb.inputs.dropletTag, "t-app");
        assert.strictEqual(lb.inputs.disableLetsEncryptDnsRecords, true);
    });

    it("Edge, one server: a reserved IP assigned to the first droplet, no balancer, no certificate", async () => {
        const made = await build(() => new Edge("t", { ...edgeArgs, kind: "reserved-ip", dropletIds: [11] }));
        assert.deepStrictEqual([ofType(made, TYPES.lb).length, ofType(made, TYPES.cert).length], [0, 0]);
        assert.strictEqual(ofType(made, TYPES.reservedIpAssignment)[0].inputs.dropletId, 11);
    });

    it("Firewall behind a balancer opens the web ports to the balancer only; without one, to everyone", async () => {
        const behind = await build(
            () =>
                new Firewall("t", {
                    prefix: "t",
                    serverTag: "t-app",
                    vpcIpRange: "10.9.0.0/20",
                    loadBalancerUid: "lb-1",
                }),
        );
        const open = await build(
            () => new Firewall("t", { prefix: "t", serverTag: "t-app", vpcIpRange: "10.9.0.0/20" }),
        );
        type Rule = { portRange: string; sourceAddresses?: string[]; sourceLoadBalancerUids?: string[] };
        const web = (made: Made[]) =>
            (ofType(made, TYPES.firewall)[0].inputs.inboundRules as Rule[]).filter((r) =>
                ["80", "443"].includes(r.portRange),
            );
        assert.ok(
            web(behind).length > 0 &&
                web(behind).every(
                    (r) =>
                        (r.sourceLoadBalancerUids ?? []).includes("lb-1") &&
                        !(r.sourceAddresses ?? []).includes("0.0.0.0/0"),
                ),
        );
        assert.ok(web(open).length > 0 && web(open).every((r) => (r.sourceAddresses ?? []).includes("0.0.0.0/0")));
    });

    it("Monitoring sends to Slack only when a channel is given", async () => {
        const base = {
            prefix: "t",
            dropletIds: [11],
            healthUrl: "https://api.example.com/up",
            emails: ["ops@example.com"],
            thresholds: { cpu: 80, memory: 80, disk: 80 },
            tags: ["t"],
        };
        const withSlack = await build(
            () =>
                new Monitoring("t", {
                    ...base,
                    slack: { channel: "#ops", url: "https://hooks.slack.com/services/T/B/X" },
                }),
        );
        const without = await build(() => new Monitoring("t", base));
        const slacks = (made: Made[]) =>
            ofType(made, TYPES.alert).map((a) => ((a.inputs.alerts as { slacks: unknown[] }).slacks ?? []).length);
        assert.ok(slacks(withSlack).every((n) => n === 1));
        assert.ok(slacks(without).every((n) => n === 0));
    });

    it("App, two services on one server: each its own containers and cut-over, one proxy, migrations only where declared", async () => {
        const digest = `sha256:${"ab".repeat(32)}`;
        const svc = (name: string, over: Partial<AppService> = {}): AppService => ({
            name,
            repository: `ghcr.io/t/${name}`,
            tag: "1",
            digest,
            port: 8080,
            memoryMb: 128,
            health: { kind: "none" },
            healthcheckCommand: [],
            env: ["PORT=8080"],
            secretEnv: [],
            migrationCommand: [],
            processes: [],
            smokeRequests: [],
            ...over,
        });
        const made = await build(
            () =>
                new App("t", {
                    servers: [{ key: "web-1", tailnetHostname: "t-web-1", dropletId: 11 }],
                    deployUser: "deploy",
                    services: [
                        svc("api", {
                            health: { kind: "http", path: "/up" },
                            migrationCommand: ["migrate"],
                            processes: [{ name: "worker", command: ["w"], memoryMb: 64 }],
                        }),
                        svc("web"),
                    ],
                    routes: [
                        { host: "www.example.com", path: "/", service: "web" },
                        { host: "www.example.com", path: "/api", service: "api" },
                    ],
                    proxyImage: `caddy:2@${digest}`,
                    proxyMode: { kind: "tls" },
                    migrationDatabaseUrl: "postgres://x",
                    dbClientImage: `postgres:17@${digest}`,
                    healthcheck: { intervalSeconds: 5, retries: 3 },
                    deployTimeoutSeconds: 60,
                    bootTimeoutSeconds: 60,
                }),
        );
        const names = (type: string) =>
            ofType(made, type)
                .map((m) => m.name)
                .sort();
        assert.deepStrictEqual(names(TYPES.container), [
            "t-web-1-api-app",
            "t-web-1-api-worker",
            "t-web-1-proxy",
            "t-web-1-web-app",
        ]);
        assert.deepStrictEqual(names(TYPES.command), [
            "t-web-1-api-cutover",
            "t-web-1-api-migrate",
            "t-web-1-api-workers-check",
            "t-web-1-proxy-config",
            "t-web-1-ready",
            "t-web-1-web-cutover",
        ]);
        const env = (name: string) =>
            ofType(made, TYPES.command).find((m) => m.name === name)!.inputs.environment as Record<string, string>;
        assert.deepStrictEqual(
            [env("t-web-1-api-cutover").VERIFY_URL, env("t-web-1-web-cutover").VERIFY_URL],
            ["http://127.0.0.1:2080", "http://127.0.0.1:2081"],
        );
        assert.strictEqual(
            env("t-web-1-proxy-config").CHECKS,
            "api|http://127.0.0.1:2080/up|200 web|http://127.0.0.1:2081/|any",
        );
    });
});
