/**
 * `npm run status -- --stack <name> [--server web-N] [--json]`
 *
 * Which release runs where: per server, every platform container (app, workers, proxy)
 * with its release tag, image digest, state, Docker health and uptime, read over the
 * tailnet with `ssh deploy@<server> docker ps` (Kamal's `app details`).
 */
import * as path from "path";
import { runCli } from "./lib/cli";
import { ContainerStatus, parseCommon, parsePs, PS_COMMAND, remoteToolError, RemoteError, runRemote, serversOf } from "./lib/remote";

export const HELP = `Usage: npm run status -- --stack <name> [--server web-N] [--json] [--work-dir <dir>]

Shows, per server, each platform container: process, release tag, image digest, state,
health and uptime. Runs \`ssh deploy@<stack>-web-N docker ps\` over the tailnet, so this
machine must be on the tailnet with SSH access to the servers as deploy.

Exit codes: 0 every app container healthy, 1 an app container missing or unhealthy, 2 error.`;

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const a = parseCommon(argv, ["--stack", "--server", "--work-dir"], ["--json"]);
        if (a.help) { io.out(`${HELP}\n`); return 0; }
        if (!a.values.stack) throw new RemoteError("--stack is required");
        const dir = path.resolve(a.values["work-dir"] ?? path.join(__dirname, ".."));
        const rows: ContainerStatus[] = [];
        const problems: string[] = [];
        for (const host of serversOf(a.values.stack, dir, a.values.server)) {
            try {
                const found = parsePs(host, runRemote(host, PS_COMMAND));
                rows.push(...found);
                const app = found.filter((c) => c.role === "app" && c.state === "running");
                if (app.length === 0) problems.push(`${host}: no running app container`);
                // The Docker healthcheck is optional (healthcheckCommand); without one, a
                // running container is fine and the cut-over's probes were its gate.
                else if (!app.some((c) => c.health === "healthy" || c.health === "no healthcheck")) problems.push(`${host}: app container ${app[0].name} is ${app[0].health}`);
            } catch (e) {
                if (!(e instanceof RemoteError)) throw e;
                problems.push(e.message);
            }
        }
        if (a.flags.has("json")) {
            io.out(`${JSON.stringify({ stack: a.values.stack, ok: problems.length === 0, containers: rows, problems }, null, 2)}\n`);
        } else {
            const head = ["SERVER", "PROCESS", "CONTAINER", "RELEASE", "DIGEST", "STATE", "HEALTH", "UPTIME"];
            const table = [head, ...rows.map((r) => [r.server, r.role, r.name, r.release, r.digest.startsWith("sha256:") ? `${r.digest.slice(0, 19)}…` : r.digest, r.state, r.health, r.uptime])];
            const w = head.map((_, i) => Math.max(...table.map((t) => t[i].length)));
            for (const t of table) io.out(`${t.map((c, i) => c.padEnd(w[i])).join("  ").trimEnd()}\n`);
            for (const p of problems) io.err(`problem: ${p}\n`);
        }
        return problems.length === 0 ? 0 : 1;
    } catch (e) {
        return remoteToolError(e, io.err);
    }
}

if (require.main === module) runCli(main);
