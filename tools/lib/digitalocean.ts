/**
 * The few DigitalOcean API reads `npm run restore` makes, behind one small interface: the
 * tool passes a reader over `fetch` with DIGITALOCEAN_TOKEN, tests a typed fake. And the
 * scopes a deploy token needs, which doctor checks and the configuration reference lists.
 */

/**
 * The custom scopes a deploy token needs (docs.digitalocean.com/reference/api/scopes): create,
 * read, update and delete on each resource type the program manages, plus the single scopes.
 * `database:view_credentials` is a scope of its own ("View Databases Credentials", associated
 * with `database:create`): without it the database user's password reads back empty and
 * DATABASE_URL gets none. The control panel adds the read scopes each one requires (such as
 * `regions:read`, `sizes:read`). This list is the one home: docs/configuration.md is generated
 * from it (`npm run gen:config-docs`).
 */
export const DO_TOKEN_SCOPES = {
    crud: [
        "droplet",
        "vpc",
        "firewall",
        "database",
        "load_balancer",
        "certificate",
        "domain",
        "reserved_ip",
        "project",
        "monitoring",
        "uptime",
    ],
    single: ["database:view_credentials", "tag:create", "tag:read", "ssh_key:read", "account:read"],
} as const;

/** One backup of a managed database cluster. */
export interface DatabaseBackup {
    /** When the backup was taken, ISO 8601 in UTC. */
    createdAt: string;
    sizeGigabytes: number;
}

/** What the tools need to know of a managed database cluster. */
export interface DatabaseClusterInfo {
    id: string;
    name: string;
    /** Primary plus standbys, as DigitalOcean reports them now. */
    numNodes: number;
}

export interface DatabasesApi {
    /** The cluster of that name, or undefined when the account has none. */
    cluster(name: string): Promise<DatabaseClusterInfo | undefined>;
    /**
     * The cluster's backups, as DigitalOcean lists them: `GET /v2/databases/{uuid}/backups`
     * answers `{ backups: [{ created_at, size_gigabytes }], ... }` (digitalocean/openapi,
     * specification/resources/databases/databases_list_backups.yml; godo databases.go
     * ListBackups). PostgreSQL and MySQL only.
     */
    backups(clusterId: string): Promise<DatabaseBackup[]>;
}

/** A reader over DigitalOcean's API with a token (database read scope). */
export function databasesApi(token: string, api = "https://api.digitalocean.com"): DatabasesApi {
    const get = async (p: string): Promise<unknown> => {
        const res = await fetch(`${api}${p}`, {
            headers: { authorization: `Bearer ${token}`, accept: "application/json" },
        });
        if (!res.ok)
            throw new Error(
                `DigitalOcean answered ${res.status} for GET ${p.split("?")[0]}${res.status === 401 || res.status === 403 ? " (the token needs the database read scope)" : ""}`,
            );
        return res.json();
    };
    return {
        async cluster(name) {
            // "all of the database clusters available on your account", not paged: the operation
            // takes only `tag_name` (digitalocean/openapi, databases_list_clusters.yml).
            const body = (await get("/v2/databases")) as {
                databases?: { id: string; name: string; num_nodes: number }[] | null;
            };
            const c = (body.databases ?? []).find((d) => d.name === name);
            return c ? { id: c.id, name: c.name, numNodes: c.num_nodes } : undefined;
        },
        async backups(clusterId) {
            const body = (await get(`/v2/databases/${encodeURIComponent(clusterId)}/backups`)) as {
                backups?: { created_at: string; size_gigabytes: number }[] | null;
            };
            return (body.backups ?? []).map((b) => ({ createdAt: b.created_at, sizeGigabytes: b.size_gigabytes }));
        },
    };
}
