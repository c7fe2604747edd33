/**
 * A second Postgres cluster restored from one of the stack's cluster's backups, which the
 * app is switched to through a normal deploy. Kept apart from `Database` on purpose: the
 * source cluster, its database, user and pool are untouched by a restore and stay protected
 * until the team retires them (docs/operations.md, "Restore the database from a backup").
 *
 * Provider facts this relies on:
 * - `backupRestore { databaseName, backupCreatedAt }` on `DatabaseCluster` creates a NEW
 *   cluster from an existing cluster's backups (node_modules/@pulumi/digitalocean/
 *   databaseCluster.d.ts, "Create a new database cluster based on a backup of an existing
 *   cluster"; types/input.d.ts DatabaseClusterBackupRestore: `databaseName` is the source
 *   cluster's name, `backupCreatedAt` an ISO 8601 time, the latest backup when omitted).
 * - The provider sends `backup_restore` only in the create request and never reads it back
 *   (terraform-provider-digitalocean digitalocean/database/resource_database_cluster.go:
 *   resourceDigitalOceanDatabaseClusterCreate, and the Read function sets no backup_restore),
 *   so the restore happens once; leaving the config in place later restores nothing again.
 * - DigitalOcean restores only into a new cluster: "Restoring creates a new copy of the
 *   cluster's primary node" and backups "are retained for seven days"
 *   (docs.digitalocean.com/products/databases/postgresql/how-to/restore-from-backups/,
 *   last edited 28 May 2026). The restore tool enforces that window; the program does not,
 *   because the config stays valid after the restore has happened.
 */
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { clusterArgs, connectionUrls, DatabaseArgs, poolName } from "./index";

// The restore point's line and the recovery window are pure facts the tools read too: restorepoint.ts.
export { parseRestorePoint, PITR_WINDOW_DAYS, RESTORE_POINT_MARK } from "./restorepoint";

/** As the stack's own database (its size, pool, maintenance, tags, protection), plus where it comes from. */
export interface RestoredDatabaseArgs extends DatabaseArgs {
    /**
     * Name of the new cluster. Must differ from the source's; the restore tool derives it
     * from the source name and the restore time. Its version must be the source's: a
     * restore cannot change it. The create request asks for `nodeCount` nodes, but DigitalOcean
     * says standbys must be re-added after a restore, so `npm run restore` reads the count back
     * and a `pulumi up --refresh` resizes a short cluster (tools/restore.ts standbyCheck).
     * `dbName`/`dbUser` are the app database and user as they exist in the restored data.
     * @example "platform-prod-pg-r20261120t1403"
     */
    readonly clusterName: string;
    /** Name of the existing cluster whose backups are restored. @example "platform-prod-pg" */
    readonly sourceClusterName: string;
    /**
     * Sent as `backup_restore.backup_created_at`, ISO 8601 in UTC. DigitalOcean's API describes it
     * as "The timestamp of an existing database cluster backup" (digitalocean/openapi,
     * specification/resources/databases/models/database_backup.yml:12-14), so `npm run restore`
     * writes a backup's own time here (tools/lib/restore.ts chooseBackup), or the restore point
     * itself with `--exact-point` after the team's drill (docs/operations.md).
     * @example "2026-11-20T03:12:40Z"
     */
    readonly restoreTime: string;
}

/**
 * The pool on the restored cluster: named like the stack's pool (from every input that
 * forces a new pool, so a later size or mode change is created new-first without a clash)
 * with a suffix, so it can never meet a pool the restore carried over.
 */
export function restoredPoolName(p: { dbName: string; user: string; mode: string; size: number }): string {
    return `${poolName(p)}-restored`;
}

/**
 * The restored cluster, a pool and a firewall on it. The app database and user are not
 * created: they come back with the data. The user's password is read from the new cluster.
 */
export class RestoredDatabase extends pulumi.ComponentResource {
    readonly cluster: digitalocean.DatabaseCluster;
    readonly pool: digitalocean.DatabaseConnectionPool;
    readonly privateHost: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    /** Direct connection (migrations). Secret. */
    readonly directUrl: pulumi.Output<string>;
    /** Through the pool (app processes). Secret. */
    readonly poolUrl: pulumi.Output<string>;

    constructor(name: string, args: RestoredDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:database:RestoredDatabase", name, {}, opts);
        if (args.clusterName === args.sourceClusterName) {
            throw new Error(
                `RestoredDatabase ${name}: clusterName must differ from the source cluster ${args.sourceClusterName} (DigitalOcean restores into a new cluster only)`,
            );
        }
        this.cluster = new digitalocean.DatabaseCluster(
            `${name}-restored-cluster`,
            {
                ...clusterArgs(args),
                backupRestore: { databaseName: args.sourceClusterName, backupCreatedAt: args.restoreTime },
            },
            {
                parent: this,
                protect: args.protect,
                retainOnDelete: args.protect,
                additionalSecretOutputs: ["password", "uri", "privateUri"],
            },
        );

        const user = digitalocean.getDatabaseUserOutput(
            { clusterId: this.cluster.id, name: args.dbUser },
            { parent: this },
        );
        this.pool = new digitalocean.DatabaseConnectionPool(
            `${name}-restored-pool`,
            {
                clusterId: this.cluster.id,
                name: restoredPoolName({
                    dbName: args.dbName,
                    user: args.dbUser,
                    mode: args.poolMode,
                    size: args.poolSize,
                }),
                mode: args.poolMode,
                size: args.poolSize,
                dbName: args.dbName,
                user: args.dbUser,
            },
            { parent: this, additionalSecretOutputs: ["password", "uri", "privateUri"] },
        );
        new digitalocean.DatabaseFirewall(
            `${name}-restored-firewall`,
            {
                clusterId: this.cluster.id,
                rules: [{ type: "tag", value: args.serverTag }],
            },
            { parent: this },
        );

        this.privateHost = this.cluster.privateHost;
        this.port = this.cluster.port;
        ({ directUrl: this.directUrl, poolUrl: this.poolUrl } = connectionUrls({
            user: args.dbUser,
            password: pulumi.secret(user.password),
            database: args.dbName,
            cluster: this.cluster,
            pool: this.pool,
        }));
        this.registerOutputs({ privateHost: this.privateHost, port: this.port });
    }
}
