/**
 * A real Docker lab: its own `dockerd` (data, exec root, pid file and socket under a
 * temporary folder), locally built images (nothing can be pulled), and one "server" laid
 * out exactly as the program lays out a droplet: the `platform` network, the edge proxy
 * container with its config volume, app releases on that network, and the project's own
 * on-server scripts run against it with DOCKER_HOST pointing at the lab's socket.
 *
 * Used by the lab tier (`npm run test:lab`) and bench/lab.ts. It talks only to its own
 * daemon and to its own networks; it removes its containers, networks and folder on stop.
 * When the daemon cannot start (no root, no docker.io, no cgroups), `startLab` throws: the
 * tier fails, it is never skipped.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { BOOTSTRAP_PROXY_CONFIG, caddyConfig, EdgeRoute, verifyUrl } from "../../infra/app/caddy";
import { NETWORK, PROXY_CONTAINER, proxyChecks, script } from "../../infra/app";
import { healthEnv } from "../../infra/app/service";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const LAB_HEALTH_PATH = "/api/v1/health";
export const LAB_PORT = 3000;
const ROOT = path.join(__dirname, "..", "..");

export interface ScriptRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface Running {
    child: ChildProcess;
    done: Promise<ScriptRun>;
}

export class DockerLab {
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
    private daemon?: ChildProcess;
    private log = "";

    private constructor(dir: string) {
        this.dir = dir;
        this.env = { ...process.env, DOCKER_HOST: `unix://${dir}/docker.sock` };
        delete this.env.DOCKER_CONTEXT;
    }

    /** Starts the lab's daemon and builds its images; throws with the daemon's log if it cannot. */
    static async start(): Promise<DockerLab> {
        if (process.getuid?.() !== 0) throw new Error("the Docker lab runs its own dockerd and needs root");
        // Short path: unix socket paths are limited to 108 bytes.
        const lab = new DockerLab(fs.mkdtempSync(path.join(os.tmpdir(), "dlab-")));
        // A pool of its own, unlikely to collide with another daemon's networks on this host.
        const pool = `base=10.${200 + Math.floor(Math.random() * 50)}.0.0/16,size=24`;
        lab.daemon = spawn(
            "dockerd",
            [
                "--data-root",
                `${lab.dir}/data`,
                "--exec-root",
                `${lab.dir}/exec`,
                "--pidfile",
                `${lab.dir}/docker.pid`,
                "-H",
                `unix://${lab.dir}/docker.sock`,
                "--bridge=none",
                "--default-address-pool",
                pool,
                "--log-level",
                "warn",
            ],
            { stdio: ["ignore", "pipe", "pipe"] },
        );
        lab.daemon.stdout!.on("data", (d) => {
            lab.log += d;
        });
        lab.daemon.stderr!.on("data", (d) => {
            lab.log += d;
        });
        const deadline = Date.now() + 60_000;
        for (;;) {
            try {
                await lab.docker(["version", "--format", "{{.Server.Version}}"]);
                break;
            } catch {
                if (lab.daemon.exitCode !== null || Date.now() > deadline) {
                    const log = lab.log.split("\n").slice(-15).join("\n");
                    await lab.stop();
                    throw new Error(`dockerd did not start (the lab tier cannot run here):\n${log}`);
                }
                await sleep(250);
            }
        }
        await lab.buildImages();
        return lab;
    }

    async docker(args: string[], input?: string): Promise<string> {
        if (input !== undefined) {
            return new Promise((resolve, reject) => {
                const child = execFile(
                    "docker",
                    args,
                    { env: this.env, maxBuffer: 64 << 20 },
                    (err, stdout, stderr) => {
                        if (err) reject(new Error(`docker ${args.join(" ")}: ${stderr || err.message}`));
                        else resolve(stdout.trim());
                    },
                );
                child.stdin!.end(input);
            });
        }
        try {
            return (await run("docker", args, { env: this.env, maxBuffer: 64 << 20 })).stdout.trim();
        } catch (e) {
            const err = e as { stderr?: string; message: string };
            throw new Error(`docker ${args.join(" ")}: ${err.stderr || err.message}`);
        }
    }

    /**
     * lab/base: busybox (static) as sh, cat, wget, timeout; lab/caddy: base plus Debian's
     * caddy and the libraries it links; lab/app: the test app alone, with no shell and no
     * HTTP client, like a distroless image.
     */
    private async buildImages(): Promise<void> {
        const root = path.join(this.dir, "rootfs");
        for (const d of ["bin", "tmp", "etc", "config", "data", "usr/bin", "lib/x86_64-linux-gnu", "lib64"])
            fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
        for (const a of ["sh", "cat", "wget", "timeout", "sleep", "printf", "mv", "rm", "ls", "echo", "mkdir"])
            fs.symlinkSync("busybox", path.join(root, "bin", a));
        fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        fs.copyFileSync("/usr/bin/caddy", path.join(root, "usr/bin/caddy"));
        const { stdout: ldd } = await run("ldd", ["/usr/bin/caddy"]);
        for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
            const dest = path.join(root, m[1]);
            fs.mkdirSync(path.dirname(dest), { recursive: true });
            fs.copyFileSync(m[1], dest);
        }
        await this.importDir(root, "lab/caddy:1", [
            "ENV PATH=/usr/bin:/bin",
            "ENV XDG_CONFIG_HOME=/config",
            "ENV XDG_DATA_HOME=/data",
            'CMD ["caddy","run"]',
        ]);

        const appDir = path.join(this.dir, "app");
        fs.mkdirSync(appDir);
        await run("go", ["build", "-trimpath", "-ldflags=-s", "-o", path.join(appDir, "app"), "."], {
            cwd: path.join(ROOT, "test", "lab", "app"),
            env: { ...process.env, CGO_ENABLED: "0" },
        });
        await this.importDir(appDir, "lab/app:1", ['ENTRYPOINT ["/app"]']);
        // The same app with a Docker healthcheck in exec form (no shell in the image), as the
        // program sets one for a service whose health is a command.
        await this.importDir(appDir, "lab/app-healthcheck:1", [
            'ENTRYPOINT ["/app"]',
            'HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/app", "healthcheck"]',
        ]);
    }

    private async importDir(dir: string, tag: string, changes: string[]): Promise<void> {
        const tar = spawn("tar", ["-C", dir, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
        const imp = spawn("docker", ["import", ...changes.flatMap((c) => ["--change", c]), "-", tag], {
            env: this.env,
            stdio: ["pipe", "ignore", "pipe"],
        });
        tar.stdout!.pipe(imp.stdin!);
        let err = "";
        imp.stderr!.on("data", (d) => {
            err += d;
        });
        const code = await new Promise<number | null>((resolve) => imp.on("close", resolve));
        if (code !== 0) throw new Error(`docker import ${tag}: ${err}`);
    }

    /** Removes every container, volume and network, back to an empty daemon. */
    async reset(): Promise<void> {
        const ids = (await this.docker(["ps", "-aq"])).split("\n").filter(Boolean);
        if (ids.length) await this.docker(["rm", "-f", "-v", ...ids]);
        await this.docker(["volume", "prune", "-f", "--all"]).catch(() => this.docker(["volume", "prune", "-f"]));
        await this.docker(["network", "prune", "-f"]);
    }

    async stop(): Promise<void> {
        if (this.daemon && this.daemon.exitCode === null) {
            await this.reset().catch(() => undefined);
            const exited = new Promise((resolve) => this.daemon!.on("exit", resolve));
            this.daemon.kill("SIGTERM");
            const t = setTimeout(() => this.daemon!.kill("SIGKILL"), 15_000);
            await exited;
            clearTimeout(t);
        }
        // The daemon unmounts its layers on a clean exit; anything left mounted stays for an operator to see.
        await run("umount", ["-R", `${this.dir}/exec`]).catch(() => undefined);
        fs.rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    }

    /** The container's address on the platform network (reachable from this host). */
    async ip(container: string): Promise<string> {
        return this.docker([
            "inspect",
            "--format",
            `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`,
            container,
        ]);
    }

    async status(container: string): Promise<string> {
        return this.docker(["inspect", "--format", "{{.State.Status}}", container]).catch(() => "missing");
    }

    /**
     * The routes the lab's proxy serves: by default one service, `app`, on every host (a
     * one-service app's); a test with several services sets its own.
     */
    routes: EdgeRoute[] = [{ path: "/", service: "app" }];

    /** The proxy's config as the program renders it for a droplet behind the load balancer. */
    proxyConfig(): string {
        return JSON.stringify(
            caddyConfig({ mode: { kind: "behind-lb", trustedProxies: ["10.0.0.0/8"] }, routes: this.routes }),
        );
    }

    /**
     * A server as `pulumi up` creates it: the network, the proxy's volumes, the proxy
     * container with its bootstrap config uploaded before start, then the proxy-config step.
     */
    async server(): Promise<{ proxyIp: string }> {
        await this.docker(["network", "create", "--driver", "bridge", NETWORK]);
        await this.createProxy("lab/caddy:1");
        const res = await this.script("proxy-config", this.proxyConfigEnv()).done;
        if (res.status !== 0) throw new Error(`proxy-config failed: ${res.stderr}`);
        return { proxyIp: await this.ip(PROXY_CONTAINER) };
    }

    async createProxy(image: string): Promise<void> {
        await this.docker([
            "create",
            "--name",
            PROXY_CONTAINER,
            "--network",
            NETWORK,
            "--restart",
            "unless-stopped",
            "-v",
            "edge-proxy-config:/config",
            "-v",
            "edge-proxy-data:/data",
            "--label",
            "platform.role=proxy",
            image,
            "caddy",
            "run",
            "--resume",
            "--config",
            "/etc/caddy/caddy.json",
        ]);
        const dir = fs.mkdtempSync(path.join(this.dir, "upload-"));
        fs.mkdirSync(path.join(dir, "caddy"));
        fs.writeFileSync(path.join(dir, "caddy", "caddy.json"), BOOTSTRAP_PROXY_CONFIG);
        await this.docker(["cp", path.join(dir, "caddy"), `${PROXY_CONTAINER}:/etc/`]);
        await this.docker(["start", PROXY_CONTAINER]);
    }

    proxyConfigEnv(): Record<string, string> {
        const services = [...new Set(this.routes.map((r) => r.service))].map((name) => ({
            name,
            health: { kind: "http" as const, path: LAB_HEALTH_PATH },
        }));
        return {
            SERVER: "lab-web-1",
            PROXY_CONTAINER,
            PROXY_CONFIG: this.proxyConfig(),
            PROBE_TIMEOUT: "2",
            READY_TIMEOUT: "20",
            CHECKS: proxyChecks(this.routes, services),
        };
    }

    /** A release's app container, as the program creates it: auto-named in prod, named here for readability. */
    async release(name: string, env: Record<string, string> = {}, image = "lab/app:1"): Promise<string> {
        const e = { VERSION: name, PORT: String(LAB_PORT), ...env };
        await this.docker([
            "run",
            "-d",
            "--name",
            name,
            "--network",
            NETWORK,
            "--restart",
            "unless-stopped",
            "--stop-timeout",
            "30",
            "--label",
            "platform.role=app",
            ...Object.entries(e).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
            image,
        ]);
        return name;
    }

    /** What Pulumi does with the replaced container after a successful cut-over. */
    async remove(name: string): Promise<void> {
        await this.docker(["stop", "-t", "30", name]);
        await this.docker(["rm", name]);
    }

    /** The cut-over's environment for one container of `service` (default `app`), as the program sets it. */
    cutoverEnv(app: string, extra: Record<string, string> = {}, service = "app"): Record<string, string> {
        return {
            SERVER: "lab-web-1",
            SERVICE: service,
            APP_CONTAINER: app,
            APP_PORT: String(LAB_PORT),
            ...healthEnv({ kind: "http", path: LAB_HEALTH_PATH }),
            PROXY_CONTAINER,
            NETWORK,
            PROXY_CONFIG: this.proxyConfig(),
            HEALTH_TIMEOUT: "20",
            PROBE_TIMEOUT: "2",
            VERIFY_SECONDS: "3",
            LOCK_TIMEOUT: "60",
            SMOKE: "/=200",
            VERIFY_URL: verifyUrl(this.routes, service),
            ...extra,
        };
    }

    /** Runs one of the project's on-server scripts exactly as the deploy does (bash -c), against the lab. */
    script(name: Parameters<typeof script>[0], env: Record<string, string>, text = script(name)): Running {
        const child = spawn("bash", ["-c", text], {
            env: { ...this.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => {
            stdout += d;
        });
        child.stderr!.on("data", (d) => {
            stderr += d;
        });
        const done = new Promise<ScriptRun>((resolve) =>
            child.on("close", (status) => resolve({ status, stdout, stderr })),
        );
        return { child, done };
    }

    /** A service's upstream record ("current previous"). */
    async upstreams(service = "app"): Promise<string> {
        return this.docker(["exec", PROXY_CONTAINER, "cat", `/config/platform-upstreams-${service}`]).catch(() => "");
    }
}
