/**
 * `npm run lab:legacy [-- --json]`: replays the Docker lab's faults against the cut-over
 * this branch replaced (the scripts and Caddy config of commit BEFORE, read with `git
 * show`), laid out as that code laid out a droplet: two slot aliases, active and passive
 * health checks, a Docker healthcheck running wget inside the image, the provider's wait.
 * It is the "fails on today's scripts" half of issue 11's evidence; test/lab is the other
 * half. Prints, per fault: the old cut-over's exit, requests failed, and whether the bad
 * release answered users. Needs what `npm run test:lab` needs, plus this repository's git
 * history. Exit codes: 0 printed, 2 could not start.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DockerLab } from "../test/lab/dockerlab";
import { LoopResult, requestLoop } from "../test/lab/proxylab";

const BEFORE = "cd180b1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = path.join(__dirname, "..");
const old = (file: string) => execFileSync("git", ["show", `${BEFORE}:${file}`], { cwd: ROOT, encoding: "utf8" });

// What cd180b1's caddyConfig() rendered behind the load balancer (its upstreams, health checks and retries).
const OLD_CONFIG = {
    admin: { listen: "localhost:2019" },
    apps: {
        http: {
            servers: {
                edge: {
                    listen: [":80"],
                    automatic_https: { disable: true },
                    routes: [
                        {
                            terminal: true,
                            handle: [
                                {
                                    handler: "reverse_proxy",
                                    upstreams: [{ dial: "app-blue:3000" }, { dial: "app-green:3000" }],
                                    health_checks: {
                                        active: { uri: "/api/v1/health", interval: "2s", timeout: "2s" },
                                        passive: {
                                            fail_duration: "10s",
                                            max_fails: 1,
                                            unhealthy_status: [502, 503, 504],
                                        },
                                    },
                                    load_balancing: {
                                        selection_policy: { policy: "round_robin" },
                                        try_duration: "5s",
                                        try_interval: "100ms",
                                    },
                                },
                            ],
                        },
                    ],
                },
            },
        },
    },
};

interface Row {
    fault: string;
    cutover: string;
    failed: number;
    badAnswered: number;
    note: string;
}

async function main(argv: string[]): Promise<number> {
    if (argv.includes("--help")) {
        console.log(
            "Usage: npm run lab:legacy [-- --json]\nReplays the lab's faults against the cut-over of commit " +
                BEFORE +
                ".",
        );
        return 0;
    }
    const cutoverText = old("infra/app/scripts/cutover.sh");
    const migrateText = old("infra/app/scripts/migrate.sh");
    let lab: DockerLab;
    try {
        lab = await DockerLab.start();
    } catch (e) {
        console.error(`error: ${(e as Error).message.split("\n")[0]}`);
        return 2;
    }
    const rows: Row[] = [];
    try {
        // The old healthcheck ran `curl || wget` inside the image: give the app a busybox.
        const dir = fs.mkdtempSync(path.join(lab.dir, "oldapp-"));
        execFileSync("cp", ["-a", `${lab.dir}/rootfs/.`, dir]);
        fs.copyFileSync(`${lab.dir}/app/app`, path.join(dir, "app"));
        const tar = execFileSync("tar", ["-C", dir, "-c", "."], { maxBuffer: 1 << 30 });
        execFileSync(
            "docker",
            ["import", "--change", "ENV PATH=/bin", "--change", 'ENTRYPOINT ["/app"]', "-", "lab/oldapp:1"],
            { input: tar, env: lab.env },
        );

        let proxyIp = "";
        const server = async () => {
            await lab.reset();
            await lab.docker(["network", "create", "platform"]);
            await lab.docker(["network", "create", "default-bridge"]); // the daemon's default bridge, unreachable by the proxy
            await lab.docker([
                "create",
                "--name",
                "edge-proxy",
                "--network",
                "platform",
                "-v",
                "edge-proxy-config:/config",
                "lab/caddy:1",
                "caddy",
                "run",
                "--config",
                "/etc/caddy/caddy.json",
            ]);
            const up = fs.mkdtempSync(path.join(lab.dir, "old-up-"));
            fs.mkdirSync(path.join(up, "caddy"));
            fs.writeFileSync(path.join(up, "caddy", "caddy.json"), JSON.stringify(OLD_CONFIG));
            await lab.docker(["cp", path.join(up, "caddy"), "edge-proxy:/etc/"]);
            await lab.docker(["start", "edge-proxy"]);
            proxyIp = await lab.ip("edge-proxy");
        };
        // The old app container: default bridge, Docker healthcheck (wget inside), provider wait.
        const release = async (name: string, env: Record<string, string> = {}) => {
            await lab.docker([
                "run",
                "-d",
                "--name",
                name,
                "--network",
                "default-bridge",
                "--restart",
                "unless-stopped",
                "--health-cmd",
                "wget -q -O /dev/null http://127.0.0.1:3000/api/v1/health || exit 1",
                "--health-interval",
                "2s",
                "--health-timeout",
                "3s",
                "--health-retries",
                "3",
                "--health-start-period",
                "10s",
                ...Object.entries({ VERSION: name, ...env }).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
                "lab/oldapp:1",
            ]);
            const deadline = Date.now() + 30_000;
            for (;;) {
                const s = await lab
                    .docker(["inspect", "--format", "{{.State.Health.Status}}", name])
                    .catch(() => "missing");
                if (s === "healthy") return true;
                if (Date.now() > deadline) return false; // the provider's wait times out: Pulumi never runs the cut-over
                await sleep(500);
            }
        };
        const cutover = (app: string) =>
            lab.script(
                "cutover",
                {
                    SERVER: "lab-web-1",
                    APP_CONTAINER: app,
                    PROXY_CONTAINER: "edge-proxy",
                    NETWORK: "platform",
                    HEALTH_TIMEOUT: "20",
                    PROXY_SETTLE_SECONDS: "5",
                },
                cutoverText,
            );
        const load = () => {
            let finish!: () => void;
            const loop = requestLoop(
                80,
                { host: proxyIp, concurrency: 4, maxRequests: 50_000, maxSeconds: 120, ratePerSecond: 200 },
                new Promise<void>((r) => {
                    finish = r;
                }),
            );
            return async (): Promise<LoopResult> => {
                finish();
                return loop;
            };
        };
        const serving = async () => {
            await server();
            await release("v1");
            const r = await cutover("v1").done;
            if (r.status !== 0) throw new Error(`old cut-over of v1: ${r.stderr}`);
        };
        const deploy = async (
            fault: string,
            name: string,
            env: Record<string, string>,
            during?: () => Promise<void>,
        ) => {
            await serving();
            const stop = load();
            await sleep(300);
            const healthy = await release(name, env);
            let status = "not run (provider wait timed out)";
            if (healthy) {
                const run = cutover(name);
                if (during) await during();
                const r = await run.done;
                status = r.status === 0 ? "exit 0" : `exit ${r.status}: ${r.stderr.split("\n")[0]}`;
                if (r.status === 0) await lab.docker(["rm", "-f", "v1"]).catch(() => undefined); // Pulumi removes the replaced container
            }
            await sleep(3000);
            const res = await stop();
            const bad = Object.entries(res.bodies)
                .filter(([b]) => b === name)
                .reduce((n, [, c]) => n + c, 0);
            rows.push({
                fault,
                cutover: status,
                failed: res.failures.length,
                badAnswered: name === "v2" ? 0 : bad + res.failures.filter((f) => f.startsWith("500")).length,
                note: res.failures[0] ?? "",
            });
            console.error(`${fault}: ${status}; ${res.failures.length} failed`);
        };

        await deploy("never healthy", "bad", { HEALTH: "fail" });
        await deploy("slow health (2.5 s)", "slow", { HEALTH_DELAY_MS: "2500" });
        await deploy("health 200, pages 500", "bad", { PAGE_STATUS: "500" });
        await deploy("healthy, then dies during the switch", "dies", { EXIT_AFTER_MS: "2500" });
        await deploy("old one dies mid-switch", "v2", {}, async () => {
            await sleep(300);
            await lab.docker(["kill", "v1"]);
        });

        await serving();
        let stop = load();
        await sleep(300);
        await fetch(`http://${proxyIp}/__fault/503-once`);
        await sleep(4000);
        let res = await stop();
        rows.push({
            fault: "one 503",
            cutover: "-",
            failed: res.failures.length,
            badAnswered: 0,
            note: res.failures.slice(0, 2).join(" | "),
        });

        await serving();
        stop = load();
        await release("v2");
        const first = cutover("v2");
        for (
            let i = 0;
            i < 100 &&
            !(await lab.docker(["inspect", "--format", "{{json .NetworkSettings.Networks}}", "v2"])).includes(
                "platform",
            );
            i++
        )
            await sleep(100);
        process.kill(-first.child.pid!, "SIGKILL");
        await first.done;
        const retry = await cutover("v2").done;
        res = await stop();
        rows.push({
            fault: "interrupted cut-over, then retry",
            cutover:
                retry.status === 0
                    ? "retry exit 0"
                    : `retry exit ${retry.status}: ${retry.stderr.split("\n").find((l) => l.trim()) ?? ""}`,
            failed: res.failures.length,
            badAnswered: 0,
            note: "",
        });

        await serving();
        stop = load();
        await release("v2");
        await release("v3");
        const [a, b] = await Promise.all([cutover("v2").done, cutover("v3").done]);
        res = await stop();
        const aliases = await Promise.all(
            ["v2", "v3"].map((c) =>
                lab
                    .docker(["inspect", "--format", '{{json (index .NetworkSettings.Networks "platform").Aliases}}', c])
                    .catch(() => ""),
            ),
        );
        rows.push({
            fault: "two cut-overs at once",
            cutover: `exits ${a.status} and ${b.status}`,
            failed: res.failures.length,
            badAnswered: 0,
            note: `aliases: v2 ${aliases[0]}, v3 ${aliases[1]}`,
        });

        await serving();
        stop = load();
        const mig = await lab.script(
            "migrate",
            {
                SERVER: "lab-web-1",
                IMAGE: "lab/oldapp:1",
                DATABASE_URL: "postgres://u:p@db/fail-migration",
                MIGRATE_ARGS: "migrate",
            },
            migrateText,
        ).done;
        res = await stop();
        rows.push({
            fault: "failed migration",
            cutover: `migrate exit ${mig.status}`,
            failed: res.failures.length,
            badAnswered: 0,
            note: "",
        });
    } finally {
        await lab.stop();
    }
    if (argv.includes("--json"))
        console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), before: BEFORE, rows }, null, 2));
    else
        for (const r of rows)
            console.log(
                `${r.fault.padEnd(38)} ${r.cutover.slice(0, 90).padEnd(50)} failed ${String(r.failed).padStart(5)}  bad answered ${r.badAnswered}  ${r.note.slice(0, 80)}`,
            );
    return 0;
}

main(process.argv.slice(2)).then(
    (c) => {
        process.exitCode = c;
    },
    (e: Error) => {
        console.error(`error: ${e.message.split("\n")[0]}`);
        process.exitCode = 2;
    },
);
