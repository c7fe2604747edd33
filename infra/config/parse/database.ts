/** The managed Postgres cluster, its pool, and the optional restore and dumps. */
import { DB_SIZES, PG_VERSIONS, dbConnectionLimit } from "../catalog";
import { ParseContext, q, Reader } from "../reader";
import { STACK_TIERS, StackName } from "../schema";
import { fail, isBucketName, isClusterName, isPgIdentifier, isUtcHourMinute, isUtcTime, oneOf } from "../validate";

export interface DatabaseSettings {
    clusterName: string;
    version: string;
    size: string;
    nodeCount: number;
    name: string;
    user: string;
    poolSize: number;
    poolMode: string;
    maintenanceDay: string;
    maintenanceHour: string;
    /** A point-in-time restore into a second cluster, when `databaseRestore` is set. */
    restore?: DatabaseRestore;
    /** A logical dump before each migration, when `dbDump` is set. */
    dump?: DatabaseDump;
}

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
export const POOL_MODES = ["transaction", "session", "statement"];

export function parseDatabase(r: Reader, ctx: ParseContext): DatabaseSettings {
    const size = oneOf(q("dbSize"), r.str("dbSize"), Object.keys(DB_SIZES), "a managed Postgres size slug");
    const nodeCount = r.int("dbNodeCount", 1, 3);
    checkDatabaseNodes(ctx.stack, size, nodeCount);
    const limit = dbConnectionLimit(size)!;
    const name = r.str("dbName");
    const user = r.str("dbUser");
    const maintenanceHour = r.str("dbMaintenanceHour");
    const clusterName = r.str("dbClusterName") || `${ctx.prefix}-pg`;
    if (!isClusterName(clusterName))
        fail(q("dbClusterName"), clusterName, "expected 3 to 63 lowercase letters, digits and dashes");
    return {
        clusterName,
        version: oneOf(
            q("dbVersion"),
            r.str("dbVersion"),
            PG_VERSIONS,
            "a PostgreSQL version DigitalOcean offers for new clusters",
        ),
        size,
        nodeCount,
        name: isPgIdentifier(name)
            ? name
            : fail(q("dbName"), name, "expected a Postgres identifier: lowercase letters, digits, underscores"),
        user:
            isPgIdentifier(user) && user !== "doadmin"
                ? user
                : fail(q("dbUser"), user, "expected a Postgres identifier other than doadmin"),
        poolSize: poolSizeWithin(r, size, limit),
        poolMode: oneOf(q("dbPoolMode"), r.str("dbPoolMode"), POOL_MODES, "a PgBouncer pool mode"),
        maintenanceDay: oneOf(q("dbMaintenanceDay"), r.str("dbMaintenanceDay").toLowerCase(), WEEKDAYS, "a weekday"),
        maintenanceHour: isUtcHourMinute(maintenanceHour)
            ? maintenanceHour
            : fail(q("dbMaintenanceHour"), maintenanceHour, "expected a UTC time HH:MM"),
        restore: parseDatabaseRestore(r.object("databaseRestore"), clusterName),
        dump: parseDatabaseDump(r.object("dbDump")),
    };
}

/**
 * Standby nodes need at least 2 GiB of RAM, and a stack whose tier wants a standby (prod)
 * needs a primary and one.
 */
export function checkDatabaseNodes(stack: StackName, size: string, nodeCount: number): void {
    if (nodeCount > 1 && DB_SIZES[size].ramGiB < 2) {
        fail(
            q("dbSize"),
            size,
            `expected a size with at least 2 GiB of RAM when dbNodeCount is ${nodeCount} (standby nodes need it), e.g. db-s-1vcpu-2gb`,
        );
    }
    if (STACK_TIERS[stack].standby && nodeCount < 2) {
        fail(q("dbNodeCount"), nodeCount, "expected at least 2 in prod (a primary and a standby)");
    }
}

export interface DatabaseRestore {
    /** The existing cluster whose backups are restored. */
    sourceCluster: string;
    /** The point in time, ISO 8601 in UTC. */
    time: string;
    /** The new cluster's name. */
    clusterName: string;
    /** Stop declaring the source cluster, so it can be removed on purpose (it is unprotected by hand first). */
    retireSource: boolean;
}

/**
 * The `databaseRestore` mapping, validated: undefined when empty (no restore). The window
 * check (DigitalOcean keeps 7 days) belongs to the restore tool, not here: the config stays
 * in place, valid, long after the restore happened.
 */
