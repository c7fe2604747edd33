/**
 * A local lab for the edge proxy without Docker: stand-in app versions as HTTP servers on
 * 127.0.0.1, a real `caddy` running the config the program generates, and a bounded
 * request loop (also used by the Docker lab and bench/lab.ts). Traffic never leaves loopback.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { caddyConfig } from "../../infra/app/caddy";

export const HEALTH_PATH = "/api/v1/health";

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export interface AppVersion {
    name: string;
    /** The container-private port its healthcheck probes. */
    port: number;
    /** Requests served on paths other than the health path. */
    served: number;
    /** Whether the health endpoint answers 200 (else 503). */
    healthy: boolean;
    /** Makes it reachable on another port too: what joining the proxy's network does. */
    expose(port: number): Promise<void>;
    /** Like `docker stop`: stop accepting, finish in-flight requests, close idle connections. */
    stop(): Promise<void>;
}

/** Starts a stand-in app version answering `name` on every path. */
export async function startVersion(name: string, healthy = true): Promise<AppVersion> {
    const servers: http.Server[] = [];
    const sockets = new Set<net.Socket>();
    let closing = false;
    const handler: http.RequestListener = (req, res) => {
        // While stopping, finish this request but close its connection after it.
        if (closing) res.setHeader("connection", "close");
        if (req.url === HEALTH_PATH) {
            res.writeHead(v.healthy ? 200 : 503, { "content-type": "text/plain" }).end(v.healthy ? "ok" : "unhealthy");
            return;
        }
        v.served++;
        res.writeHead(200, { "content-type": "text/plain" }).end(name);
    };
    const listen = async (port: number) => {
        const server = http.createServer(handler);
        server.keepAliveTimeout = 5000;
        server.on("connection", (sock) => {
            sockets.add(sock);
            sock.on("close", () => sockets.delete(sock));
        });
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, "127.0.0.1", () => {
                server.off("error", reject);
                resolve();
            });
        });
        servers.push(server);
    };
    const v: AppVersion = {
        name,
        port: await freePort(),
        served: 0,
        healthy,
        expose: listen,
        stop: async () => {
            closing = true;
            const closed = Promise.all(
                servers.map(
                    (srv) =>
                        new Promise<void>((resolve) => {
                            srv.close(() => resolve());
                            srv.closeIdleConnections();
                        }),
                ),
            );
            // Like docker's stop timeout: connections still open after the grace period are cut.
            const grace = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
            await Promise.race([closed, grace]);
            for (const sock of sockets) sock.destroy();
            await closed;
        },
    };
    await listen(v.port);
    return v;
}

export interface Proxy {
    port: number;
    adminPort: number;
    stop(): Promise<void>;
    log(): string;
}

/** Starts the real caddy with the generated config in test mode (no ACME). */
export async function startProxy(upstreams: string[]): Promise<Proxy> {
    const port = await freePort();
    const adminPort = await freePort();
    const verifyPort = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "caddy-lab-"));
    const configFor = (ups: string[]) =>
        JSON.stringify(
            caddyConfig({
                mode: { kind: "test", listen: `127.0.0.1:${port}` },
                routes: [{ path: "/", service: "app" }],
                upstreams: { app: ups },
                adminListen: `127.0.0.1:${adminPort}`,
                verifyPort,
            }),
        );
    const file = path.join(dir, "caddy.json");
    fs.writeFileSync(file, configFor(upstreams));
    let output = "";
    const child: ChildProcess = spawn("caddy", ["run", "--config", file], {
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => {
        output += d;
    });
    child.stderr!.on("data", (d) => {
        output += d;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
        const up = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1", () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`caddy did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return {
        port,
        adminPort,
        log: () => output,
        stop: () =>
            new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                child.on("exit", () => resolve());
                child.kill("SIGTERM");
                setTimeout(() => child.kill("SIGKILL"), 3000).unref();
            }),
    };
}

