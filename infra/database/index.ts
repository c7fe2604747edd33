import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DatabaseArgs {
    /**
     * Cluster name. Changing it replaces the cluster, so it only changes when adopting a
     * cluster restored to a point in time (see docs/operations.md).
     * @example "platform-prod-pg"
     */
    readonly clusterName: string;
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /** PostgreSQL major version. @example "17" */
    readonly version: string;
    /** Node size slug. Nodes can only grow: DigitalOcean cannot resize a cluster down. @example "db-s-1vcpu-2gb" */
    readonly size: string;
    /** Primary plus standbys; prod needs at least 2 so a node failure fails over. @example 2 */
    readonly nodeCount: number;
    readonly dbName: string;
    readonly dbUser: string;
    readonly poolSize: number;
    readonly poolMode: string;
    /** Maintenance window (UTC). @example { day: "sunday", hour: "03:00" } */
    readonly maintenance: { day: string; hour: string };
    /** Tags: the stack tag, for billing and policy. */
    readonly tags: pulumi.Input<string>[];
    /** The app servers' tag: the only clients the database firewall admits. */
    readonly serverTag: pulumi.Input<string>;
    /**
     * Protect the cluster and database: `protect` refuses deletes and replacements in Pulumi,
     * `retainOnDelete` keeps the cloud resource if it ever leaves the program.
     * @default false (on in prod)
     */
    readonly protect: boolean;
}

/** `postgresql://user:password@host:port/db?sslmode=require` with the password URL-encoded. */
export function connectionString(p: {
    user: string;
    password: string;
    host: string;
    port: number;
    database: string;
}): string {
    return `postgresql://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@${p.host}:${p.port}/${encodeURIComponent(p.database)}?sslmode=require`;
}

/**
 * The pool's name, derived from every input that forces a new pool. A pool has no update
 * at all (every field is ForceNew in database/resource_database_connection_pool.go) and its
 * name is unique in the cluster, so a new size or mode under the old name would be refused
 * while the old pool still exists. With a derived name the new pool is created first, the
 * app is redeployed onto it (the pool name is the database name in DATABASE_URL), and only
 * then is the old pool deleted: the app never loses its connection.
 * @example poolName({ dbName: "app", user: "app", mode: "transaction", size: 20 }) === "app-transaction-20"
 */
export function poolName(p: { dbName: string; user: string; mode: string; size: number }): string {
    return p.user === p.dbName ? `${p.dbName}-${p.mode}-${p.size}` : `${p.dbName}-${p.user}-${p.mode}-${p.size}`;
}

/** The cluster's inputs from the stack's database settings: the stack's own cluster and a restored one share them. */
export function clusterArgs(args: DatabaseArgs): digitalocean.DatabaseClusterArgs {
    return {
        name: args.clusterName,
        engine: "pg",
        version: args.version,
        size: args.size,
        nodeCount: args.nodeCount,
        region: args.region,
        privateNetworkUuid: args.vpcId,
        maintenanceWindows: [{ day: args.maintenance.day, hour: `${args.maintenance.hour}:00` }],
        tags: args.tags,
    };
}

/** The direct URL (migrations) and the pooled one (app processes) of a user on a cluster, both secret. */
export function connectionUrls(p: {
    user: pulumi.Input<string>;
    password: pulumi.Input<string>;
    database: pulumi.Input<string>;
    cluster: digitalocean.DatabaseCluster;
    pool: digitalocean.DatabaseConnectionPool;
}): { directUrl: pulumi.Output<string>; poolUrl: pulumi.Output<string> } {
    const url = (host: pulumi.Input<string>, port: pulumi.Input<number>, database: pulumi.Input<string>) =>
        pulumi.secret(
            pulumi
                .all([p.user, p.password, host, port, database])
                .apply(([user, password, h, n, db]) =>
                    connectionString({ user, password, host: h, port: n, database: db }),
                ),
        );
    return {
        directUrl: url(p.cluster.privateHost, p.cluster.port, p.database),
        poolUrl: url(p.pool.privateHost, p.pool.port, p.pool.name),
    };
}

/**
 * Managed PostgreSQL in the stack's VPC: cluster, app database and user, a PgBouncer pool,
 * and a database firewall that admits only the app servers' tag.
 */
export class Database extends pulumi.ComponentResource {
    readonly cluster: digitalocean.DatabaseCluster;
    readonly database: digitalocean.DatabaseDb;
    readonly user: digitalocean.DatabaseUser;
    readonly pool: digitalocean.DatabaseConnectionPool;
    /** Private host and port of the cluster (VPC only). */
    readonly privateHost: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    /** Direct connection (migrations, session features). Secret. */
    readonly directUrl: pulumi.Output<string>;
    /** Through the pool (app processes). Secret. */
    readonly poolUrl: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:database:Database", name, {}, opts);
        const dataOpts: pulumi.CustomResourceOptions = {
            parent: this,
            protect: args.protect,
            retainOnDelete: args.protect,
        };
        this.cluster = new digitalocean.DatabaseCluster(`${name}-cluster`, clusterArgs(args), {
            ...dataOpts,
            additionalSecretOutputs: ["password", "uri", "privateUri"],
        });
        this.database = new digitalocean.DatabaseDb(
            `${name}-db`,
            { clusterId: this.cluster.id, name: args.dbName },
            dataOpts,
        );
        this.user = new digitalocean.DatabaseUser(
            `${name}-user`,
            { clusterId: this.cluster.id, name: args.dbUser },
            { parent: this, additionalSecretOutputs: ["password"] },
        );
        this.pool = new digitalocean.DatabaseConnectionPool(
            `${name}-pool`,
            {
                clusterId: this.cluster.id,
                name: poolName({ dbName: args.dbName, user: args.dbUser, mode: args.poolMode, size: args.poolSize }),
                mode: args.poolMode,
                size: args.poolSize,
                dbName: this.database.name,
                user: this.user.name,
            },
            {
                parent: this,
                additionalSecretOutputs: ["password", "uri", "privateUri"],
                // New pool first: its name carries mode and size, so it never clashes, and the app
                // moves to it before the old one goes. Unset, the bridge would delete the old pool
                // first because the program names it (infra/lifecycle/semantics.ts, deleteFirst).
                deleteBeforeReplace: false,
            },
        );
        new digitalocean.DatabaseFirewall(
            `${name}-firewall`,
            {
                clusterId: this.cluster.id,
                rules: [{ type: "tag", value: args.serverTag }],
            },
            { parent: this },
        );

        this.privateHost = this.cluster.privateHost;
        this.port = this.cluster.port;
        ({ directUrl: this.directUrl, poolUrl: this.poolUrl } = connectionUrls({
            user: this.user.name,
            password: this.user.password,
            database: this.database.name,
            cluster: this.cluster,
            pool: this.pool,
        }));
        this.registerOutputs({ privateHost: this.privateHost, port: this.port });
    }
}
