/**
 * Every config key this program reads, in one table: its type, what it does, its default,
 * and whether staging and prod may differ on it (a "knob"). Pulumi.yaml declares the same
 * keys; a test keeps the two in step.
 */

export type KeyType = "string" | "integer" | "boolean" | "array" | "object";

/**
 * How a key may differ between stacks that mirror each other (staging and prod):
 * - `scale`: counts; resource counts may differ, but not the kind of topology;
 * - `size`: slugs and limits that change capacity and cost only;
 * - `name`: names, addresses and domains that must be unique per stack;
 * - `protection`: data protection and approval gates, stricter in prod;
 * - `tuning`: log levels, pools and memory limits;
 * - `release`: which image version runs.
 * Keys without a knob must be equal in staging and prod.
 */
export type Knob = "scale" | "size" | "tuning" | "name" | "protection" | "release";

export interface KeyDef {
    type: KeyType;
    description: string;
    default?: string | number | boolean | string[] | Record<string, unknown>;
    /** Read with getSecret/requireSecret; must be set with `pulumi config set --secret`. */
    secret?: boolean;
    /** Required: no default, must be set in every stack file. */
    required?: boolean;
    knob?: Knob;
    /** For a required key: what is expected and how to set it, when the generic `pulumi config set <key> <value>` says too little. */
    fix?: string;
}

export const PROJECT = "platform";

/**
 * How deployments to a stack with reviewers get approved. GitHub offers required reviewers
 * and wait timers on private repositories only with GitHub Enterprise (Free, Pro and Team:
 * public repositories only), so `workflow` moves the approval into the deploy workflow.
 */
export const APPROVAL_MODES = ["environment", "workflow"] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

/**
 * caddy:2.10-alpine as published on Docker Hub (the multi-arch index digest). Pinned so a
 * preview needs no registry and a moved tag never plans a proxy replacement.
 */
export const DEFAULT_PROXY_IMAGE =
    "caddy:2.10-alpine@sha256:4c6e91c6ed0e2fa03efd5b44747b625fec79bc9cd06ac5235a779726618e530d";

/**
 * postgres:17-alpine as published on Docker Hub (the multi-arch index digest): the client
 * the migration step reads the database's clock with (psql).
 */
export const DEFAULT_DB_CLIENT_IMAGE =
    "postgres:17-alpine@sha256:742f40ea20b9ff2ff31db5458d127452988a2164df9e17441e191f3b72252193";

