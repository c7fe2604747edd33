/**
 * Staging mirrors prod: same resource types and counts, differing only in declared knobs.
 * Checked on both fixture teams: team B runs three servers in prod and two in staging (the
 * serverCount scale knob), an apex frontend in prod, another port and other workers.
 */
import * as assert from "assert";
import { KEYS } from "../infra/config/schema";
import { cidrsOverlap } from "../infra/config/validate";
import { compareStacks, parityCauses, serviceShape } from "../tools/lib/parity";
import { fixture, ofType, recordTeam, T, TEAMS } from "./helpers";

describe("parity: staging mirrors prod", () => {
    for (const team of TEAMS) {
        it(`${team}: registers the same set of resource types`, async () => {
            const types = async (s: string) =>
                [...new Set((await recordTeam(team, s)).resources.map((r) => r.type))].sort();
            assert.deepStrictEqual(await types("staging"), await types("prod"));
        });

        it(`${team}: registers the same counts per type, except where a declared knob drives the count`, async () => {
            const report = compareStacks(
                await recordTeam(team, "staging"),
                fixture("staging", team),
                await recordTeam(team, "prod"),
                fixture("prod", team),
            );
            for (const o of report.onlyIn) {
                assert.ok(o.knob, `${o.resource} exists only in ${o.stack} without a knob to explain it`);
                assert.ok((KEYS as Record<string, { knob?: string }>)[o.knob!.key]?.knob, o.knob!.key);
            }
        });

        it(`${team}: differs only in values the config declares as per-stack knobs`, async () => {
            const report = compareStacks(
                await recordTeam(team, "staging"),
                fixture("staging", team),
                await recordTeam(team, "prod"),
                fixture("prod", team),
            );
            assert.deepStrictEqual(
                report.diffs
                    .filter((d) => !d.expected)
                    .map((d) => `${d.resource} ${d.property}: ${JSON.stringify(d.a)} -> ${JSON.stringify(d.b)}`),
                [],
            );
            assert.strictEqual(report.unexpected, 0);
            const knobs = new Set(report.diffs.map((d) => d.knob!.key));
            for (const k of ["dbNodeCount", "dbPoolSize", "services", "frontendHost"]) assert.ok(knobs.has(k), k);
        });
    }

    it("accepts a different server count (a scale knob): team B's prod runs 3 servers, staging 2", async () => {
        const staging = await recordTeam("other", "staging");
        const prod = await recordTeam("other", "prod");
        assert.deepStrictEqual([ofType(staging, T.droplet).length, ofType(prod, T.droplet).length], [2, 3]);
        const report = compareStacks(staging, fixture("staging", "other"), prod, fixture("prod", "other"));
        const web3 = report.onlyIn.filter((o) => o.resource.includes("-web-3"));
        assert.ok(
            web3.length > 0 && web3.every((o) => o.stack === "prod" && o.expected && o.knob?.key === "serverCount"),
            JSON.stringify(web3),
        );
    });

    it("still refuses an undeclared difference (a DNS TTL) and a different edge kind", async () => {
        const prod = await recordTeam("other", "prod");
        const ttl = compareStacks(
            await recordTeam("other", "staging", { overrides: { dnsTtl: "300" } }),
            fixture("staging", "other"),
            prod,
            fixture("prod", "other"),
        );
        assert.ok(ttl.diffs.some((d) => !d.expected && d.property === "ttl"));
        const oneServer = {
            ...fixture("staging", "other"),
            values: { ...fixture("staging", "other").values, "platform:serverCount": "1" },
        };
        const one = compareStacks(
            await recordTeam("other", "staging", { overrides: { serverCount: "1" } }),
            oneServer,
            prod,
            fixture("prod", "other"),
        );
        assert.ok(one.diffs.some((d) => d.property === "edgeKind" && !d.expected));
        assert.deepStrictEqual(
            one.causes.map((c) => c.key),
            ["serverCount"],
            "the report names the key behind the edge's difference",
        );
        assert.match(
            one.causes[0].message,
            /^serverCount is 1 in staging and 3 in prod: one server gets a reserved IP .* give both 2 or more servers/,
        );
    });

    it("refuses VPC ranges that overlap, even when everything else mirrors", () => {
        const cfg = (stack: string, range: string) => ({
            ...fixture(stack, "other"),
            values: { ...fixture(stack, "other").values, "platform:vpcIpRange": range },
        });
        assert.deepStrictEqual(
            parityCauses("staging", cfg("staging", "10.30.0.0/20"), "prod", cfg("prod", "10.30.0.0/20")).map((c) => [
                c.key,
                c.blocking,
            ]),
            [["vpcIpRange", true]],
        );
        assert.deepStrictEqual(
            parityCauses("staging", cfg("staging", "10.30.0.0/16"), "prod", cfg("prod", "10.30.8.0/24")).map(
                (c) => c.key,
            ),
            ["vpcIpRange"],
            "one inside the other",
        );
        assert.deepStrictEqual(
            parityCauses("staging", cfg("staging", "10.20.0.0/20"), "prod", cfg("prod", "10.20.16.0/20")),
            [],
            "neighbours do not overlap",
        );
    });

    it("cidrsOverlap: containment either way, equal ranges, neighbours apart", () => {
        assert.ok(
            cidrsOverlap("10.0.0.0/16", "10.0.255.0/24") &&
                cidrsOverlap("10.0.255.0/24", "10.0.0.0/16") &&
                cidrsOverlap("192.168.1.0/24", "192.168.1.0/24"),
        );
        assert.ok(
            !cidrsOverlap("10.0.0.0/20", "10.0.16.0/20") &&
                !cidrsOverlap("10.0.0.0/16", "10.1.0.0/16") &&
                !cidrsOverlap("bogus", "10.0.0.0/16"),
        );
    });

    for (const team of TEAMS) {
        it(`${team}: the staging and prod stack files differ only in knob keys`, () => {
            const s = fixture("staging", team).values;
            const p = fixture("prod", team).values;
            for (const key of new Set([...Object.keys(s), ...Object.keys(p)])) {
                if (s[key] === p[key]) continue;
                if (key === "platform:services") {
                    assert.deepStrictEqual(
                        serviceShape(fixture("staging", team)),
                        serviceShape(fixture("prod", team)),
                        "services differ beyond tags, digests, memory and host names",
                    );
                    continue;
                }
                const def = (KEYS as Record<string, { knob?: string }>)[key.replace(/^platform:/, "")];
                assert.ok(def?.knob, `${key} differs (${s[key]} vs ${p[key]}) but is not a declared knob`);
            }
        });
    }
});

