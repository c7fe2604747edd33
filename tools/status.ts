/**
 * `npm run status -- --stack <name> [--server web-N] [--service <name>] [--json]`
 *
 * Which release of each service runs where: per server, every platform container (each
 * service's app and workers, the edge proxy) with its release tag, image digest, state,
 * Docker health and uptime, read over the tailnet with `ssh deploy@<server> docker ps`
 * (Kamal's `app details`). Every service the stack file declares is expected on every
 * server: one that is missing, stopped or unhealthy is a problem, whatever else runs.
 */
import * as path from "path";
import { runCli } from "./lib/cli";
import {
    ContainerStatus,
    layoutOf,
    parseCommon,
    parsePs,
    pickService,
    PS_COMMAND,
    remoteToolError,
    RemoteError,
    runRemote,
    ServiceProcesses,
} from "./lib/remote";

export const HELP = `Usage: npm run status -- --stack <name> [--server web-N] [--service <name>] [--json] [--work-dir <dir>]

Shows, per server, each platform container: service, process (app, a worker, proxy),
release tag, image digest, state, health and uptime, and checks that every service the
stack file declares runs on every server: its app running and healthy (or without a
Docker healthcheck), each of its workers running, and the edge proxy running. --service
limits the check and the table to one service. Runs \`ssh deploy@<stack>-web-N docker ps\`
over the tailnet, so this machine must be on the tailnet with SSH access as deploy.

Exit codes: 0 every service up on every server; 1 a service's app or worker is missing,
stopped or unhealthy (each named on stderr); 2 a server could not be reached, or a usage or
config error.`;

type Io = { out: (s: string) => void; err: (s: string) => void };

/**
 * What is wrong on one server, service by service: every declared service needs its app
 * running and healthy (a container without a Docker healthcheck counts as healthy: the
 * cut-over's probes were its gate) and each of its workers running; the proxy must run.
 * Pure: the rows are what `docker ps` showed.
 */
export function problemsOn(
    host: string,
    rows: ContainerStatus[],
    services: ServiceProcesses[],
    withProxy = true,
): string[] {
    const running = (role: string, service?: string) =>
        rows.filter(
            (c) => c.role === role && (service === undefined || c.service === service) && c.state === "running",
        );
    const out: string[] = [];
    for (const svc of services) {
        const app = running("app", svc.name);
        if (app.length === 0) {
            const stopped = rows.find((c) => c.role === "app" && c.service === svc.name);
            out.push(
                `${host}: ${svc.name}: no running app container${stopped ? ` (${stopped.name} is ${stopped.state})` : ""}`,
            );
        } else if (!app.some((c) => c.health === "healthy" || c.health === "no healthcheck")) {
            out.push(`${host}: ${svc.name}: app container ${app[0].name} is ${app[0].health}`);
        }
        for (const p of svc.processes) {
            if (running(p, svc.name).length === 0) out.push(`${host}: ${svc.name}: worker ${p} is not running`);
        }
    }
    if (withProxy && running("proxy").length === 0) out.push(`${host}: the edge proxy is not running`);
    return out;
}

export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const a = parseCommon(argv, ["--stack", "--server", "--service", "--work-dir"], ["--json"]);
        if (a.help) {
            io.out(`${HELP}\n`);
            return 0;
        }
        if (!a.values.stack) throw new RemoteError("--stack is required");
        const dir = path.resolve(a.values["work-dir"] ?? path.join(__dirname, ".."));
        const layout = layoutOf(a.values.stack, dir, a.values.server);
        const services =
            a.values.service === undefined
                ? layout.services
                : [pickService(layout.services, a.values.service, a.values.stack)];
        const only = a.values.service;
        const rows: ContainerStatus[] = [];
        const problems: string[] = [];
        const unreachable: string[] = [];
        for (const host of layout.hosts) {
            try {
                const found = parsePs(host, runRemote(host, PS_COMMAND)).filter(
                    (c) => only === undefined || c.service === only,
                );
                rows.push(...found);
                problems.push(...problemsOn(host, found, services, only === undefined));
            } catch (e) {
                if (!(e instanceof RemoteError)) throw e;
                unreachable.push(e.message);
            }
        }
        if (a.flags.has("json")) {
            io.out(
                `${JSON.stringify({ stack: a.values.stack, ok: problems.length + unreachable.length === 0, containers: rows, problems, unreachable }, null, 2)}\n`,
            );
        } else {
            const head = [
                "SERVER",
                "SERVICE",
                "PROCESS",
                "CONTAINER",
                "RELEASE",
                "DIGEST",
                "STATE",
                "HEALTH",
                "UPTIME",
            ];
            const table = [
                head,
                ...rows.map((r) => [
                    r.server,
                    r.service,
                    r.role,
                    r.name,
                    r.release,
                    r.digest.startsWith("sha256:") ? `${r.digest.slice(0, 19)}…` : r.digest,
                    r.state,
                    r.health,
                    r.uptime,
                ]),
            ];
            const w = head.map((_, i) => Math.max(...table.map((t) => t[i].length)));
            for (const t of table)
                io.out(
                    `${t
                        .map((c, i) => c.padEnd(w[i]))
                        .join("  ")
                        .trimEnd()}\n`,
                );
            for (const p of problems) io.err(`problem: ${p}\n`);
            for (const u of unreachable) io.err(`error: ${u}\n`);
        }
        if (unreachable.length > 0) return 2;
        return problems.length === 0 ? 0 : 1;
    } catch (e) {
        return remoteToolError(e, io.err);
    }
}

if (require.main === module) runCli(main);