export const KEYS = {
    // --- network and placement
    region: {
        type: "string",
        default: "nyc3",
        description: "DigitalOcean region slug for every resource of the stack.",
    },
    vpcIpRange: {
        type: "string",
        required: true,
        knob: "name",
        description:
            "Private IPv4 range of the stack's VPC (RFC 1918 CIDR, /16 to /24); must not overlap other stacks' VPCs.",
    },
    protectData: {
        type: "boolean",
        default: false,
        knob: "protection",
        description: "Protect the database cluster and database (protect + retainOnDelete). On in prod.",
    },

    // --- servers
    serverCount: {
        type: "integer",
        default: 1,
        knob: "scale",
        description: "Number of app droplets. More than one puts a load balancer in front; one gets a reserved IP.",
    },
    serverSize: {
        type: "string",
        default: "s-1vcpu-1gb",
        knob: "size",
        description: "Droplet size slug for the app servers.",
    },
    serverImage: {
        type: "string",
        default: "ubuntu-24-04-x64",
        description: "Droplet image slug (an apt-based distribution).",
    },
    serverBackups: {
        type: "boolean",
        default: false,
        knob: "protection",
        description: "Droplet backups (daily, +30% of the droplet price). On in staging and prod.",
    },
    ipv6: { type: "boolean", default: false, description: "Give droplets a public IPv6 address." },
    sshKeys: {
        type: "array",
        required: true,
        description:
            "DigitalOcean SSH key ids or fingerprints installed for root (break-glass only: port 22 is never open to the internet).",
    },
    sshMode: {
        type: "string",
        default: "tailscale",
        description:
            "How operators and CI reach a server's shell: `tailscale` (Tailscale SSH) or `openssh-tailnet` (OpenSSH bound to the tailnet address only).",
    },

    // --- tailnet
    tailnet: {
        type: "string",
        default: "-",
        description: "Tailnet name for the Tailscale provider (`-` means the API key's own tailnet).",
    },
    tailscaleTags: {
        type: "array",
        default: ["tag:server"],
        knob: "name",
        description: "ACL tags the servers join the tailnet with (each `tag:name`).",
    },
    tailscaleKeyExpirySeconds: {
        type: "integer",
        default: 3600,
        description:
            "Lifetime of each server's one-time auth key (300 to 7776000 seconds); only the first boot uses it.",
    },
    tailscaleApiKey: {
        type: "string",
        secret: true,
        required: true,
        knob: "name",
        description: "Tailscale API key (tskey-api-...) the Tailscale provider uses to mint auth keys.",
    },

    // --- database
    dbVersion: { type: "string", default: "17", description: "PostgreSQL major version." },
    dbSize: {
        type: "string",
        default: "db-s-1vcpu-1gb",
        knob: "size",
        description: "Managed Postgres node size slug.",
    },
    dbNodeCount: {
        type: "integer",
        default: 1,
        knob: "scale",
        description: "Postgres nodes: 1 primary plus standbys (prod needs at least 2).",
    },
    dbClusterName: {
        type: "string",
        default: "",
        knob: "name",
        description:
            "Name of the database cluster; empty means platform-<stack>-pg. Set it to adopt a cluster restored from a backup (docs/operations.md).",
    },
    dbName: { type: "string", default: "app", description: "Application database name." },
    dbUser: { type: "string", default: "app", description: "Application database user." },
    dbPoolSize: {
        type: "integer",
        default: 10,
        knob: "tuning",
        description:
            "Connection pool size: at most half the node size's connection limit (25 per GiB of RAM, minus 3), so a pool change fits beside the old pool while it is replaced.",
    },
    dbPoolMode: {
        type: "string",
        default: "transaction",
        description: "PgBouncer pool mode: transaction, session or statement.",
    },
    dbMaintenanceDay: { type: "string", default: "sunday", description: "Weekday of the database maintenance window." },
    dbMaintenanceHour: {
        type: "string",
        default: "03:00",
        description: "UTC start (HH:MM) of the database maintenance window.",
    },
    databaseRestore: {
        type: "object",
        default: {},
        knob: "protection",
        description:
            "A restore from a backup in progress, written by `npm run restore`: {sourceCluster, time (UTC ISO 8601), clusterName, retireSource}. The app moves to the new cluster; the source stays (protected) until retireSource is true.",
    },

    // --- dns and edge
    domain: {
        type: "string",
        required: true,
        description: "Existing DigitalOcean domain (zone) shared by all stacks.",
    },
    frontendHost: {
        type: "string",
        required: true,
        knob: "name",
        description:
            "Record name for the frontend, relative to the domain (`@` for the apex); must carry the stack name outside prod.",
    },
    apiHost: {
        type: "string",
        required: true,
        knob: "name",
        description: "Record name for the API, relative to the domain; must carry the stack name outside prod.",
    },
    dnsTtl: { type: "integer", default: 60, description: "TTL in seconds of the stack's DNS records (30 to 3600)." },
    acmeEmail: { type: "string", default: "", description: "Email Caddy registers with Let's Encrypt (optional)." },

    // --- monitoring
    alertEmails: { type: "array", required: true, description: "Emails that receive droplet and uptime alerts." },
    slackChannel: {
        type: "string",
        default: "",
        description: "Slack channel for alerts (`#ops`); needs slackWebhookUrl.",
    },
    slackWebhookUrl: {
        type: "string",
        secret: true,
        knob: "name",
        description: "Slack incoming webhook URL for alerts (secret).",
    },
    cpuAlertPercent: {
        type: "integer",
        default: 85,
        description: "Alert when a droplet's CPU stays above this percentage for 5 minutes.",
    },
    memoryAlertPercent: {
        type: "integer",
        default: 90,
        description: "Alert when a droplet's memory use stays above this percentage for 5 minutes.",
    },
    diskAlertPercent: {
        type: "integer",
        default: 85,
        description: "Alert when a droplet's disk use stays above this percentage for 5 minutes.",
    },

    // --- app release
    services: {
        type: "object",
        required: true,
        knob: "release",
        description:
            "The app's services, NAME: {image, tag, digest, pin, port, health ({path} | {command} | none), memoryMb, env, secrets, database, routes [host/path], migrationCommand, processes, smokeRequests}; each routed by host and path prefix and cut over on its own. A one-service app declares one entry.",
        fix: "the app's services, one entry per image — declare them in Pulumi.<stack>.yaml, e.g. platform:services: {app: {image: ghcr.io/acme/shop, tag: 1.4.2, port: 3000, health: {path: /healthz}, routes: [app.example.com/]}} (npm run init writes one)",
    },
    proxyImage: {
        type: "string",
        default: DEFAULT_PROXY_IMAGE,
        description:
            "Edge proxy image as repository:tag@sha256:digest; changing it upgrades the proxy on every server, one at a time.",
    },
    dbDump: {
        type: "object",
        default: {},
        knob: "name",
        description:
            "Optional logical dump (pg_dump) before each migration, to a Spaces bucket the program creates: {bucket, region, retentionDays}. Empty: off. A failed dump stops the deploy before anything changes.",
    },
    spacesAccessKeyId: {
        type: "string",
        secret: true,
        knob: "name",
        description: "Spaces access key id (secret) for the dump bucket; needed with dbDump.",
    },
    spacesSecretKey: {
        type: "string",
        secret: true,
        knob: "name",
        description: "Spaces secret key (secret) for the dump bucket; needed with dbDump.",
    },
    dbClientImage: {
        type: "string",
        default: DEFAULT_DB_CLIENT_IMAGE,
        description:
            "Postgres client image (repository:tag@sha256:digest, with psql) the migration step reads the database's clock with: the release's restore point.",
    },
    ghcrUsername: {
        type: "string",
        default: "",
        description:
            "Registry user for pulling private images; set it with ghcrToken (the program refuses one without the other). Leave both unset for public images.",
    },
    ghcrToken: {
        type: "string",
        secret: true,
        knob: "name",
        description: "Registry token with read:packages (secret); omit for public images.",
    },
    logLevel: {
        type: "string",
        default: "info",
        knob: "tuning",
        description: "LOG_LEVEL passed to the app: debug, info, warn or error.",
    },
    appSecrets: {
        type: "object",
        secret: true,
        knob: "name",
        description:
            "App secret values as NAME: value, each listed by the service that receives it (services.<name>.secrets), set with `pulumi config set --secret --path 'appSecrets.NAME'`.",
    },
    healthcheckIntervalSeconds: {
        type: "integer",
        default: 5,
        description: "Interval of a service's Docker healthcheck (health: {command: [...]}), when it has one.",
    },
    healthcheckRetries: {
        type: "integer",
        default: 3,
        description:
            "Failed runs of a service's Docker healthcheck before Docker marks the container unhealthy, when it has one.",
    },
    deployTimeoutSeconds: {
        type: "integer",
        default: 180,
        description:
            "How long a new release's container may take to pass its service's health check (from the proxy's network) before the deploy fails.",
    },
    verifyWindowSeconds: {
        type: "integer",
        default: 30,
        description:
            "How long the post-deploy check watches the public edge after a deploy; a failed smoke request or an error rate above maxErrorPercent rolls back.",
    },
    maxErrorPercent: {
        type: "integer",
        default: 1,
        description: "Error rate (percent of smoke requests) the post-deploy window tolerates before it rolls back.",
    },
    bootTimeoutSeconds: {
        type: "integer",
        default: 900,
        description: "How long to wait for a new server to finish cloud-init and answer over the tailnet.",
    },

    // --- GitHub
    githubOwner: {
        type: "string",
        required: true,
        description: "GitHub owner (user or org) of the repository whose environment this stack manages.",
    },
    githubRepository: {
        type: "string",
        required: true,
        description: "GitHub repository name whose environment this stack manages (environment name = stack name).",
    },
    githubApprovalMode: {
        type: "string",
        default: "environment",
        description:
            "How deployments to a stack with reviewers are approved: `environment` (the GitHub environment's required reviewers; private repositories need GitHub Enterprise) or `workflow` (an approval step in the deploy workflow that only a listed reviewer other than the one who started the deploy can complete; works on every plan).",
    },
    githubReviewers: {
        type: "array",
        default: [],
        knob: "protection",
        description:
            "GitHub usernames who must approve deployments (prod needs at least one reviewer or team; in workflow approval mode at least two users, so someone other than the merger can approve).",
    },
    githubReviewerTeams: {
        type: "array",
        default: [],
        knob: "protection",
        description: "GitHub team slugs (in githubOwner) who may approve deployments.",
    },
    githubWaitTimerMinutes: {
        type: "integer",
        default: 0,
        knob: "protection",
        description: "Minutes to wait before a deployment to this environment may proceed (0 to 43200).",
    },
} as const satisfies Record<string, KeyDef>;