describe("parity of services", () => {
    const stackFile = (frontendHost: string, apiHost: string, services: unknown) => ({
        values: {
            "platform:domain": "acme-shop.com",
            "platform:frontendHost": frontendHost,
            "platform:apiHost": apiHost,
            "platform:services": JSON.stringify(services),
        },
        secretKeys: [],
    });
    const sample = (front: string, api: string, over: Record<string, unknown> = {}) => ({
        api: {
            image: "ghcr.io/acme-shop/shop",
            tag: "1.4.2",
            memoryMb: 512,
            routes: [`${front}/api`, `${api}/`],
            processes: { worker: { command: ["w"], memoryMb: 256 } },
        },
        web: {
            image: "ghcr.io/acme-shop/shop-web",
            tag: "2.3.0",
            memoryMb: 128,
            routes: [`${front}/`],
            health: "none",
            ...over,
        },
    });

    it("staging and prod may differ in tags, digests, memory and host names, and nothing else", () => {
        const staging = stackFile(
            "staging",
            "api.staging",
            sample("staging.acme-shop.com", "api.staging.acme-shop.com"),
        );
        const prodServices = sample("app.acme-shop.com", "api.acme-shop.com", {
            tag: "2.2.9",
            memoryMb: 256,
            digest: `sha256:${"a".repeat(64)}`,
        });
        const prod = stackFile("app", "api", prodServices);
        assert.deepStrictEqual(serviceShape(staging), serviceShape(prod));
        assert.deepStrictEqual((serviceShape(prod) as { web: { routes: string[] } }).web.routes, ["<frontendHost>/"]);
    });

    it("a route, a port or a health check that differs is a difference", () => {
        const staging = stackFile(
            "staging",
            "api.staging",
            sample("staging.acme-shop.com", "api.staging.acme-shop.com"),
        );
        for (const over of [
            { routes: ["app.acme-shop.com/", "app.acme-shop.com/docs"] },
            { port: 8081 },
            { health: { path: "/" } },
        ]) {
            const prod = stackFile("app", "api", sample("app.acme-shop.com", "api.acme-shop.com", over));
            assert.notDeepStrictEqual(serviceShape(staging), serviceShape(prod), JSON.stringify(over));
        }
    });
});
