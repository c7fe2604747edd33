/**
 * `npm run exec -- --stack <name> [--service <name>] [--server web-N] [--process app] [-i] -- <command...>`
 *
 * Runs a command in a running container of one service (Kamal's `app exec`): by default its
 * app container on the stack's first server. `-i` attaches a terminal (a shell, a console).
 * Runs `ssh deploy@<server> docker exec` over the tailnet; the command is quoted for the
 * remote shell, so its words arrive exactly as given.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { runCli } from "./lib/cli";
import { shellJoin } from "../infra/shell";
import {
    checkProcess,
    containerOf,
    explainSsh,
    layoutOf,
    parseCommon,
    pickService,
    remoteToolError,
    RemoteError,
    sshArgv,
} from "./lib/remote";

export const HELP = `Usage: npm run exec -- --stack <name> [--service <name>] [--server web-N] [--process <name>] [-i] -- <command> [args...]

Runs <command> in the service's running container (default: its app; or one of its workers)
on --server (default: the stack's first server). --service may be left out when the stack
runs one service. E.g. npm run exec -- --stack staging --service api -- bin/rails db:version
or, with a terminal, npm run exec -- --stack prod --service api -i -- sh.

Exit codes: the command's own exit code; 2 usage error or no such container on the server;
255 the server could not be reached (the cause is named: the tailnet, the ACL, the host key).`;

type Io = { out: (s: string) => void; err: (s: string) => void };

/** The remote command running argv in a service's process's container. Pure. */
export function execCommand(process: string, service: string, argv: string[], interactive: boolean): string {
    return `c=${containerOf(process, service)}; [ -n "$c" ] || { echo ${shellJoin([`no running ${service} ${process} container on this server`])} >&2; exit 125; }; exec ${shellJoin(["docker", "exec", ...(interactive ? ["-it"] : []), "__C__", ...argv]).replace("__C__", '"$c"')}`;
}

export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const a = parseCommon(
            argv.map((x) => (x === "-i" ? "--interactive" : x)),
            ["--stack", "--server", "--service", "--process", "--work-dir"],
            ["--interactive"],
        );
        if (a.help) {
            io.out(`${HELP}\n`);
            return 0;
        }
        if (!a.values.stack) throw new RemoteError("--stack is required");
        if (a.rest.length === 0)
            throw new RemoteError("no command: put it after --, e.g. npm run exec -- --stack staging -- ls");
        const proc = a.values.process ?? "app";
        const dir = path.resolve(a.values["work-dir"] ?? path.join(__dirname, ".."));
        const layout = layoutOf(a.values.stack, dir, a.values.server);
        const service = pickService(layout.services, a.values.service, a.values.stack);
        if (proc === "proxy")
            throw new RemoteError(
                "--process proxy: the edge proxy is not a service's container; run commands in an app or a worker",
            );
        checkProcess(service, proc);
        const host = layout.hosts[0];
        const tty = a.flags.has("interactive");
        // With a terminal, stdin and stdout are the terminal's; ssh's own stderr is still
        // read, so a failure to connect is explained rather than shown as a bare exit code.
        const r = spawnSync("ssh", sshArgv(host, execCommand(proc, service.name, a.rest, tty), tty), {
            stdio: tty ? ["inherit", "inherit", "pipe"] : ["inherit", "pipe", "pipe"],
            encoding: "utf8",
        });
        if (r.error)
            throw new RemoteError(
                `cannot run ssh: ${r.error.message} (install OpenSSH, or use Tailscale SSH from a tailnet machine)`,
            );
        if (!tty) io.out(r.stdout ?? "");
        if (r.status === 125) {
            io.err(
                `error: ${host}: no running ${service.name} ${proc} container (npm run status -- --stack ${a.values.stack})\n`,
            );
            return 2;
        }
        if (r.status === 255) {
            io.err(`error: ${explainSsh(host, r.stderr ?? "", r.status)}\n`);
            return 255;
        }
        io.err(r.stderr ?? "");
        return r.status ?? 1;
    } catch (e) {
        return remoteToolError(e, io.err);
    }
}

if (require.main === module) runCli(main);
