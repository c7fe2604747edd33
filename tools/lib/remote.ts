/**
 * Day-two access to a stack's servers over the tailnet: `ssh deploy@<stack>-web-N docker ...`,
 * the same path the deploy takes (DOCKER_HOST=ssh://deploy@<server>, infra/app). The
 * servers come from the stack file (serverCount, names from infra/servers), the containers
 * from their labels (`platform.role`, `platform.release`, set in infra/app), so auto-named
 * containers are never guessed. Commands are quoted for the remote shell: ssh joins its
 * arguments into one string that the server's shell parses again.
 */
import { spawn, spawnSync } from "child_process";
import { parseSettings } from "../../infra/config";
import { shellJoin, shellQuote } from "../../infra/shell";
import { serverKeys, tailnetHostname } from "../../infra/servers";
import { committedStacks, configSource, offlineSecrets, readStackConfig } from "./stacks";

export const DEPLOY_USER = "deploy";

export class RemoteError extends Error {}

/** A day-two tool's user mistake (bad flag, unknown server, bad config) as one line, exit 2; anything else is a bug and is rethrown. */
export function remoteToolError(e: unknown, err: (s: string) => void): number {
    if (!(e instanceof RemoteError) && (e as Error).name !== "ConfigError") throw e;
    err(`error: ${(e as Error).message}\n`);
    return 2;
}

/** A service as the day-two tools know it: its name and its worker processes. */
export interface ServiceProcesses {
    name: string;
    processes: string[];
}

/** What the stack file says runs where: its servers' tailnet hostnames and its services. */
export interface StackLayout {
    hosts: string[];
    services: ServiceProcesses[];
}

/** The stack's servers (or the one `--server` names: web-2 or prod-web-2) and services. */
export function layoutOf(stack: string, dir: string, server?: string): StackLayout {
    if (!committedStacks(dir).includes(stack))
        throw new RemoteError(
            `unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml in ${dir} (stacks: ${committedStacks(dir).join(", ")})`,
        );
    const cfg = readStackConfig(stack, dir);
    const ph = offlineSecrets(cfg.values);
    const s = parseSettings(configSource({ ...cfg.values, ...ph }, [...cfg.secretKeys, ...Object.keys(ph)]), stack);
    const all = serverKeys(s.servers.count).map((k) => tailnetHostname(stack, k));
    const services = s.services.map((svc) => ({ name: svc.name, processes: svc.processes.map((p) => p.name) }));
    if (server === undefined) return { hosts: all, services };
    const want = server.startsWith(`${stack}-`) ? server : `${stack}-${server}`;
    if (!all.includes(want)) throw new RemoteError(`--server ${server}: ${stack} has ${all.join(", ")}`);
    return { hosts: [want], services };
}

/**
 * The service a command acts on: the one `--service` names, or the stack's only one. With
 * several and none named, the tool cannot guess: one line lists them.
 */
export function pickService(services: ServiceProcesses[], named: string | undefined, stack: string): ServiceProcesses {
    const names = services.map((s) => s.name).join(", ");
    if (named !== undefined) {
        const found = services.find((s) => s.name === named);
        if (!found) throw new RemoteError(`--service ${named}: ${stack} runs ${names}`);
        return found;
    }
    if (services.length === 1) return services[0];
    throw new RemoteError(`${stack} runs several services (${names}): name one with --service`);
}

/** Checks `--process` against the service's own: app, one of its workers, or the edge proxy. */
export function checkProcess(service: ServiceProcesses, process: string): void {
    if (process === "app" || process === "proxy" || service.processes.includes(process)) return;
    const workers =
        service.processes.length > 0
            ? `, or a worker of ${service.name}: ${service.processes.join(", ")}`
            : ` (${service.name} has no workers)`;
    throw new RemoteError(`--process ${process}: expected app or proxy${workers}`);
}

/** The ssh argv that runs `remote` (already quoted) on `host` as the deploy user. */
export function sshArgv(host: string, remote: string, tty = false): string[] {
    return ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...(tty ? ["-t"] : []), `${DEPLOY_USER}@${host}`, remote];
}

/**
 * A remote shell snippet naming the running container of a process (app or a worker) of one
 * service, or of the edge proxy (no service): found by the labels infra/app sets.
 */
export function containerOf(role: string, service?: string): string {
    const bySvc =
        role === "proxy" || service === undefined ? "" : ` --filter ${shellQuote(`label=platform.service=${service}`)}`;
    return `$(docker ps -q --filter ${shellQuote(`label=platform.role=${role}`)}${bySvc} --filter status=running | head -n 1)`;
}

/** Runs a remote command and returns its output; a failure is one line. */
export function runRemote(host: string, remote: string): string {
    const r = spawnSync("ssh", sshArgv(host, remote), { encoding: "utf8", timeout: 60_000 });
    if (r.error)
        throw new RemoteError(
            `cannot run ssh: ${r.error.message} (install OpenSSH, or use Tailscale SSH from a tailnet machine)`,
        );
    if (r.status !== 0) throw new RemoteError(explainSsh(host, r.stderr, r.status));
    return r.stdout;
}

