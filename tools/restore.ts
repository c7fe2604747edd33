/**
 * `npm run restore -- --stack <name> (--to-release <tag|digest> | --to-time <ISO time>) [--dry-run] [--yes] [--json]`
 *
 * Restores the stack's database from a backup, the Pulumi way: lists the source cluster's
 * backups through DigitalOcean's API, picks the newest at or before the restore point and says
 * which writes it will not bring back, writes `databaseRestore` to the stack's config (a new
 * cluster restored from that backup), previews, and with --yes runs a normal `up`, which
 * creates the cluster and re-deploys the app onto it; then it checks the new cluster's nodes.
 * The old cluster stays, protected, until the team retires it (docs/operations.md).
 * Exit codes: 0 restored (or a dry run), 1 the update failed, 2 could not start, 3 refused
 * (outside the backups, a restore already configured, a preview that would delete data, or no --yes).
 */
import {
    Automation,
    EXIT,
    currentRelease,
    fullHistory,
    localAutomation,
    requireKnownStack,
    ToolError,
    upProgress,
} from "./lib/automation";
import { Args, Io, Reporter, runCli, runTool, workDirOf } from "./lib/cli";
import { previewChanges } from "./lib/deploy";
import { DatabasesApi, databasesApi } from "./lib/digitalocean";
import { formatDuration } from "./lib/notify";
import { describeSet, releasesFromHistory } from "./lib/releases";
import {
    BackupChoice,
    checkWindow,
    chooseBackup,
    destructiveDataChanges,
    parseRestoreTime,
    releaseRestorePoint,
    RestoreError,
    restoredClusterName,
} from "./lib/restore";
import { configKey, KEYS } from "../infra/config/schema";

const HELP = `Usage: npm run restore -- --stack <name> (--to-release <tag|digest> | --to-time <time>) [--dry-run] [--yes] [--json]

Restores the stack's Postgres from a backup into a NEW cluster (DigitalOcean restores only
into a new cluster, from the backups of the last 7 days), then re-deploys the app onto it with
a normal pulumi up. The old cluster is kept, protected, until you retire it.
DigitalOcean's API restores a backup (one a day), not a point in time: the tool restores the
newest backup at or before the restore point and prints the writes it will not bring back
(from that backup to the restore point) before anything changes.
  --stack <name>         the stack
  --to-release <tag>     the data as it was just before that release's migration (its restore
                         point, see npm run releases)
  --to-time <time>       an ISO 8601 time with its zone, e.g. 2026-11-20T14:03:11Z
  --exact-point          ask DigitalOcean for the restore point itself, not the backup before
                         it: only after the drill in docs/operations.md showed your account's
                         API restores to any time
  --name <cluster>       the new cluster's name (default: <old name>-r<yyyymmdd>t<hhmm>)
  --dry-run              say which backup would be restored, what it loses and into which
                         cluster; change nothing and run no preview
  --yes                  apply after the preview (without it: preview only, nothing changes)
  --json                 print the result as JSON on stdout (progress goes to stderr)
  --work-dir <dir>       the project directory (default: this repository)

Needs DIGITALOCEAN_TOKEN (database read scope) to list the backups.
Exit codes: 0 restored (or a dry run), 1 the update failed, 2 could not start, 3 refused.`;

const KEY = configKey("databaseRestore");

export interface RestoreDeps {
    /** A fixed clock (tests). */
    now?: () => Date;
    /** The Automation API, or a stand-in. */
    automation?: Automation;
    /** DigitalOcean's database API, or a stand-in; default: over fetch with DIGITALOCEAN_TOKEN. */
    databases?: DatabasesApi;
}

export function main(argv: string[], io: Io, deps: RestoreDeps = {}): Promise<number> {
    return runTool(
        {
            name: "restore",
            help: HELP,
            values: ["--stack", "--to-release", "--to-time", "--name", "--work-dir"],
            flags: ["--yes", "--dry-run", "--exact-point", "--json"],
            userErrors: [RestoreError],
            run: (args, r) => restore(args, r, deps),
        },
        argv,
        io,
    );
}

