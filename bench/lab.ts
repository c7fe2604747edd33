/**
 * `npm run bench:lab [-- --rate <req/s>] [--json]`: the deploy path measured on the Docker
 * lab (test/lab/dockerlab.ts: its own dockerd, the real Caddy in a container, the
 * project's on-server scripts). Not a timed test: it prints figures for the README.
 *
 *  - requests failed through a deploy (v1 -> v2) and a rollback (v2 -> v1 again), at a
 *    steady rate, with keep-alive retries counted separately;
 *  - time from "new container started" to "serving all traffic" (the last response from
 *    the old release);
 *  - proxy p50/p99 overhead: the same paced load through Caddy and straight to the app
 *    container, interleaved in the same run.
 *
 * Needs root, Debian's docker.io and Go (like `npm run test:lab`). Exit codes: 0 printed,
 * 1 a deploy or rollback failed, 2 the lab could not start.
 */
import { DockerLab } from "../test/lab/dockerlab";
import { LoopResult, percentile, requestLoop } from "../test/lab/proxylab";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HELP = `Usage: npm run bench:lab [-- --rate <req/s>] [--json]
Measures deploy and rollback failures, switch time and proxy overhead on the Docker lab (root).`;

interface Switch {
    failed: number;
    keepAliveRetries: number;
    total: number;
    startedToAllNewMs: number;
    cutoverMs: number;
    sample: string[];
}

async function main(argv: string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(HELP);
        return 0;
    }
    const json = argv.includes("--json");
    const rateArg = argv.indexOf("--rate");
    const rate = rateArg >= 0 ? Number(argv[rateArg + 1]) : 400;
    if (!Number.isInteger(rate) || rate < 10 || rate > 5000) {
        console.error(`error: --rate ${argv[rateArg + 1]} is not valid; expected 10-5000 req/s`);
        return 2;
    }
    const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);

    let lab: DockerLab;
    try {
        lab = await DockerLab.start();
    } catch (e) {
        console.error(`error: ${(e as Error).message.split("\n")[0]}`);
        return 2;
    }
    try {
        const { proxyIp } = await lab.server();
        await lab.release("v1");
        const first = await lab.script("cutover", lab.cutoverEnv("v1")).done;
        if (first.status !== 0) throw new Error(first.stderr);

        /** One switch to `next` (a new container) under load; Pulumi then removes `old`. */
        const switchTo = async (next: string, old: string): Promise<Switch> => {
            let lastOld = 0;
            let finish!: () => void;
            const loop = requestLoop(
                80,
                {
                    host: proxyIp,
                    concurrency: 16,
                    maxRequests: 200_000,
                    maxSeconds: 120,
                    ratePerSecond: rate,
                    onBody: (body, at) => {
                        if (body === old) lastOld = Math.max(lastOld, at);
                    },
                },
                new Promise<void>((r) => {
                    finish = r;
                }),
            );
            await sleep(1000);
            await lab.release(next, { VERSION: next.replace(/-.*/, "") === "v1" ? "v1-again" : next });
            const started = Date.now();
            const run = await lab.script("cutover", lab.cutoverEnv(next)).done;
            const cutoverMs = Date.now() - started;
            if (run.status !== 0) throw new Error(`cut-over to ${next} failed: ${run.stderr}`);
            await lab.remove(old);
            await sleep(1000);
            finish();
            const res: LoopResult = await loop;
            return {
                failed: res.failures.length,
                keepAliveRetries: res.keepAliveRetries,
                total: res.total,
                startedToAllNewMs: lastOld - started,
                cutoverMs,
                sample: res.failures.slice(0, 3),
            };
        };
        log(`deploy v1 -> v2 at ${rate} req/s ...`);
        const deploy = await switchTo("v2", "v1");
        log(`rollback v2 -> v1 (a new container of the previous release) ...`);
        const rollback = await switchTo("v1-rollback", "v2");

        // Overhead: the same paced load straight to the app container and through the proxy.
        const appIp = await lab.ip("v1-rollback");
        const direct: number[] = [];
        const proxied: number[] = [];
        for (let round = 0; round < 3; round++) {
            for (const [host, port, into] of [
                [appIp, 3000, direct],
                [proxyIp, 80, proxied],
            ] as const) {
                const r = await requestLoop(
                    port,
                    { host, concurrency: 8, maxRequests: rate * 4, maxSeconds: 4, ratePerSecond: rate },
                    new Promise(() => undefined),
                );
                into.push(...r.latencies.slice(Math.floor(r.latencies.length / 10))); // drop connection warm-up
            }
        }
        const p = (v: number[], q: number) => Math.round(percentile(v, q) * 100) / 100;
        const overhead = {
            directP50: p(direct, 50),
            proxyP50: p(proxied, 50),
            directP99: p(direct, 99),
            proxyP99: p(proxied, 99),
            p99OverheadMs: Math.round((p(proxied, 99) - p(direct, 99)) * 100) / 100,
        };
        const report = { date: new Date().toISOString().slice(0, 10), ratePerSecond: rate, deploy, rollback, overhead };
        if (json) console.log(JSON.stringify(report, null, 2));
        else {
            for (const [name, s] of [
                ["deploy", deploy],
                ["rollback", rollback],
            ] as const) {
                log(
                    `${name}: ${s.failed} of ${s.total} requests failed (${s.keepAliveRetries} keep-alive retries); new container started -> serving all traffic ${(s.startedToAllNewMs / 1000).toFixed(2)} s; cut-over returned after ${(s.cutoverMs / 1000).toFixed(2)} s${s.sample.length ? `; e.g. ${s.sample.join(" | ")}` : ""}`,
                );
            }
            log(
                `proxy overhead at ${rate} req/s: p50 ${overhead.directP50} -> ${overhead.proxyP50} ms, p99 ${overhead.directP99} -> ${overhead.proxyP99} ms (+${overhead.p99OverheadMs} ms; goal < 2 ms)`,
            );
        }
        return deploy.failed + rollback.failed === 0 ? 0 : 1;
    } catch (e) {
        console.error(`error: ${(e as Error).message.split("\n")[0]}`);
        return 1;
    } finally {
        await lab.stop();
    }
}

main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