/** One line naming the likely cause of an ssh failure (exit 255) and what to do. */
export function explainSsh(host: string, stderr: string, status: number | null): string {
    const first =
        stderr
            .split("\n")
            .map((l) => l.trim())
            .find((l) => l !== "") ?? `ssh exited ${status} and said nothing`;
    if (/Could not resolve hostname|Name or service not known|nodename nor servname/i.test(stderr))
        return `${host}: not reachable (${first}); is this machine on the tailnet (tailscale status)?`;
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr))
        return `${host}: its host key is unknown or changed (${first}); a rebuilt server has a new one: check it, then ssh-keygen -R ${host} and ssh ${DEPLOY_USER}@${host} once to accept it`;
    if (/Permission denied/i.test(stderr))
        return `${host}: ssh as ${DEPLOY_USER} refused (${first}); the tailnet ACL must allow you to SSH to the server tag as ${DEPLOY_USER}`;
    if (/timed out|No route to host|Connection refused/i.test(stderr))
        return `${host}: no answer (${first}); is the server up (npm run status) and this machine on the tailnet (tailscale status)?`;
    return `${host}: ${first}`;
}

/**
 * Streams a remote command's output line by line with a `[host] ` prefix; resolves with its
 * exit code. Should ssh itself fail (255: it could not connect, or lost the connection), one
 * line naming the likely cause follows its own message (explainSsh).
 */
export function streamRemote(
    host: string,
    remote: string,
    write: (line: string) => void,
    prefix: boolean,
): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn("ssh", sshArgv(host, remote), { stdio: ["ignore", "pipe", "pipe"] });
        const lead = prefix ? `[${host}] ` : "";
        let stderr = "";
        const pipe = (stream: NodeJS.ReadableStream, isErr: boolean) => {
            let buf = "";
            stream.setEncoding("utf8");
            stream.on("data", (c: string) => {
                buf += c;
                if (isErr) stderr += c;
                let i: number;
                while ((i = buf.indexOf("\n")) >= 0) {
                    write(`${lead}${buf.slice(0, i)}\n`);
                    buf = buf.slice(i + 1);
                }
            });
            stream.on("end", () => {
                if (buf !== "") write(`${lead}${buf}\n`);
            });
        };
        pipe(child.stdout, false);
        pipe(child.stderr, true);
        child.on("error", (e) => {
            write(
                `${lead}error: cannot run ssh: ${e.message} (install OpenSSH, or use Tailscale SSH from a tailnet machine)\n`,
            );
            resolve(2);
        });
        child.on("close", (code) => {
            if (code === 255) write(`error: ${explainSsh(host, stderr, code)}\n`);
            resolve(code ?? 1);
        });
    });
}

export interface ContainerStatus {
    server: string;
    service: string;
    name: string;
    role: string;
    release: string;
    digest: string;
    state: string;
    health: string;
    uptime: string;
}

/** Parses `docker ps --format '{{json .}}'` lines into what status shows. Pure. */
export function parsePs(server: string, out: string): ContainerStatus[] {
    return out
        .split("\n")
        .filter((l) => l.trim().startsWith("{"))
        .map((l) => {
            const c = JSON.parse(l) as {
                Names?: string;
                Image?: string;
                Labels?: string;
                State?: string;
                Status?: string;
            };
            const labels = Object.fromEntries(
                (c.Labels ?? "")
                    .split(",")
                    .filter(Boolean)
                    .map((kv) => {
                        const i = kv.indexOf("=");
                        return [kv.slice(0, i), kv.slice(i + 1)];
                    }),
            );
            const status = c.Status ?? "";
            const health =
                /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1] ??
                (c.State === "running" ? "no healthcheck" : "-");
            const uptime = /^Up (.+?)(?: \(.*\))?$/.exec(status)?.[1] ?? status;
            return {
                server,
                service: labels["platform.service"] ?? "-",
                name: c.Names ?? "",
                role: labels["platform.role"] ?? "",
                release: labels["platform.release"] ?? "-",
                digest: /@(sha256:[a-f0-9]{64})$/.exec(c.Image ?? "")?.[1] ?? c.Image ?? "",
                state: c.State ?? "",
                health,
                uptime,
            };
        })
        .sort(
            (a, b) =>
                a.service.localeCompare(b.service) || a.role.localeCompare(b.role) || a.name.localeCompare(b.name),
        );
}

export const PS_COMMAND = shellJoin([
    "docker",
    "ps",
    "-a",
    "--filter",
    "label=platform.role",
    "--format",
    "{{json .}}",
]);

/** Flags shared by status, logs and exec. */
export function parseCommon(
    argv: string[],
    values: string[],
    flags: string[],
): { values: Record<string, string>; flags: Set<string>; rest: string[]; help: boolean } {
    const out = { values: {} as Record<string, string>, flags: new Set<string>(), rest: [] as string[], help: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") {
            out.rest = argv.slice(i + 1);
            break;
        }
        if (a === "-h" || a === "--help") out.help = true;
        else if (values.includes(a)) {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new RemoteError(`${a} needs a value`);
            out.values[a.replace(/^-+/, "")] = v;
        } else if (flags.includes(a)) out.flags.add(a.replace(/^-+/, ""));
        else throw new RemoteError(`unknown argument ${a} (see --help)`);
    }
    return out;
}