function databasesFromEnv(): DatabasesApi {
    const token = process.env.DIGITALOCEAN_TOKEN ?? "";
    if (token === "")
        throw new ToolError(
            "DIGITALOCEAN_TOKEN is not set: restore lists the source cluster's backups through DigitalOcean's API (database read scope)",
        );
    return databasesApi(token);
}

async function restore(args: Args, r: Reporter, deps: RestoreDeps): Promise<number> {
    const log = r.log;
    const now = deps.now ?? (() => new Date());
    const workDir = workDirOf(args.values);
    const stackName = (r.stack = requireKnownStack(args.values.stack, workDir));
    const { "to-release": toRelease, "to-time": toTime } = args.values;
    if (!!toRelease === !!toTime) throw new ToolError("give exactly one of --to-release <tag> and --to-time <time>");
    if (args.flags.has("dry-run") && args.flags.has("yes")) throw new ToolError("give --dry-run or --yes, not both");
    const requested = toTime ? parseRestoreTime(toTime) : undefined;
    const exact = args.flags.has("exact-point");

    const stack = await (deps.automation ?? localAutomation).selectStack(stackName, workDir);
    const config = await stack.getAllConfig();
    const existing = config[KEY]?.value;
    if (existing && existing !== "{}") {
        return refuse(
            r,
            `a restore is already configured in ${KEY} (${existing}): finish it first (docs/operations.md, "Restore the database from a backup")`,
        );
    }

    let point: string;
    let basis: string;
    if (requested) {
        point = requested;
        basis = `the time asked for`;
    } else {
        const { release, point: p } = releaseRestorePoint(
            releasesFromHistory(await fullHistory(stack)),
            toRelease!,
            await currentRelease(stack),
        );
        point = p.time.replace(/\.000Z$/, "Z");
        basis =
            p.source === "database-clock"
                ? `release ${describeSet(release.services)}'s restore point (database clock, just before its migration)`
                : `the start of release ${describeSet(release.services)}'s update (it recorded no database-clock restore point; this is earlier than its migration)`;
    }
    try {
        checkWindow(point, now());
    } catch (e) {
        return refuse(r, (e as Error).message);
    }

    const source = config[configKey("dbClusterName")]?.value || `platform-${stackName}-pg`;
    const databases = deps.databases ?? databasesFromEnv();
    const cluster = await databases.cluster(source);
    if (!cluster)
        throw new ToolError(
            `no database cluster named ${source} on the DigitalOcean account of DIGITALOCEAN_TOKEN (dbClusterName)`,
        );
    let choice: BackupChoice;
    try {
        choice = chooseBackup(await databases.backups(cluster.id), point, source, exact);
    } catch (e) {
        if (e instanceof RestoreError) return refuse(r, e.message);
        throw e;
    }
    const time = choice.restoreTime;
    const clusterName = args.values.name ?? restoredClusterName(source, time);
    const nodes = Number(config[configKey("dbNodeCount")]?.value ?? KEYS.dbNodeCount.default);
    const plan = {
        point,
        time,
        exactPoint: exact,
        backup: choice.backup,
        lost: choice.lost ?? null,
        source,
        clusterName,
        nodeCount: nodes,
    };
    log(`${stackName}: restore point ${point} (${basis})`);
    log(`${stackName}: restoring ${source}'s backup of ${time} into a new cluster ${clusterName}`);
    if (choice.lost) {
        log(
            `lost: writes from ${choice.lost.from} to ${choice.lost.to} (${formatDuration(choice.lost.seconds)}) will not come back: DigitalOcean's API restores a backup (one a day), not a point in time; the newest backup at or before the restore point is ${choice.lost.from} (docs/operations.md, "What a restore loses")`,
        );
    } else {
        log(
            `--exact-point: asking DigitalOcean for ${time} itself (the newest backup before it is ${utcOf(choice.backup.createdAt)}); this holds only if the restore drill in docs/operations.md showed your account's API restores to any time`,
        );
    }
    if (args.flags.has("dry-run")) {
        log("dry run: nothing changed; without --dry-run the tool previews this restore, and applies it with --yes");
        return r.done({ result: "dry-run", ...plan }, EXIT.ok);
    }

    const set = async (field: string, value: string) =>
        stack.setConfig(`${KEY}.${field}`, { value, secret: false }, true);
    await set("sourceCluster", source);
    await set("time", time);
    await set("clusterName", clusterName);
    const undo = () => stack.removeConfig(KEY);

    const { changes, flagged: destructive } = await previewChanges(stack, undo, destructiveDataChanges, log);
    if (destructive.length > 0) {
        await undo();
        return refuse(
            r,
            `the preview would ${destructive.map((c) => `${c.op} ${c.name}`).join(", ")} (marked !): a restore only adds a cluster; nothing changed`,
            { ...plan, changes },
        );
    }
    if (!args.flags.has("yes")) {
        await undo();
        return refuse(r, "preview only: nothing changed; re-run with --yes to restore", { ...plan, changes });
    }

    let up;
    try {
        up = await stack.up({ onEvent: upProgress(log) });
    } catch (e) {
        if ((e as Error).name === "ConcurrentUpdateError") throw e;
        const line =
            `${(e as Error).message}`
                .split("\n")
                .map((l) => l.trim())
                .find((l) => l.startsWith("error:")) ?? "pulumi up failed";
        const reason = `${line.replace(/^error:\s*/, "")} (${KEY} stays set, so re-running \`pulumi up --stack ${stackName}\` continues the restore)`;
        log(`failed: ${reason}`);
        return r.done({ result: "failed", ...plan, reason }, EXIT.failed);
    }
    log(
        `restored: the app now uses ${clusterName}; ${source} is kept (protected) until you retire it (docs/operations.md)`,
    );
    const standby = await standbyCheck(databases, clusterName, nodes, stackName, log);
    return r.done({ result: "succeeded", ...plan, standby, release: up.outputs.release?.value }, EXIT.ok);
}

