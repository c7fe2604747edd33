/**
 * Benchmark of the edge proxy: the real caddy with the generated config in front of a
 * local stand-in app, measured against the app directly, and during a cut-over done by the
 * real cut-over script. Prints requests per second, failed requests and p50/p99 latency.
 * Goals: at least 200 req/s with 0 failures through a cut-over, proxy p99 overhead < 2 ms.
 * Traffic stays on 127.0.0.1; every loop is bounded in count and time.
 *
 *   npm run bench:proxy [-- --seconds 5 --concurrency 8]
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { script, SLOTS } from "../infra/app";
import { AppVersion, freePort, HEALTH_PATH, LoopResult, percentile, requestLoop, startControl, startProxy, startVersion } from "../tools/lib/proxylab";

const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("seconds", 5);
const concurrency = arg("concurrency", 8);
/** Latency is compared at a steady rate well above the goal; throughput at saturation. */
const rate = arg("rate", 400);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function report(label: string, r: LoopResult) {
    const rps = r.total / r.seconds;
    console.log(`  ${label.padEnd(22)} ${String(r.total).padStart(7)} req  ${rps.toFixed(0).padStart(6)} req/s  failed ${r.failures.length}  p50 ${percentile(r.latencies, 50).toFixed(2)} ms  p99 ${percentile(r.latencies, 99).toFixed(2)} ms`);
    return { rps, p99: percentile(r.latencies, 99), failed: r.failures.length };
}

/**
 * Latency direct and through the proxy, measured in one paced loop that alternates the two,
 * so both see the same machine noise (client, proxy and app share two cores).
 */
async function pairedLatency(directPort: number, proxyPort: number, ratePerSecond: number, totalSeconds: number) {
    const agents = [new http.Agent({ keepAlive: true }), new http.Agent({ keepAlive: true })];
    const ports = [directPort, proxyPort];
    const lat: number[][] = [[], []];
    const failures = [0, 0];
    const total = Math.floor(ratePerSecond * totalSeconds);
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
        while (next < total) {
            const n = next++;
            const wait = t0 + (n * 1000) / ratePerSecond - Date.now();
            if (wait > 0) await sleep(wait);
            const side = n % 2;
            const start = process.hrtime.bigint();
            await new Promise<void>((resolve) => {
                const req = http.get({ host: "127.0.0.1", port: ports[side], path: "/", agent: agents[side], timeout: 5000 }, (res) => {
                    res.resume();
                    res.on("end", () => {
                        if (res.statusCode === 200) lat[side].push(Number(process.hrtime.bigint() - start) / 1e6);
                        else failures[side]++;
                        resolve();
                    });
                });
                req.on("error", () => { failures[side]++; resolve(); });
            });
        }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    for (const a of agents) a.destroy();
    return { direct: lat[0], proxied: lat[1], failures };
}

async function main() {
    const slotPorts: Record<string, number> = {};
    for (const s of SLOTS) slotPorts[`app-${s}`] = await freePort();
    const versions: AppVersion[] = [];
    const control = await startControl(() => versions, slotPorts);
    const old = await startVersion("old");
    versions.push(old);
    await old.expose(slotPorts["app-blue"]);
    const proxy = await startProxy(SLOTS.map((s) => `127.0.0.1:${slotPorts[`app-${s}`]}`));
    await sleep(600);
    const bounds = { concurrency, maxRequests: 1_000_000, maxSeconds: seconds };

    console.log(`edge proxy benchmark: ${seconds} s per phase, ${concurrency} keep-alive clients, 127.0.0.1 only`);
    console.log(`latency at a steady ${rate} req/s, direct and proxied requests interleaved:`);
    const paired = await pairedLatency(slotPorts["app-blue"], proxy.port, rate, seconds * 2);
    const line = (label: string, l: number[], failed: number) =>
        console.log(`  ${label.padEnd(22)} ${String(l.length).padStart(7)} req  failed ${failed}  p50 ${percentile(l, 50).toFixed(2)} ms  p99 ${percentile(l, 99).toFixed(2)} ms`);
    line("direct to app", paired.direct, paired.failures[0]);
    line("through caddy", paired.proxied, paired.failures[1]);
    const direct = { p99: percentile(paired.direct, 99) };
    const proxied = { p99: percentile(paired.proxied, 99) };
    console.log("throughput at saturation (client, proxy and app share the machine's cores):");
    report("direct to app", await requestLoop(slotPorts["app-blue"], bounds, timer(seconds * 1000)));
    report("through caddy", await requestLoop(proxy.port, bounds, timer(seconds * 1000)));

    // A cut-over under load, done by the real script with docker faked as in the tests.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-docker-"));
    fs.mkdirSync(path.join(root, "bin"));
    fs.symlinkSync(path.join(__dirname, "..", "test", "fixtures", "fake-docker"), path.join(root, "bin", "docker"));
    // The old version holds app-blue, as a previous cut-over recorded it.
    fs.mkdirSync(path.join(root, "config"));
    fs.writeFileSync(path.join(root, "config", "platform-live-slot"), "blue\n");
    const next = await startVersion("new");
    versions.push(next);
    // This loop runs until the old version has stopped, whatever --seconds says.
    let finish!: () => void;
    const loop = requestLoop(proxy.port, { ...bounds, maxSeconds: 60 }, new Promise<void>((resolve) => { finish = resolve; }));
    await sleep(500);
    const code = await new Promise<number | null>((resolve) => {
        const child = spawn("bash", ["-c", script("cutover")], {
            stdio: "ignore",
            env: {
                ...process.env, PATH: `${root}/bin:${process.env.PATH}`, SERVER: "bench", APP_CONTAINER: "app-new",
                PROXY_CONTAINER: "edge-proxy", NETWORK: "platform", HEALTH_TIMEOUT: "5", PROXY_SETTLE_SECONDS: "5",
                FAKE_HEALTH_URL: `http://127.0.0.1:${next.port}${HEALTH_PATH}`, FAKE_CONTROL_URL: control.url, FAKE_ROOT: root,
            },
        });
        child.on("close", resolve);
    });
    await old.stop(); // what Pulumi does once the cut-over has returned
    await sleep(1000);
    finish();
    const cut = report("through a cut-over", await loop);

    console.log(`  cut-over script exit ${code}; proxy p99 overhead ${(proxied.p99 - direct.p99).toFixed(2)} ms`);
    const ok = cut.failed === 0 && cut.rps >= 200 && proxied.p99 - direct.p99 < 2 && code === 0;
    console.log(ok ? "within goals (>= 200 req/s, 0 failures, p99 overhead < 2 ms)" : "OUTSIDE GOALS (>= 200 req/s, 0 failures, p99 overhead < 2 ms)");
    await proxy.stop();
    await next.stop();
    await control.stop();
}

main().catch((e: Error) => { console.error(`error: ${e.message}`); process.exitCode = 1; });