export type Key = keyof typeof KEYS;

/** A key as the CLI and the stack files spell it: `platform:<key>`. */
export function configKey(key: Key): string {
    return `${PROJECT}:${key}`;
}

/** Stacks the program knows how to build. Anything else is refused with a clear error. */
export const STACKS = ["dev", "staging", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/**
 * What each stack must have, in one table the config check and the policy pack both read:
 * server backups, a database standby, protected data, and approvals for deployments.
 */
export interface StackTier {
    backups: boolean;
    standby: boolean;
    protectedData: boolean;
    approvals: boolean;
}

export const STACK_TIERS: Readonly<Record<StackName, StackTier>> = {
    dev: { backups: false, standby: false, protectedData: false, approvals: false },
    staging: { backups: true, standby: false, protectedData: false, approvals: false },
    prod: { backups: true, standby: true, protectedData: true, approvals: true },
};

/**
 * The one ref any stack deploys from: .github/workflows/deploy.yml deploys on a push to it,
 * and every other deploying workflow (deploy-on-demand, rollback) is dispatched on it. Each
 * stack's GitHub environment admits this branch and nothing else, so neither a tag nor another
 * branch, whatever workflow it carries, can reach the stack's credentials
 * (test/workflows.test.ts checks that the workflows agree).
 */
export const DEPLOY_BRANCH = "main";

/**
 * Keys this program no longer reads, each with what replaces it: set in a stack file, one is
 * refused with this line rather than as an unknown key.
 */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
    githubBranchPatterns: `every stack's environment admits only the ${DEPLOY_BRANCH} branch, the one its workflows deploy from`,
    healthPath:
        "the load balancer and the uptime check probe the health path of the service that answers the API host (services.<name>.health.path), so the two cannot disagree",
    githubTagPatterns: `no workflow deploys from a tag, so no environment admits one (a tag pattern let anyone who can push a tag reach the stack's credentials)`,
    // One app shape: the one-image keys became fields of a service (a one-service app declares one entry).
    imageRepository: "declare services.<name>.image instead",
    imageTag: "declare services.<name>.tag instead",
    imageDigest: "declare services.<name>.digest instead",
    imagePin: "declare services.<name>.pin instead",
    appPort: "declare services.<name>.port instead",
    appMemoryMb: "declare services.<name>.memoryMb instead",
    appEnv: "declare services.<name>.env instead",
    appSecretNames: "declare services.<name>.secrets instead",
    migrationCommand: "declare services.<name>.migrationCommand instead",
    processes: "declare services.<name>.processes instead",
    healthcheckCommand: "declare services.<name>.health: {command: [...]} instead",
    smokeRequests: "declare services.<name>.smokeRequests instead",
};

/** The tier of a stack by name; a name the program does not know gets no requirement. */
export function tierOf(stack: string): StackTier | undefined {
    return (STACK_TIERS as Record<string, StackTier>)[stack];
}

/** Staging must mirror prod; dev is free to be smaller and simpler. */
export const MIRROR_PAIRS: ReadonlyArray<readonly [StackName, StackName]> = [["staging", "prod"]];