const utcOf = (t: string) => new Date(t).toISOString().replace(/\.000Z$/, "Z");

/**
 * DigitalOcean restores into a new primary: "When you restore from a backup, you must restore
 * to a new node and re-add any read-only or standby nodes" (DigitalOcean's PostgreSQL limits
 * page), although the program asks for `nodeCount` in the same create request
 * (infra/database/index.ts clusterArgs). So the restored cluster's nodes are read back. Fewer
 * than the stack wants are re-added by an update: the provider's Create ends with a Read that
 * records the cluster's `num_nodes` as `node_count`, and its Update resizes the cluster when
 * `node_count` differs (terraform-provider-digitalocean digitalocean/database/
 * resource_database_cluster.go: resourceDigitalOceanDatabaseClusterRead sets node_count from
 * database.NumNodes; resourceDigitalOceanDatabaseClusterUpdate calls Databases.Resize on
 * d.HasChanges("size", "node_count", ...)). `--refresh` makes that hold even if the count
 * dropped after the create's Read.
 */
async function standbyCheck(
    databases: DatabasesApi,
    clusterName: string,
    want: number,
    stackName: string,
    log: (l: string) => void,
) {
    const restored = await databases.cluster(clusterName).catch(() => undefined);
    if (!restored) {
        const fix = `check its nodes in the control panel; if fewer than ${want}, run pulumi up --refresh --stack ${stackName}`;
        log(`warning: could not read ${clusterName}'s nodes from DigitalOcean: ${fix}`);
        return { want, have: null, fix };
    }
    if (restored.numNodes >= want) {
        log(`nodes: ${clusterName} has ${restored.numNodes} of ${want} (dbNodeCount)`);
        return { want, have: restored.numNodes };
    }
    const fix = `pulumi up --refresh --stack ${stackName}`;
    log(
        `warning: ${clusterName} has ${restored.numNodes} node(s), the stack wants ${want} (dbNodeCount): DigitalOcean re-adds no standby after a restore. Run \`${fix}\`: the refresh records ${restored.numNodes} and the update resizes the cluster to ${want}`,
    );
    return { want, have: restored.numNodes, fix };
}

function refuse(r: Reporter, reason: string, extra: Record<string, unknown> = {}): number {
    r.log(`refused: ${reason}`);
    return r.done({ result: "refused", reason, ...extra }, EXIT.refused);
}

if (require.main === module) runCli(main);
