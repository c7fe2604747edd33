/**
 * The edge proxy for real: caddy (Debian's package) runs the config the program generates,
 * in front of local stand-ins for the old and new app versions, while the project's own
 * cut-over script puts the new one into service. Every request must succeed.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { script, SLOTS } from "../infra/app";
import { AppVersion, freePort, HEALTH_PATH, requestLoop, startControl, startProxy, startVersion } from "../tools/lib/proxylab";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
    slotPorts: Record<string, number>;
    versions: AppVersion[];
    /** Runs infra/app/scripts/cutover.sh as the deploy does, with docker faked locally. */
    cutover(next: AppVersion, timeoutSeconds?: number): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

async function rig(cleanup: (() => Promise<void>)[]): Promise<Rig> {
    const slotPorts: Record<string, number> = {};
    for (const s of SLOTS) slotPorts[`app-${s}`] = await freePort();
    const versions: AppVersion[] = [];
    const control = await startControl(() => versions, slotPorts);
    cleanup.push(() => control.stop());
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
    fs.mkdirSync(path.join(root, "bin"));
    fs.symlinkSync(path.join(__dirname, "fixtures", "fake-docker"), path.join(root, "bin", "docker"));
    return {
        slotPorts, versions,
        // Asynchronous on purpose: the stand-ins and the request loop live in this process
        // and must keep serving while the script runs.
        cutover: (next, timeoutSeconds = 3) => new Promise((resolve) => {
            const child = spawn("bash", ["-c", script("cutover")], {
                timeout: 20_000,
                env: {
                    ...process.env, PATH: `${root}/bin:${process.env.PATH}`,
                    SERVER: "test-web-1", APP_CONTAINER: `app-${next.name}`, PROXY_CONTAINER: "edge-proxy",
                    NETWORK: "platform", HEALTH_TIMEOUT: String(timeoutSeconds), PROXY_SETTLE_SECONDS: "0.3",
                    FAKE_HEALTH_URL: `http://127.0.0.1:${next.port}${HEALTH_PATH}`, FAKE_CONTROL_URL: control.url, FAKE_ROOT: root,
                },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => { stdout += d; });
            child.stderr.on("data", (d) => { stderr += d; });
            child.on("close", (status) => resolve({ status, stdout, stderr }));
        }),
    };
}

describe("edge proxy: real caddy, real cut-over script", function () {
    this.timeout(60_000);
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

    async function serving(r: Rig) {
        const proxy = await startProxy(SLOTS.map((s) => `127.0.0.1:${r.slotPorts[`app-${s}`]}`), "100ms");
        cleanup.push(() => proxy.stop());
        const old = await startVersion("old");
        r.versions.push(old);
        cleanup.push(() => old.stop());
        // The live version holds a slot, as a previous cut-over left it.
        const first = await r.cutover(old);
        assert.strictEqual(first.status, 0, first.stderr);
        await sleep(300); // the proxy's active checks see the slot healthy
        return { proxy, old };
    }

    it("switches from the old to the new version with no failed request", async () => {
        const r = await rig(cleanup);
        const { proxy, old } = await serving(r);
        let finish!: () => void;
        const loop = requestLoop(proxy.port, { concurrency: 4, maxRequests: 5000, maxSeconds: 20 }, new Promise<void>((res) => { finish = res; }));
        await sleep(200);

        const next = await startVersion("new");
        r.versions.push(next);
        cleanup.push(() => next.stop());
        const res = await r.cutover(next);
        assert.strictEqual(res.status, 0, `${res.stdout}${res.stderr}\n${proxy.log()}`);
        assert.match(res.stdout, /test-web-1: app-new now serves as app-green/);
        await sleep(300);
        await old.stop(); // Pulumi removes the replaced container after the cut-over
        const servedByOld = old.served;
        await sleep(400);
        finish();
        const result = await loop;

        assert.deepStrictEqual(result.failures, [], `failed requests:\n${result.failures.slice(0, 5).join("\n")}`);
        assert.ok(result.total >= 100, `the bounded loop ran ${result.total} requests`);
        assert.ok(result.bodies.old > 0 && result.bodies.new > 0, JSON.stringify(result.bodies));
        assert.strictEqual(old.served, servedByOld, "nothing reaches the old version once it is gone");
    });

    it("alternates slots, so the next release goes back to blue", async () => {
        const r = await rig(cleanup);
        const { old } = await serving(r);
        const v2 = await startVersion("v2");
        r.versions.push(v2);
        cleanup.push(() => v2.stop());
        assert.match((await r.cutover(v2)).stdout, /app-v2 now serves as app-green/);
        await old.stop(); // Pulumi removes the replaced container, freeing blue
        const v3 = await startVersion("v3");
        r.versions.push(v3);
        cleanup.push(() => v3.stop());
        assert.match((await r.cutover(v3)).stdout, /app-v3 now serves as app-blue/);
    });

    it("never sends traffic to a new version whose health endpoint fails; the old one keeps serving", async () => {
        const r = await rig(cleanup);
        const { proxy } = await serving(r);
        let finish!: () => void;
        const loop = requestLoop(proxy.port, { concurrency: 4, maxRequests: 3000, maxSeconds: 20 }, new Promise<void>((res) => { finish = res; }));
        await sleep(200);
        const bad = await startVersion("bad", false);
        r.versions.push(bad);
        cleanup.push(() => bad.stop());
        const res = await r.cutover(bad, 1);
        await sleep(300);
        finish();
        const result = await loop;

        assert.strictEqual(res.status, 1);
        assert.match(res.stderr, /app container app-bad on test-web-1 failed its health check \(status: unhealthy\); traffic stays on the previous version/);
        assert.match(res.stderr, /See its logs: ssh deploy@test-web-1 docker logs --tail 200 app-bad/);
        assert.deepStrictEqual(result.failures, []);
        assert.strictEqual(bad.served, 0);
        assert.deepStrictEqual(Object.keys(result.bodies), ["old"]);
    });

    it("takes an upstream out of rotation when its health endpoint starts failing", async () => {
        const r = await rig(cleanup);
        const a = await startVersion("a");
        const b = await startVersion("b");
        cleanup.push(() => a.stop(), () => b.stop());
        await a.expose(r.slotPorts["app-blue"]);
        await b.expose(r.slotPorts["app-green"]);
        const proxy = await startProxy([`127.0.0.1:${r.slotPorts["app-blue"]}`, `127.0.0.1:${r.slotPorts["app-green"]}`], "100ms");
        cleanup.push(() => proxy.stop());
        await sleep(300);

        let finish!: () => void;
        const loop = requestLoop(proxy.port, { concurrency: 2, maxRequests: 3000, maxSeconds: 20 }, new Promise<void>((res) => { finish = res; }));
        await sleep(200);
        a.healthy = false;
        await sleep(400); // a few check intervals
        const servedByA = a.served;
        await sleep(400);
        finish();
        const result = await loop;

        assert.deepStrictEqual(result.failures, []);
        assert.ok(servedByA > 0, "a served before it turned unhealthy");
        assert.strictEqual(a.served, servedByA, "no traffic to a once its health check fails");
        assert.ok(b.served > 0);
    });
});
