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

/** The tailnet hostnames of a stack's servers, or the one `--server` names (web-2 or prod-web-2). */
export function serversOf(stack: string, dir: string, server?: string): string[] {
    if (!committedStacks(dir).includes(stack)) throw new RemoteError(`unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml in ${dir} (stacks: ${committedStacks(dir).join(", ")})`);
    const cfg = readStackConfig(stack, dir);
    const ph = offlineSecrets(cfg.values);
    const s = parseSettings(configSource({ ...cfg.values, ...ph }, [...cfg.secretKeys, ...Object.keys(ph)]), stack);
    const all = serverKeys(s.servers.count).map((k) => tailnetHostname(stack, k));
    if (server === undefined) return all;
    const want = server.startsWith(`${stack}-`) ? server : `${stack}-${server}`;
    if (!all.includes(want)) throw new RemoteError(`--server ${server}: ${stack} has ${all.join(", ")}`);
    return [want];
}

/** The ssh argv that runs `remote` (already quoted) on `host` as the deploy user. */
export function sshArgv(host: string, remote: string, tty = false): string[] {
    return ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...(tty ? ["-t"] : []), `${DEPLOY_USER}@${host}`, remote];
}

/** A remote shell snippet naming the running container of a process (app, a worker, proxy). */
export function containerOf(role: string): string {
    return `$(docker ps -q --filter ${shellQuote(`label=platform.role=${role}`)} --filter status=running | head -n 1)`;
}

/** Runs a remote command and returns its output; a failure is one line. */
export function runRemote(host: string, remote: string): string {
    const r = spawnSync("ssh", sshArgv(host, remote), { encoding: "utf8", timeout: 60_000 });
    if (r.error) throw new RemoteError(`cannot run ssh: ${r.error.message} (install OpenSSH, or use Tailscale SSH from a tailnet machine)`);
    if (r.status !== 0) throw new RemoteError(explainSsh(host, r.stderr, r.status));
    return r.stdout;
}

export function explainSsh(host: string, stderr: string, status: number | null): string {
    const first = stderr.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? `exit ${status}`;
    if (/Could not resolve hostname|Name or service not known/i.test(stderr)) return `${host}: not reachable (${first}); is this machine on the tailnet (tailscale status)?`;
    if (/Permission denied|Host key verification failed/i.test(stderr)) return `${host}: ssh as ${DEPLOY_USER} refused (${first}); the tailnet ACL must allow you to SSH to the server tag as ${DEPLOY_USER}`;
    return `${host}: ${first}`;
}

/** Streams a remote command's output line by line with a `[host] ` prefix; resolves with its exit code. */
export function streamRemote(host: string, remote: string, write: (line: string) => void, prefix: boolean): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn("ssh", sshArgv(host, remote), { stdio: ["ignore", "pipe", "pipe"] });
        const pipe = (stream: NodeJS.ReadableStream) => {
            let buf = "";
            stream.setEncoding("utf8");
            stream.on("data", (c: string) => {
                buf += c;
                let i: number;
                while ((i = buf.indexOf("\n")) >= 0) { write(`${prefix ? `[${host}] ` : ""}${buf.slice(0, i)}\n`); buf = buf.slice(i + 1); }
            });
            stream.on("end", () => { if (buf !== "") write(`${prefix ? `[${host}] ` : ""}${buf}\n`); });
        };
        pipe(child.stdout);
        pipe(child.stderr);
        child.on("error", (e) => { write(`[${host}] error: cannot run ssh: ${e.message}\n`); resolve(2); });
        child.on("close", (code) => resolve(code ?? 1));
    });
}

export interface ContainerStatus {
    server: string; name: string; role: string; release: string; digest: string; state: string; health: string; uptime: string;
}

/** Parses `docker ps --format '{{json .}}'` lines into what status shows. Pure. */
export function parsePs(server: string, out: string): ContainerStatus[] {
    return out.split("\n").filter((l) => l.trim().startsWith("{")).map((l) => {
        const c = JSON.parse(l) as { Names?: string; Image?: string; Labels?: string; State?: string; Status?: string };
        const labels = Object.fromEntries((c.Labels ?? "").split(",").filter(Boolean).map((kv) => { const i = kv.indexOf("="); return [kv.slice(0, i), kv.slice(i + 1)]; }));
        const status = c.Status ?? "";
        const health = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1] ?? (c.State === "running" ? "no healthcheck" : "-");
        const uptime = /^Up (.+?)(?: \(.*\))?$/.exec(status)?.[1] ?? status;
        return {
            server, name: c.Names ?? "", role: labels["platform.role"] ?? "", release: labels["platform.release"] ?? "-",
            digest: /@(sha256:[a-f0-9]{64})$/.exec(c.Image ?? "")?.[1] ?? (c.Image ?? ""), state: c.State ?? "", health, uptime,
        };
    }).sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
}

export const PS_COMMAND = shellJoin(["docker", "ps", "-a", "--filter", "label=platform.role", "--format", "{{json .}}"]);

/** Flags shared by status, logs and exec. */
export function parseCommon(argv: string[], values: string[], flags: string[]): { values: Record<string, string>; flags: Set<string>; rest: string[]; help: boolean } {
    const out = { values: {} as Record<string, string>, flags: new Set<string>(), rest: [] as string[], help: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") { out.rest = argv.slice(i + 1); break; }
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
