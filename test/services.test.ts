/**
 * Several services per stack, under mocks (team C, `duo`: web and api): what each server
 * runs per service, how the edge routes, what a one-service deploy changes, the release
 * record as a set, and the move from one image to services. The same routes on the real
 * Caddy and Docker are in test/lab/services.lab.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { fillUpstreams } from "../infra/app/caddy";
import { parseSettings, ServiceSpec } from "../infra/config";
import { healthCheckOf } from "../infra/config/parse/app";
import { parseHealth } from "../infra/config/parse/services";
import { fixtureValue, named, ofType, recordTeam, source, T, tmpdir } from "./helpers";
import { RecordedStack } from "../tools/lib/mockrun";
import { waitsFor } from "../tools/lib/whatif";

type Env = Record<string, string>;
const envOf = (rec: RecordedStack, type: string, name: string) => named(rec, type, name).inputs.environment as Env;
const proxyConfig = (rec: RecordedStack, stack: string) =>
    JSON.parse(envOf(rec, T.command, `${stack}-web-1-proxy-config`).PROXY_CONFIG);
const services = (stack: string) =>
    fixtureValue(stack, "services", "duo") as Record<string, { tag: string; routes: string[] }>;

describe("services: several per stack (team C)", () => {
    it("prod: each server runs every service's containers, named by service; migrations run once, from the api image", async () => {
        const rec = await recordTeam("duo", "prod");
        for (const n of [1, 2]) {
            for (const name of [`prod-web-${n}-api-app`, `prod-web-${n}-api-worker`, `prod-web-${n}-web-app`])
                named(rec, T.container, name);
            for (const name of [
                `prod-web-${n}-api-cutover`,
                `prod-web-${n}-web-cutover`,
                `prod-web-${n}-api-workers-check`,
            ])
                named(rec, T.command, name);
        }
        const migrations = ofType(rec, T.command)
            .filter((c) => c.name.endsWith("-migrate"))
            .map((c) => c.name);
        assert.deepStrictEqual(migrations, ["prod-web-1-api-migrate"]);
        assert.ok(!ofType(rec, T.container).some((c) => c.name.endsWith("-web-worker")), "web declares no workers");
        const api = named(rec, T.container, "prod-web-1-api-app");
        assert.match(String(api.inputs.image), /^ghcr\.io\/duo-store\/backend@sha256:[0-9a-f]{64}$/);
        assert.match(
            String(named(rec, T.container, "prod-web-1-web-app").inputs.image),
            /^ghcr\.io\/duo-store\/storefront@sha256:[0-9a-f]{64}$/,
        );
        const labels = api.inputs.labels as { label: string; value: string }[];
        assert.ok(
            labels.some((l) => l.label === "platform.service" && l.value === "api"),
            JSON.stringify(labels),
        );
    });

    it("only the services that need them get DATABASE_URL and secrets", async () => {
        const rec = await recordTeam("duo", "prod");
        const names = (c: string) => {
            const r = named(rec, T.container, c);
            assert.ok(r.secretInputs.includes("envs"), `${c}: env is a secret input`);
            return (r.inputs.envs as string[]).map((e) => e.split("=")[0]).sort();
        };
        const api = names("prod-web-1-api-app");
        for (const k of ["DATABASE_URL", "SESSION_SECRET", "STRIPE_API_KEY", "FEATURE_CHECKOUT_V2"])
            assert.ok(api.includes(k), `${k} in ${api}`);
        const web = names("prod-web-1-web-app");
        for (const k of ["DATABASE_URL", "SESSION_SECRET", "STRIPE_API_KEY"])
            assert.ok(!web.includes(k), `${k} must not reach web: ${web}`);
        assert.ok(web.includes("PORT=8080".split("=")[0]));
        assert.ok((named(rec, T.container, "prod-web-1-web-app").inputs.envs as string[]).includes("PORT=8080"));
    });

    it("each service is cut over with its own health gate, verify listener and record", async () => {
        const rec = await recordTeam("duo", "prod");
        const api = envOf(rec, T.command, "prod-web-1-api-cutover");
        const web = envOf(rec, T.command, "prod-web-1-web-cutover");
        assert.deepStrictEqual(
            [api.SERVICE, api.HEALTH, api.HEALTH_PATH, api.APP_PORT],
            ["api", "http", "/api/v1/health", "3000"],
        );
        assert.deepStrictEqual(
            [web.SERVICE, web.HEALTH, web.HEALTH_PATH, web.APP_PORT, web.SMOKE],
            ["web", "none", undefined, "8080", "/=200"],
        );
        // api lists no smoke requests: each of its route prefixes must answer below 500.
        const apiPaths = services("prod").api.routes.map((r) => `/${r.split("/").slice(1).join("/")}`);
        assert.ok(apiPaths.length > 0);
        assert.deepStrictEqual(api.SMOKE.split(" ").sort(), [...new Set(apiPaths)].map((p) => `${p}=any`).sort());
        const cfg = proxyConfig(rec, "prod");
        assert.strictEqual(api.VERIFY_URL, `http://${cfg.apps.http.servers["verify-api"].listen[0]}`);
        assert.strictEqual(web.VERIFY_URL, `http://${cfg.apps.http.servers["verify-web"].listen[0]}`);
        assert.notStrictEqual(api.VERIFY_URL, web.VERIFY_URL);
        // web-2's cut-overs wait for both of web-1's.
        for (const svc of ["api", "web"]) {
            for (const first of ["prod-web-1-api-cutover", "prod-web-1-web-cutover"])
                assert.ok(waitsFor(rec, `prod-web-2-${svc}-app`, first), `prod-web-2-${svc}-app waits for ${first}`);
        }
    });

    it("the edge routes each host and path prefix to its service, longest prefix first, and the load balancer's check to api", async () => {
        const rec = await recordTeam("duo", "prod");
        const routes = proxyConfig(rec, "prod").apps.http.servers.edge.routes as {
            match?: Record<string, string[]>[];
            handle: { upstreams?: string }[];
        }[];
        const table = routes.map((r) => [
            r.match?.[0]?.host?.[0] ?? "*",
            (r.match?.[0]?.path ?? ["/"])[0],
            r.handle[0].upstreams ?? "404",
        ]);
        assert.deepStrictEqual(table, [
            ["api.duo-store.example", "/", "__PLATFORM_UPSTREAMS_api__"],
            ["app.duo-store.example", "/api", "__PLATFORM_UPSTREAMS_api__"],
            ["app.duo-store.example", "/", "__PLATFORM_UPSTREAMS_web__"],
            ["*", "/api/v1/health", "__PLATFORM_UPSTREAMS_api__"],
            ["*", "/", "404"],
        ]);
        assert.deepStrictEqual(routes[1].match![0].path, ["/api", "/api/*"]);
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: the real caddy accepts the routed config`, async () => {
            const rec = await recordTeam("duo", stack);
            const dir = tmpdir("caddy-services-");
            const file = path.join(dir, "caddy.json");
            const raw = envOf(rec, T.command, `${stack}-web-1-proxy-config`).PROXY_CONFIG;
            fs.writeFileSync(file, fillUpstreams(raw, { api: ["api-1:3000"], web: ["web-1:8080", "web-0:8080"] }));
            const res = spawnSync("caddy", ["validate", "--config", file], {
                encoding: "utf8",
                env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
            });
            assert.strictEqual(res.status, 0, `${res.stdout}${res.stderr}`);
        });
    }

    it("a deploy of one service changes only that service's containers and steps", async () => {
        const before = await recordTeam("duo", "prod");
        const bumped = { ...services("prod"), api: { ...services("prod").api, tag: "1.5.0" } };
        const after = await recordTeam("duo", "prod", { overrides: { services: JSON.stringify(bumped) } });
        const inputs = new Map(before.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
        const changed = after.resources
            .filter((r) => inputs.get(`${r.type}::${r.name}`) !== JSON.stringify(r.inputs))
            .map((r) => r.name);
        assert.ok(changed.length > 0);
        const strays = changed.filter((n) => !/-api-(app|worker|image|migrate|cutover|workers-check)$/.test(n));
        assert.deepStrictEqual(strays, [], "web, the proxy and the servers stay as they are");
        assert.ok(changed.includes("prod-web-1-api-app") && changed.includes("prod-web-2-api-app"));
    });

    it("exports the release as the set of every service's tag and digest", async () => {
        const rec = await recordTeam("duo", "prod");
        const release = rec.outputs.release as {
            services: Record<string, { tag: string; digest: string; repository: string }>;
        };
        assert.deepStrictEqual(Object.keys(release.services), ["api", "web"]);
        assert.strictEqual(release.services.web.tag, services("prod").web.tag);
        assert.match(release.services.api.digest, /^sha256:[0-9a-f]{64}$/);
    });
});

describe("services: a one-service team", () => {
    it("declares one entry: routed on both hosts, with the database, checked on the health path", () => {
        const s = parseSettings(source("prod"), "prod");
        assert.deepStrictEqual(
            s.services.map((x) => x.name),
            ["app"],
        );
        assert.deepStrictEqual(
            s.services[0].routes.map((r) => `${r.host}${r.path}`),
            [`${s.dns.frontendFqdn}/`, `${s.dns.apiFqdn}/`],
        );
        assert.strictEqual(s.services[0].health.kind, "http");
        assert.strictEqual(s.services[0].database, true);
        assert.deepStrictEqual(s.check, {
            host: s.dns.apiFqdn,
            path: (s.services[0].health as { path: string }).path,
            service: "app",
        });
        assert.strictEqual(s.urls.health, `https://${s.dns.apiFqdn}${s.check.path}`);
    });
});

describe("services: the edge's one health check", () => {
    const API = "api.example.test";
    const svc = (name: string, health: unknown, routes: string[]): ServiceSpec => ({
        ...({} as ServiceSpec),
        name,
        ...parseHealth(`platform:services.${name}.health`, health),
        routes: routes.map((r) => ({ host: r.split("/")[0], path: `/${r.split("/").slice(1).join("/")}` })),
    });

    it("probes the health path of the service answering the API host's root, else of one the API host routes its path to", () => {
        assert.deepStrictEqual(
            healthCheckOf(
                [svc("api", { path: "/healthz" }, [`${API}/`]), svc("web", { path: "/up" }, ["www.example.test/"])],
                API,
            ),
            { name: "api", path: "/healthz" },
        );
        assert.deepStrictEqual(
            healthCheckOf([svc("api", { path: "/v1/health" }, [`${API}/v1`]), svc("web", "none", [`${API}/`])], API),
            { name: "api", path: "/v1/health" },
        );
        assert.deepStrictEqual(
            healthCheckOf([svc("api", { command: ["/bin/check"], path: "/healthz" }, [`${API}/`])], API),
            { name: "api", path: "/healthz" },
            "a Docker-gated service names its path beside the command",
        );
    });

    it("refuses a stack whose API host answers no service's own health path, naming why", () => {
        assert.throws(
            () => healthCheckOf([svc("api", { command: ["/bin/check"] }, [`${API}/`])], API),
            /api answers api\.example\.test but its health \(docker\) names no path/,
        );
        assert.throws(
            () =>
                healthCheckOf([svc("api", { path: "/healthz" }, [`${API}/v2`]), svc("web", "none", [`${API}/`])], API),
            /web answers api\.example\.test but its health \(none\) names no path/,
        );
    });
});

describe("services: the offline plan shows them", () => {
    it("lists each service's image, routes, health gate, migrations and workers", async () => {
        const { plannedServices } = await import("../tools/plan");
        const { FIXTURES } = await import("./helpers");
        const planned = plannedServices("prod", FIXTURES.duo);
        assert.deepStrictEqual(
            planned.map((s) => [s.name, s.routes, s.health, s.migrates, s.workers]),
            [
                [
                    "api",
                    ["app.duo-store.example/api", "api.duo-store.example/"],
                    "GET /api/v1/health = 200",
                    true,
                    ["worker"],
                ],
                ["web", ["app.duo-store.example/"], "any answer below 500", false, []],
            ],
        );
        assert.deepStrictEqual(
            plannedServices("prod", FIXTURES.sample).map((s) => [s.name, s.routes]),
            [["app", ["app.acme-shop.com/", "api.acme-shop.com/"]]],
        );
    });
});

describe("services: the post-deploy check asks each service where it is routed", () => {
    it("health on the API host, each smoke request on a host that reaches its service", async () => {
        const { publicRequests } = await import("../tools/lib/verify");
        const s = parseSettings(source("prod", {}, { team: "duo" }), "prod");
        assert.deepStrictEqual(publicRequests(s), [
            { origin: "https://api.duo-store.example", path: "/api/v1/health", status: 200 },
            { origin: "https://app.duo-store.example", path: "/", status: 200 },
        ]);
    });
});
