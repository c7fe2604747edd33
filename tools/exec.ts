/**
 * `npm run exec -- --stack <name> [--server web-N] [--process app] [-i] -- <command...>`
 *
 * Runs a command in a running container of the stack (Kamal's `app exec`): by default the
 * app container on the first server. `-i` attaches a terminal (a shell, a console). Runs
 * `ssh deploy@<server> docker exec` over the tailnet; the command is quoted for the remote
 * shell, so its words arrive exactly as given.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { runCli } from "./lib/cli";
import { shellJoin } from "../infra/shell";
import { containerOf, explainSsh, parseCommon, remoteToolError, RemoteError, serversOf, sshArgv } from "./lib/remote";

export const HELP = `Usage: npm run exec -- --stack <name> [--server web-N] [--process <name>] [-i] -- <command> [args...]

Runs <command> in the process's running container (default: app) on --server (default:
the stack's first server), e.g. npm run exec -- --stack staging -- bin/rails db:version
or, with a terminal, npm run exec -- --stack prod -i -- sh.

Exit codes: the command's own exit code; 2 usage error or no such container; 255 ssh failed.`;

type Io = { out: (s: string) => void; err: (s: string) => void };

/** The remote command running argv in a process's container. Pure. */
export function execCommand(process: string, argv: string[], interactive: boolean): string {
    return `c=${containerOf(process)}; [ -n "$c" ] || { echo ${shellJoin([`no running ${process} container on this server`])} >&2; exit 125; }; exec ${shellJoin(["docker", "exec", ...(interactive ? ["-it"] : []), "__C__", ...argv]).replace("__C__", "\"$c\"")}`;
}

export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const a = parseCommon(argv.map((x) => (x === "-i" ? "--interactive" : x)), ["--stack", "--server", "--process", "--work-dir"], ["--interactive"]);
        if (a.help) { io.out(`${HELP}\n`); return 0; }
        if (!a.values.stack) throw new RemoteError("--stack is required");
        if (a.rest.length === 0) throw new RemoteError("no command: put it after --, e.g. npm run exec -- --stack staging -- ls");
        const proc = a.values.process ?? "app";
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(proc)) throw new RemoteError(`--process ${proc}: expected app, proxy or a process name from the stack's processes`);
        const dir = path.resolve(a.values["work-dir"] ?? path.join(__dirname, ".."));
        const host = serversOf(a.values.stack, dir, a.values.server)[0];
        const tty = a.flags.has("interactive");
        const r = spawnSync("ssh", sshArgv(host, execCommand(proc, a.rest, tty), tty), { stdio: tty ? "inherit" : ["inherit", "pipe", "pipe"], encoding: "utf8" });
        if (r.error) throw new RemoteError(`cannot run ssh: ${r.error.message}`);
        if (!tty) { io.out(r.stdout ?? ""); }
        if (r.status === 125) { io.err(`error: ${host}: no running ${proc} container (npm run status -- --stack ${a.values.stack})\n`); return 2; }
        if (r.status === 255) { io.err(`error: ${explainSsh(host, r.stderr ?? "", r.status)}\n`); return 255; }
        if (!tty) io.err(r.stderr ?? "");
        return r.status ?? 1;
    } catch (e) {
        return remoteToolError(e, io.err);
    }
}

if (require.main === module) runCli(main);