export function parseDatabaseRestore(
    raw: Record<string, unknown>,
    stackClusterName: string,
): DatabaseRestore | undefined {
    const key = q("databaseRestore");
    if (Object.keys(raw).length === 0) return undefined;
    const allowed = ["sourceCluster", "time", "clusterName", "retireSource"];
    const extra = Object.keys(raw).find((k) => !allowed.includes(k));
    if (extra) fail(key, extra, `expected only ${allowed.join(", ")}`);
    const str = (k: string) =>
        typeof raw[k] === "string"
            ? (raw[k] as string)
            : fail(`${key}.${k}`, raw[k], "expected a string (npm run restore writes this mapping)");
    const sourceCluster = str("sourceCluster");
    if (!isClusterName(sourceCluster))
        fail(
            `${key}.sourceCluster`,
            sourceCluster,
            "expected a cluster name: 3 to 63 lowercase letters, digits and dashes",
        );
    const time = str("time");
    if (!isUtcTime(time)) fail(`${key}.time`, time, "expected a UTC time such as 2026-11-20T14:03:11Z");
    const clusterName = str("clusterName");
    if (!isClusterName(clusterName))
        fail(
            `${key}.clusterName`,
            clusterName,
            "expected a cluster name: 3 to 63 lowercase letters, digits and dashes",
        );
    if (clusterName === sourceCluster || clusterName === stackClusterName) {
        fail(`${key}.clusterName`, clusterName, "expected a new name: DigitalOcean restores only into a new cluster");
    }
    // `pulumi config set --path 'databaseRestore.retireSource' true` may store the string "true".
    const retire = raw.retireSource ?? false;
    if (![true, false, "true", "false"].includes(retire as boolean | string))
        fail(`${key}.retireSource`, retire, "expected true or false");
    return { sourceCluster, time, clusterName, retireSource: retire === true || retire === "true" };
}

/** Regions with Spaces object storage (docs.digitalocean.com/products/spaces/details/availability). */
export const SPACES_REGIONS = [
    "nyc3",
    "sfo2",
    "sfo3",
    "ams3",
    "sgp1",
    "fra1",
    "syd1",
    "blr1",
    "lon1",
    "tor1",
    "atl1",
] as const;

export interface DatabaseDump {
    /** Spaces bucket the program creates for the dumps. */
    bucket: string;
    region: string;
    /** Days a dump is kept (the bucket's lifecycle rule). */
    retentionDays: number;
}

/**
 * The `dbDump` mapping, validated: undefined when empty (no dumps). Bucket names follow the
 * S3 rules Spaces applies: 3 to 63 lowercase letters, digits and dashes, globally unique.
 */
export function parseDatabaseDump(raw: Record<string, unknown>): DatabaseDump | undefined {
    const key = q("dbDump");
    if (Object.keys(raw).length === 0) return undefined;
    const allowed = ["bucket", "region", "retentionDays"];
    const extra = Object.keys(raw).find((k) => !allowed.includes(k));
    if (extra) fail(key, extra, `expected only ${allowed.join(", ")}`);
    const bucket = raw.bucket;
    if (typeof bucket !== "string" || !isBucketName(bucket)) {
        fail(`${key}.bucket`, bucket, "expected a bucket name: 3 to 63 lowercase letters, digits and dashes");
    }
    const region = raw.region;
    if (typeof region !== "string" || !(SPACES_REGIONS as readonly string[]).includes(region)) {
        fail(`${key}.region`, region, `expected a region with Spaces: ${SPACES_REGIONS.join(", ")}`);
    }
    // `pulumi config set --path 'dbDump.retentionDays' 14` stores the string "14".
    const days =
        typeof raw.retentionDays === "string" && /^\d+$/.test(raw.retentionDays)
            ? Number(raw.retentionDays)
            : raw.retentionDays;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 3650) {
        fail(`${key}.retentionDays`, raw.retentionDays, "expected whole days from 1 to 3650");
    }
    return { bucket, region, retentionDays: days };
}

/**
 * A pool size that fits beside the pool it replaces: a pool change creates the new pool
 * before the old one goes (infra/database: deleteBeforeReplace false), so both hold their
 * connections at once, and DigitalOcean refuses a pool beyond the cluster's limit. At most
 * half the limit, any change between two valid sizes fits.
 */
export function poolSizeWithin(r: Reader, size: string, limit: number): number {
    const max = Math.floor(limit / 2);
    const n = r.int("dbPoolSize", 1, limit);
    if (n > max) {
        fail(
            q("dbPoolSize"),
            n,
            `expected at most ${max} on ${size}: half its ${limit} connections, so a pool change (the new pool is created before the old one goes) fits beside the old pool; use a larger dbSize for more`,
        );
    }
    return n;
}
