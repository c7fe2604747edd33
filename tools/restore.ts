/**
 * `npm run restore -- --stack <name> (--to-release <tag|digest> | --to-time <ISO time>) [--yes] [--json]`
 *
 * Restores the stack's database to a point in time, the Pulumi way: writes `databaseRestore`
 * to the stack's config (a new cluster restored from the current one at that time), previews,
 * and with --yes runs a normal `up`, which creates the cluster and re-deploys the app onto it.
 * The old cluster stays, protected, until the team retires it (docs/operations.md).
 * Exit codes: 0 restored, 1 the update failed, 2 could not start, 3 refused (outside the
 * restore window, a restore already configured, a preview that would delete data, or no --yes).
 */
import { Automation, EXIT, currentRelease, fullHistory, localAutomation, requireKnownStack, ToolError, upProgress } from "./lib/automation";
import { Args, Io, Reporter, runCli, runTool, workDirOf } from "./lib/cli";
import { previewChanges } from "./lib/deploy";
import { describeSet, releasesFromHistory } from "./lib/releases";
import { checkWindow, destructiveDataChanges, parseRestoreTime, releaseRestorePoint, RestoreError, restoredClusterName } from "./lib/restore";
import { configKey } from "../infra/config/schema";

const HELP = `Usage: npm run restore -- --stack <name> (--to-release <tag|digest> | --to-time <time>) [--yes] [--json]

Restores the stack's Postgres to a point in time into a NEW cluster (DigitalOcean restores
only into a new cluster, within the last 7 days), then re-deploys the app onto it with a
normal pulumi up. The old cluster is kept, protected, until you retire it.
  --stack <name>         the stack
  --to-release <tag>     the data as it was just before that release's migration (its restore
                         point, see npm run releases)
  --to-time <time>       an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z
  --name <cluster>       the new cluster's name (default: <old name>-r<yyyymmdd>t<hhmm>)
  --yes                  apply after the preview (without it: preview only, nothing changes)
  --json                 print the result as JSON on stdout (progress goes to stderr)
  --work-dir <dir>       the project directory (default: this repository)

Exit codes: 0 restored, 1 the update failed, 2 could not start, 3 refused.`;

const KEY = configKey("databaseRestore");

/** `now` and `automation` are for tests: a fixed clock, a stand-in for the Automation API. */
export function main(argv: string[], io: Io, { now = () => new Date(), automation = localAutomation }: { now?: () => Date; automation?: Automation } = {}): Promise<number> {
    return runTool({
        name: "restore", help: HELP, values: ["--stack", "--to-release", "--to-time", "--name", "--work-dir"], flags: ["--yes", "--json"],
        userErrors: [RestoreError], run: (args, r) => restore(args, r, now, automation),
    }, argv, io);
}

async function restore(args: Args, r: Reporter, now: () => Date, automation: Automation): Promise<number> {
    const log = r.log;
    const workDir = workDirOf(args.values);
    const stackName = r.stack = requireKnownStack(args.values.stack, workDir);
    const { "to-release": toRelease, "to-time": toTime } = args.values;
    if (!!toRelease === !!toTime) throw new ToolError("give exactly one of --to-release <tag> and --to-time <time>");
    const requested = toTime ? parseRestoreTime(toTime) : undefined;

    const stack = await automation.selectStack(stackName, workDir);
    const config = await stack.getAllConfig();
    const existing = config[KEY]?.value;
    if (existing && existing !== "{}") {
        return refuse(r, `a restore is already configured in ${KEY} (${existing}): finish it first (docs/operations.md, "Restore the database to a point in time")`);
    }

    let time: string;
    let basis: string;
    if (requested) {
        time = requested;
        basis = `the time asked for`;
    } else {
        const { release, point } = releaseRestorePoint(releasesFromHistory(await fullHistory(stack)), toRelease!, await currentRelease(stack));
        time = point.time.replace(/\.000Z$/, "Z");
        basis = point.source === "database-clock"
            ? `release ${describeSet(release.services)}'s restore point (database clock, just before its migration)`
            : `the start of release ${describeSet(release.services)}'s update (it recorded no database-clock restore point; this is earlier than its migration)`;
    }
    try { checkWindow(time, now()); } catch (e) { return refuse(r, (e as Error).message); }

    const source = config[configKey("dbClusterName")]?.value || `platform-${stackName}-pg`;
    const clusterName = args.values.name ?? restoredClusterName(source, time);
    log(`${stackName}: restoring ${source} to ${time} (${basis}) into a new cluster ${clusterName}`);

    const set = async (field: string, value: string) => stack.setConfig(`${KEY}.${field}`, { value, secret: false }, true);
    await set("sourceCluster", source);
    await set("time", time);
    await set("clusterName", clusterName);
    const undo = () => stack.removeConfig(KEY);

    const { changes, flagged: destructive } = await previewChanges(stack, undo, destructiveDataChanges, log);
    if (destructive.length > 0) {
        await undo();
        return refuse(r, `the preview would ${destructive.map((c) => `${c.op} ${c.name}`).join(", ")} (marked !): a restore only adds a cluster; nothing changed`, { changes });
    }
    if (!args.flags.has("yes")) {
        await undo();
        return refuse(r, "preview only: nothing changed; re-run with --yes to restore", { time, clusterName, changes });
    }

    let up;
    try {
        up = await stack.up({ onEvent: upProgress(log) });
    } catch (e) {
        if ((e as Error).name === "ConcurrentUpdateError") throw e;
        const line = `${(e as Error).message}`.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error:")) ?? "pulumi up failed";
        const reason = `${line.replace(/^error:\s*/, "")} (${KEY} stays set, so re-running \`pulumi up --stack ${stackName}\` continues the restore)`;
        log(`failed: ${reason}`);
        return r.done({ result: "failed", time, clusterName, source, reason }, EXIT.failed);
    }
    log(`restored: the app now uses ${clusterName}; ${source} is kept (protected) until you retire it (docs/operations.md)`);
    return r.done({ result: "succeeded", time, clusterName, source, release: up.outputs.release?.value }, EXIT.ok);
}

function refuse(r: Reporter, reason: string, extra: Record<string, unknown> = {}): number {
    r.log(`refused: ${reason}`);
    return r.done({ result: "refused", reason, ...extra }, EXIT.refused);
}

if (require.main === module) runCli(main);