export interface LoopResult {
    total: number;
    failures: string[];
    /** When each failure happened (ms since the epoch), in the order of `failures`. */
    failedAt: number[];
    /** GETs sent on a reused connection the server had just closed, retried once (see requestLoop). */
    keepAliveRetries: number;
    /** Response body → count. */
    bodies: Record<string, number>;
    /** Per-request latency in ms. */
    latencies: number[];
    seconds: number;
}

/**
 * Sends requests with `concurrency` workers until `stop()` resolves, `maxRequests` are sent
 * or `maxSeconds` pass, whichever comes first. Bounded in count and time by design.
 */
export function requestLoop(
    port: number,
    opts: {
        concurrency: number;
        maxRequests: number;
        maxSeconds: number;
        path?: string;
        ratePerSecond?: number;
        host?: string;
        /** The Host header to send (routing by host); the connection still goes to `host`. */
        hostHeader?: string;
        /**
         * Called with each 200 response's body, the time it arrived and the time its request
         * was sent (ms since the epoch): a request sent before a switch may be answered after it.
         */
        onBody?: (body: string, at: number, sentAt: number) => void;
    },
    stop: Promise<void>,
): Promise<LoopResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
    const result: LoopResult = {
        total: 0,
        failures: [],
        failedAt: [],
        keepAliveRetries: 0,
        bodies: {},
        latencies: [],
        seconds: 0,
    };
    const started = process.hrtime.bigint();
    const deadline = Date.now() + opts.maxSeconds * 1000;
    let stopped = false;
    void stop.then(() => {
        stopped = true;
    });
    const one = (retry = false): Promise<void> =>
        new Promise<void>((resolve) => {
            const t0 = process.hrtime.bigint();
            const sentAt = Date.now();
            const headers = opts.hostHeader ? { host: opts.hostHeader } : undefined;
            const req = http.get(
                {
                    host: opts.host ?? "127.0.0.1",
                    port,
                    path: opts.path ?? "/",
                    headers,
                    agent: retry ? false : agent,
                    timeout: 5000,
                },
                (res) => {
                    let body = "";
                    res.setEncoding("utf8");
                    res.on("data", (c) => {
                        body += c;
                    });
                    res.on("end", () => {
                        result.latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
                        if (res.statusCode !== 200) {
                            result.failures.push(`${res.statusCode} ${body.slice(0, 80)}`);
                            result.failedAt.push(Date.now());
                        } else {
                            result.bodies[body] = (result.bodies[body] ?? 0) + 1;
                            opts.onBody?.(body, Date.now(), sentAt);
                        }
                        resolve();
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", (e) => {
                // The keep-alive race: the server closed an idle connection (a graceful config
                // reload does) just as this request was written on it. Browsers and Node's own
                // docs retry a GET once on a fresh connection in exactly this case; so does this
                // client, and it counts them (they are reported, not hidden).
                if (
                    req.reusedSocket &&
                    !retry &&
                    ["ECONNRESET", "EPIPE"].includes((e as NodeJS.ErrnoException).code ?? "")
                ) {
                    result.keepAliveRetries++;
                    one(true).then(resolve);
                    return;
                }
                result.failures.push(
                    `${e.message}${req.reusedSocket ? " (on a reused connection)" : ""}${retry ? " (retry)" : ""}`,
                );
                result.failedAt.push(Date.now());
                resolve();
            });
        });
    const t0 = Date.now();
    const worker = async () => {
        while (!stopped && result.total < opts.maxRequests && Date.now() < deadline) {
            const n = result.total++;
            if (opts.ratePerSecond) {
                // Paced: request n starts no earlier than n/rate seconds in, so latency is
                // measured at a steady load rather than at saturation.
                const wait = t0 + (n * 1000) / opts.ratePerSecond - Date.now();
                if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            }
            await one();
        }
    };
    return Promise.all(Array.from({ length: opts.concurrency }, worker)).then(() => {
        agent.destroy();
        result.seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return result;
    });
}

export function percentile(values: number[], p: number): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
