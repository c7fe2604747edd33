/**
 * The edge proxy's routing rules, on the real caddy (Debian's package) without Docker: what
 * the cut-over relies on when it lists `[new, previous]` as upstreams. The switch itself,
 * with containers and faults, is tested on a real Docker engine (test/lab, `npm run test:lab`).
 */
import * as assert from "assert";
import { requestLoop, startProxy, startVersion } from "./lab/proxylab";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("edge proxy: real caddy, generated config", function () {
    this.timeout(60_000);
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
        for (const c of cleanup.splice(0).reverse()) await c();
    });

    async function loop(port: number, ms: number, during?: () => Promise<void>) {
        let finish!: () => void;
        const run = requestLoop(
            port,
            { concurrency: 4, maxRequests: 5000, maxSeconds: 20 },
            new Promise<void>((r) => {
                finish = r;
            }),
        );
        await sleep(100);
        if (during) await during();
        await sleep(ms);
        finish();
        return run;
    }

    it("sends every request to the first upstream while it answers; the second only stands by", async () => {
        const a = await startVersion("new");
        const b = await startVersion("previous");
        cleanup.push(
            () => a.stop(),
            () => b.stop(),
        );
        const proxy = await startProxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
        cleanup.push(() => proxy.stop());
        const res = await loop(proxy.port, 500);
        assert.deepStrictEqual(res.failures, []);
        assert.deepStrictEqual(Object.keys(res.bodies), ["new"]);
        assert.strictEqual(b.served, 0);
    });

    it("falls back to the second upstream when the first stops accepting, with no failed request", async () => {
        const a = await startVersion("new");
        const b = await startVersion("previous");
        cleanup.push(() => b.stop());
        const proxy = await startProxy([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
        cleanup.push(() => proxy.stop());
        const res = await loop(proxy.port, 800, () => a.stop());
        assert.deepStrictEqual(res.failures, []);
        assert.ok(res.bodies.new > 0 && res.bodies.previous > 0, JSON.stringify(res.bodies));
    });

    it("passes a 503 from the only upstream on, and keeps routing to it (no ejection on status)", async () => {
        const { createServer } = await import("http");
        let n = 0;
        const srv = createServer((_req, res) => {
            n++;
            res.writeHead(n === 5 ? 503 : 200).end(n === 5 ? "blip" : "ok");
        });
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
        cleanup.push(
            () =>
                new Promise((r) => {
                    srv.closeAllConnections();
                    srv.close(() => r());
                }),
        );
        const port = (srv.address() as { port: number }).port;
        const proxy = await startProxy([`127.0.0.1:${port}`]);
        cleanup.push(() => proxy.stop());
        const res = await loop(proxy.port, 500);
        assert.deepStrictEqual(res.failures, ["503 blip"]);
        assert.ok(res.bodies.ok > 50, JSON.stringify(res.bodies));
    });
});
