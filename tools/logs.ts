/**
 * `npm run logs -- --stack <name> [--service <name>] [--process app|<worker>|proxy] [--server web-N] [-f] [--since 10m] [--lines N]`
 *
 * One service's process's container logs from every server of the stack (or one), each
 * line prefixed with its server when there are several; `-f` follows them all at once
 * (Kamal's `app logs -f`). Runs `ssh deploy@<server> docker logs` over the tailnet.
 */
import * as path from "path";
import { runCli } from "./lib/cli";
import { shellJoin } from "../infra/shell";
import {
    checkProcess,
    containerOf,
    layoutOf,
    parseCommon,
    pickService,
    remoteToolError,
    RemoteError,
    streamRemote,
} from "./lib/remote";

export const HELP = `Usage: npm run logs -- --stack <name> [--service <name>] [--process <name>] [--server web-N] [-f] [--since <time>] [--lines <n>]

Prints the logs of one service's process (default: its app; or one of its workers; or
proxy, the edge) on every server of the stack, or on --server only. --service may be left
out when the stack runs one service.

  -f, --follow       keep streaming new lines (Ctrl-C stops)
  --since <time>     only lines since 10m, 2h, 1d or an RFC 3339 time
  --lines <n>        the last n lines of each server (default 200 without --since)
  --work-dir <dir>   where the stack files live (default: this repository)

Exit codes: 0 ok, 1 a server had no such container or its logs failed, 2 usage error,
255 a server could not be reached (the cause is named: the tailnet, the ACL, the host key).`;

type Io = { out: (s: string) => void; err: (s: string) => void };

/** The remote command printing a process's logs (of `service`; the proxy has none). Pure. */
export function logsCommand(
    process: string,
    o: { follow: boolean; since?: string; lines?: number; service?: string },
): string {
    const args = ["docker", "logs", "--timestamps"];
    if (o.follow) args.push("--follow");
    if (o.since) args.push("--since", o.since);
    if (o.lines !== undefined || !o.since) args.push("--tail", String(o.lines ?? 200));
    const what = process === "proxy" || !o.service ? process : `${o.service} ${process}`;
    // The container is found by its labels on the server: the deploy names them by release.
    return `c=${containerOf(process, o.service)}; [ -n "$c" ] || { echo ${shellJoin([`no running ${what} container on this server`])} >&2; exit 3; }; ${shellJoin(args)} "$c"`;
}

export async function main(argv: string[], io: Io): Promise<number> {
    try {
        const a = parseCommon(
            argv.map((x) => (x === "-f" ? "--follow" : x)),
            ["--stack", "--server", "--service", "--process", "--since", "--lines", "--work-dir"],
            ["--follow"],
        );
        if (a.help) {
            io.out(`${HELP}\n`);
            return 0;
        }
        if (!a.values.stack) throw new RemoteError("--stack is required");
        const since = a.values.since;
        if (since !== undefined && !/^(\d+[smhd]|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)$/.test(since))
            throw new RemoteError(`--since ${since}: expected a duration such as 10m, 2h, 1d or an RFC 3339 time`);
        const lines = a.values.lines === undefined ? undefined : Number(a.values.lines);
        if (lines !== undefined && (!Number.isInteger(lines) || lines < 0))
            throw new RemoteError(`--lines ${a.values.lines}: expected a whole number`);
        const proc = a.values.process ?? "app";
        const dir = path.resolve(a.values["work-dir"] ?? path.join(__dirname, ".."));
        const layout = layoutOf(a.values.stack, dir, a.values.server);
        // The edge proxy belongs to no service.
        const service =
            proc === "proxy" && a.values.service === undefined
                ? undefined
                : pickService(layout.services, a.values.service, a.values.stack);
        if (service) checkProcess(service, proc);
        const cmd = logsCommand(proc, { follow: a.flags.has("follow"), since, lines, service: service?.name });
        const codes = await Promise.all(layout.hosts.map((h) => streamRemote(h, cmd, io.out, layout.hosts.length > 1)));
        if (codes.includes(255)) return 255;
        return codes.every((c) => c === 0) ? 0 : 1;
    } catch (e) {
        return remoteToolError(e, io.err);
    }
}

if (require.main === module) runCli(main);
