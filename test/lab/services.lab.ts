/**
 * Several services behind one proxy, on a real Docker engine (test/lab/dockerlab.ts): the
 * program's host and path routes in the real Caddy, each service cut over on its own by the
 * project's scripts, and bounded request loops on every route. Also the move from one image
 * to services: the proxy's new routes keep sending each service's traffic to the old
 * single-image release until that service's first cut-over.
 */
import * as assert from "assert";
import * as http from "http";
import { DockerLab, ScriptRun } from "./dockerlab";
import { lab as sharedLab } from "./hooks";
import { LoopResult, requestLoop } from "./proxylab";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sample team's routes: the site at /, its API under /api and on its own host. */
const ROUTES = [
    { host: "shop.lab.test", path: "/", service: "web" },
    { host: "shop.lab.test", path: "/api", service: "api" },
    { host: "api.lab.test", path: "/", service: "api" },
];
/** Each route as a request: host header and path. */
const PROBES = [
    { route: "shop.lab.test/", hostHeader: "shop.lab.test", path: "/" },
    { route: "shop.lab.test/api", hostHeader: "shop.lab.test", path: "/api/v1/products" },
    { route: "api.lab.test/", hostHeader: "api.lab.test", path: "/v1/products" },
];

describe("several services on a real Docker engine", function () {
    let lab: DockerLab;
    let proxyIp: string;
    before(() => {
        lab = sharedLab();
    });
    afterEach(() => {
        if (lab) lab.routes = [{ path: "/", service: "app" }];
    });

    const why = (r: ScriptRun) => `${r.stdout}${r.stderr}`;

    /** A loop per route until the returned function is called: what answered each, and what failed. */
    function loadAll(): () => Promise<Record<string, LoopResult>> {
        let finish!: () => void;
        const stop = new Promise<void>((r) => {
            finish = r;
        });
        const loops = PROBES.map((p) =>
            requestLoop(
                80,
                {
                    host: proxyIp,
                    hostHeader: p.hostHeader,
                    path: p.path,
                    concurrency: 2,
                    maxRequests: 10_000,
                    maxSeconds: 90,
                    ratePerSecond: 100,
                },
                stop,
            ),
        );
        return async () => {
            finish();
            const res = await Promise.all(loops);
            return Object.fromEntries(PROBES.map((p, i) => [p.route, res[i]]));
        };
    }

    async function cutover(app: string, service: string, extra: Record<string, string> = {}): Promise<void> {
        const r = await lab.script("cutover", lab.cutoverEnv(app, extra, service)).done;
        assert.strictEqual(r.status, 0, why(r));
    }

    async function twoServices(): Promise<void> {
        await lab.reset();
        lab.routes = ROUTES;
        ({ proxyIp } = await lab.server());
        await lab.release("web-v1");
        await lab.release("api-v1");
        await cutover("web-v1", "web");
        await cutover("api-v1", "api");
    }

    it("routes each host and path to its service; a path no route claims gets 404", async function () {
        this.timeout(120_000);
        await twoServices();
        const stop = loadAll();
        await sleep(1000);
        const res = await stop();
        assert.deepStrictEqual(Object.keys(res["shop.lab.test/"].bodies), ["web-v1"]);
        assert.deepStrictEqual(Object.keys(res["shop.lab.test/api"].bodies), ["api-v1"]);
        assert.deepStrictEqual(Object.keys(res["api.lab.test/"].bodies), ["api-v1"]);
        for (const [route, r] of Object.entries(res)) assert.deepStrictEqual(r.failures, [], route);
        const other = await requestOnce(proxyIp, "other.lab.test", "/");
        assert.strictEqual(other, 404);
    });

    it("a deploy of one service drops no request on any route and moves only that service", async function () {
        this.timeout(120_000);
        await twoServices();
        const stop = loadAll();
        await sleep(300);
        await lab.release("api-v2");
        await cutover("api-v2", "api");
        const removed = lab.remove("api-v1");
        await sleep(500);
        await removed;
        const res = await stop();
        for (const [route, r] of Object.entries(res)) assert.deepStrictEqual(r.failures, [], route);
        assert.deepStrictEqual(
            Object.keys(res["shop.lab.test/"].bodies),
            ["web-v1"],
            "the web route never saw the api deploy",
        );
        assert.ok(
            res["api.lab.test/"].bodies["api-v2"] > 0 && res["shop.lab.test/api"].bodies["api-v2"] > 0,
            JSON.stringify(res),
        );
        assert.strictEqual(await lab.upstreams("api"), "api-v2:3000 api-v1:3000");
        assert.strictEqual(await lab.upstreams("web"), "web-v1:3000");
    });

    it("health `none` (a static site) and `command` (Docker's healthcheck) gate the cut-over too", async function () {
        this.timeout(120_000);
        await twoServices();
        // A static site without a health endpoint: any answer below 500 at / will do; a 500 will not.
        await lab.release("web-v2", { PAGE_STATUS: "404" });
        await cutover("web-v2", "web", { HEALTH: "none", HEALTH_PATH: "", SMOKE: "" });
        await lab.release("web-bad", { PAGE_STATUS: "500" });
        const bad = await lab.script(
            "cutover",
            lab.cutoverEnv("web-bad", { HEALTH: "none", HEALTH_PATH: "", SMOKE: "", HEALTH_TIMEOUT: "4" }, "web"),
        ).done;
        assert.notStrictEqual(bad.status, 0);
        assert.match(bad.stderr, /GET \/ did not answer \(any status below 500\)/);
        assert.strictEqual((await lab.upstreams("web")).split(" ")[0], "web-v2:3000");
        // Docker's healthcheck: healthy passes, failing does not.
        const hc = "lab/app-healthcheck:1";
        await lab.release("api-v2", {}, hc);
        await cutover("api-v2", "api", { HEALTH: "docker", HEALTH_PATH: "" });
        await lab.release("api-sick", { HEALTH: "fail" }, hc);
        const sick = await lab.script(
            "cutover",
            lab.cutoverEnv("api-sick", { HEALTH: "docker", HEALTH_PATH: "", HEALTH_TIMEOUT: "6" }, "api"),
        ).done;
        assert.notStrictEqual(sick.status, 0);
        assert.match(sick.stderr, /its healthcheck command did not report healthy/);
        assert.strictEqual((await lab.upstreams("api")).split(" ")[0], "api-v2:3000");
    });
});

/** One GET with a Host header; its status. */
function requestOnce(ip: string, host: string, path: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: ip, port: 80, path, headers: { host }, timeout: 5000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
    });
}
