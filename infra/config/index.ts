/**
 * The one place that reads stack config. `parseSettings` is pure: it takes raw config
 * strings (as the Pulumi CLI hands them to the program) and returns a typed, validated
 * object, or throws a one-line ConfigError before any resource is registered.
 * `loadConfig` adds the secrets, read as secrets, and is what `infra/index.ts` calls.
 */
import * as pulumi from "@pulumi/pulumi";
import { DB_SIZES, DROPLET_SIZES, IMAGES, PG_VERSIONS, REGIONS, dbConnectionLimit } from "./catalog";
import { APPROVAL_MODES, ApprovalMode, DEFAULT_DB_CLIENT_IMAGE, DEFAULT_PROXY_IMAGE, KEYS, Key, KeyDef, PROJECT, STACK_TIERS, STACKS, StackName } from "./schema";
import {
    closest, ConfigError, fail, intInRange, isDigest, isPinnedImage, isDomain, isEmail, isEnvName, isGithubName, isImageRepository,
    isImageTag, isPrivateCidr, isRecordName, isSshKeyRef, isTailscaleTag, isUrlPath, oneOf, parseCidr, show, SmokeRequest, smokeRequests,
} from "./validate";
export type { SmokeRequest } from "./validate";

export { ConfigError } from "./validate";
export { KEYS, PROJECT, STACKS } from "./schema";
export type { ApprovalMode, StackName } from "./schema";
export { APPROVAL_MODES } from "./schema";

/** Raw config as the CLI passes it: every value a string (lists and objects as JSON). */
export interface ConfigSource {
    get(key: Key): string | undefined;
    /** Whether the key was stored encrypted (`pulumi config set --secret`). */
    isSecret(key: Key): boolean;
    /**
     * Every key set in this program's namespace (without the `platform:` prefix), so a
     * misspelt key is refused instead of silently leaving the default in force.
     */
    keys?(): string[];
}

/** Environment variables the platform sets itself; config may not override them. */
export const RESERVED_ENV = ["DATABASE_URL", "ENVIRONMENT", "API_URL", "FRONTEND_URL", "PUBLIC_URL", "LOG_LEVEL", "PORT"] as const;

export interface ProcessSpec {
    /** Stable key, also the container's role name (`worker`). */
    name: string;
    command: string[];
    memoryMb: number;
}

export interface Settings {
    project: string;
    stack: StackName;
    /** `platform-<stack>`: the prefix of every cloud resource name. */
    prefix: string;
    /** Tag on every taggable DigitalOcean resource of the stack. */
    stackTag: string;
    /** Tag on the app servers; the database firewall admits exactly this tag. */
    serverTag: string;
    region: string;
    protectData: boolean;
    network: { vpcIpRange: string };
    servers: {
        count: number; size: string; image: string; backups: boolean; ipv6: boolean;
        sshKeys: string[]; sshMode: "tailscale" | "openssh-tailnet";
    };
    /** `load-balancer` with several servers, `reserved-ip` with one. */
    edge: "load-balancer" | "reserved-ip";
    tailnet: { tailnet: string; tags: string[]; keyExpirySeconds: number };
    database: {
        clusterName: string; version: string; size: string; nodeCount: number; name: string; user: string;
        poolSize: number; poolMode: string; maintenanceDay: string; maintenanceHour: string;
        /** A point-in-time restore into a second cluster, when `databaseRestore` is set. */
        restore?: DatabaseRestore;
        /** A logical dump before each migration, when `dbDump` is set. */
        dump?: DatabaseDump;
    };
    dns: { domain: string; frontendHost: string; apiHost: string; ttl: number; frontendFqdn: string; apiFqdn: string };
    urls: { public: string; api: string; frontend: string; health: string };
    healthPath: string;
    acmeEmail: string;
    monitoring: { alertEmails: string[]; slackChannel: string; cpuPercent: number; memoryPercent: number; diskPercent: number };
    app: {
        repository: string; tag: string; digest: string; proxyImage: string; dbClientImage: string; registryUser: string; hasRegistryToken: boolean;
        port: number; memoryMb: number; logLevel: string; env: Record<string, string>;
        secretNames: string[]; migrationCommand: string[]; processes: ProcessSpec[];
        healthcheckCommand: string[]; healthcheckIntervalSeconds: number; healthcheckRetries: number; deployTimeoutSeconds: number; bootTimeoutSeconds: number;
        smokeRequests: SmokeRequest[]; verifyWindowSeconds: number; maxErrorPercent: number;
    };
    github: {
        owner: string; repository: string; approvalMode: ApprovalMode; reviewers: string[]; reviewerTeams: string[]; waitTimerMinutes: number;
        branchPatterns: string[]; tagPatterns: string[];
    };
    hasSlackWebhook: boolean;
}

export interface Secrets {
    tailscaleApiKey: pulumi.Output<string>;
    /** Spaces keys, when `dbDump` is set. */
    spaces?: { accessKeyId: pulumi.Output<string>; secretKey: pulumi.Output<string> };
    slackWebhookUrl?: pulumi.Output<string>;
    ghcrToken?: pulumi.Output<string>;
    /** One secret Output per app secret, keyed by its environment variable name. */
    appSecrets: Record<string, pulumi.Output<string>>;
}

export interface PlatformConfig extends Settings {
    secrets: Secrets;
}

const q = (k: Key) => `${PROJECT}:${k}`;

/** The command that stores a secret; without a value on its command line, the CLI prompts for it. */
function setSecretHint(key: Key, stack: string): string {
    return key === "appSecrets"
        ? `pulumi config set --secret --path 'appSecrets.NAME' --stack ${stack}`
        : `pulumi config set --secret ${key} --stack ${stack}`;
}

/** Typed readers over a ConfigSource; defaults come from the KEYS table. */
const def = (key: Key): KeyDef => KEYS[key];

class Reader {
    constructor(private readonly src: ConfigSource, private readonly stack: string) {}

    private raw(key: Key): string | undefined {
        const v = this.src.get(key);
        if (v === undefined && def(key).required && !def(key).secret) {
            throw new ConfigError(q(key), `${q(key)}: is not set; it is required (${KEYS[key].description}) — run: pulumi config set ${key} <value> --stack ${this.stack}`);
        }
        return v;
    }

    str(key: Key): string {
        const v = this.raw(key);
        if (v === undefined) return String(def(key).default ?? "");
        return v.trim() === v ? v : fail(q(key), v, "expected no leading or trailing spaces");
    }

    nonEmpty(key: Key): string {
        const v = this.str(key);
        return v === "" ? fail(q(key), v, "expected a non-empty string") : v;
    }

    int(key: Key, min: number, max: number): number {
        const v = this.raw(key);
        if (v === undefined) return def(key).default as number;
        if (!/^-?\d+$/.test(v)) return fail(q(key), v, `expected a whole number from ${min} to ${max}`);
        return intInRange(q(key), Number(v), min, max);
    }

    bool(key: Key): boolean {
        const v = this.raw(key);
        if (v === undefined) return def(key).default as boolean;
        if (v !== "true" && v !== "false") return fail(q(key), v, "expected true or false");
        return v === "true";
    }

    json(key: Key): unknown {
        const v = this.raw(key);
        if (v === undefined) return def(key).default;
        try {
            return JSON.parse(v);
        } catch {
            return fail(q(key), v, `expected ${KEYS[key].type === "array" ? "a YAML list" : "a YAML mapping"}`);
        }
    }

    strings(key: Key, opts: { min?: number; each?: (s: string) => boolean; what?: string } = {}): string[] {
        const v = this.json(key);
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) return fail(q(key), v, "expected a list of strings");
        const list = v as string[];
        if (list.length < (opts.min ?? 0)) return fail(q(key), list, `expected at least ${opts.min} ${opts.what ?? "entry"}`);
        const bad = opts.each ? list.find((s) => !opts.each!(s)) : undefined;
        if (bad !== undefined) return fail(q(key), bad, `expected each entry to be ${opts.what ?? "valid"}`);
        if (new Set(list).size !== list.length) return fail(q(key), list, "expected no duplicates");
        return list;
    }

    object(key: Key): Record<string, unknown> {
        const v = this.json(key);
        if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(q(key), v, "expected a mapping of names to values");
        return v as Record<string, unknown>;
    }

    /** Presence of a secret, checking it was stored encrypted. Its value is never read here. */
    secretPresent(key: Key): boolean {
        const v = this.src.get(key);
        // Pulumi.yaml declares optional secrets with an empty default.
        if (v === undefined || v === "" || v === "{}") return false;
        if (!this.src.isSecret(key)) {
            throw new ConfigError(q(key), `${q(key)}: is stored in plain text but must be a secret — run: ${setSecretHint(key, this.stack)} (and remove the plain value from Pulumi.${this.stack}.yaml)`);
        }
        return true;
    }

    requireSecret(key: Key): void {
        if (!this.secretPresent(key)) {
            throw new ConfigError(q(key), `${q(key)}: secret is not set — run: ${setSecretHint(key, this.stack)}`);
        }
    }
}

/**
 * The names of a secret mapping's entries that hold a non-empty string, or undefined when it
 * is not a mapping. The values are dropped here and never leave this function.
 */
function filledKeys(raw: string): string[] | undefined {
    let parsed: unknown;
    try { parsed = JSON.parse(raw); } catch { return undefined; }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.entries(parsed).filter(([, v]) => typeof v === "string" && v !== "").map(([k]) => k);
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

const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{2,62}$/;
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * The `databaseRestore` mapping, validated: undefined when empty (no restore). The window
 * check (DigitalOcean keeps 7 days) belongs to the restore tool, not here: the config stays
 * in place, valid, long after the restore happened.
 */
export function parseDatabaseRestore(raw: Record<string, unknown>, stackClusterName: string): DatabaseRestore | undefined {
    const key = q("databaseRestore");
    if (Object.keys(raw).length === 0) return undefined;
    const allowed = ["sourceCluster", "time", "clusterName", "retireSource"];
    const extra = Object.keys(raw).find((k) => !allowed.includes(k));
    if (extra) fail(key, extra, `expected only ${allowed.join(", ")}`);
    const str = (k: string) => (typeof raw[k] === "string" ? raw[k] as string : fail(`${key}.${k}`, raw[k], "expected a string (npm run restore writes this mapping)"));
    const sourceCluster = str("sourceCluster");
    if (!CLUSTER_NAME.test(sourceCluster)) fail(`${key}.sourceCluster`, sourceCluster, "expected a cluster name: 3 to 63 lowercase letters, digits and dashes");
    const time = str("time");
    if (!UTC_TIME.test(time) || Number.isNaN(Date.parse(time))) fail(`${key}.time`, time, "expected a UTC time such as 2026-11-20T14:03:11Z");
    const clusterName = str("clusterName");
    if (!CLUSTER_NAME.test(clusterName)) fail(`${key}.clusterName`, clusterName, "expected a cluster name: 3 to 63 lowercase letters, digits and dashes");
    if (clusterName === sourceCluster || clusterName === stackClusterName) {
        fail(`${key}.clusterName`, clusterName, "expected a new name: DigitalOcean restores only into a new cluster");
    }
    // `pulumi config set --path 'databaseRestore.retireSource' true` may store the string "true".
    const retire = raw.retireSource ?? false;
    if (![true, false, "true", "false"].includes(retire as boolean | string)) fail(`${key}.retireSource`, retire, "expected true or false");
    return { sourceCluster, time, clusterName, retireSource: retire === true || retire === "true" };
}

/** Regions with Spaces object storage (docs.digitalocean.com/products/spaces/details/availability). */
export const SPACES_REGIONS = ["nyc3", "sfo2", "sfo3", "ams3", "sgp1", "fra1", "syd1", "blr1", "lon1", "tor1", "atl1"] as const;

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
    if (typeof bucket !== "string" || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
        fail(`${key}.bucket`, bucket, "expected a bucket name: 3 to 63 lowercase letters, digits and dashes");
    }
    const region = raw.region;
    if (typeof region !== "string" || !(SPACES_REGIONS as readonly string[]).includes(region)) {
        fail(`${key}.region`, region, `expected a region with Spaces: ${SPACES_REGIONS.join(", ")}`);
    }
    // `pulumi config set --path 'dbDump.retentionDays' 14` stores the string "14".
    const days = typeof raw.retentionDays === "string" && /^\d+$/.test(raw.retentionDays) ? Number(raw.retentionDays) : raw.retentionDays;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 3650) {
        fail(`${key}.retentionDays`, raw.retentionDays, "expected whole days from 1 to 3650");
    }
    return { bucket, region, retentionDays: days };
}

const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const PG_IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Fully qualified name of a record relative to `domain`. */
export function fqdn(host: string, domain: string): string {
    return host === "@" ? domain : `${host}.${domain}`;
}

/**
 * Outside prod, a stack owns only names that carry its own label (`staging`, `api.staging`),
 * so two stacks can never fight over one record in the shared zone; prod owns the rest but
 * never a name carrying another stack's label.
 */
export function ownsRecord(stack: StackName, host: string): boolean {
    const labels = host === "@" ? [] : host.split(".");
    if (stack !== "prod") return labels[labels.length - 1] === stack;
    return !labels.some((l) => (STACKS as readonly string[]).includes(l) && l !== "prod");
}

/** GitHub accepts at most six users or teams as an environment's required reviewers. */
export const MAX_ENVIRONMENT_REVIEWERS = 6;

/**
 * What each approval mode can and cannot carry. Environment mode: GitHub's own reviewers
 * (at most six). Workflow mode: the approval step counts listed users' comments only (a
 * team's membership needs an org-scoped token the workflow does not have), the wait timer
 * is an environment rule a private repository below Enterprise cannot have, and a stack
 * with reviewers needs two users so someone other than the merger can approve.
 */
export function checkApprovalRules(stack: StackName, github: Settings["github"]): void {
    const { approvalMode, reviewers, reviewerTeams, waitTimerMinutes } = github;
    if (approvalMode === "environment") {
        if (reviewers.length + reviewerTeams.length > MAX_ENVIRONMENT_REVIEWERS) {
            fail(q("githubReviewers"), [...reviewers, ...reviewerTeams], `expected at most ${MAX_ENVIRONMENT_REVIEWERS} reviewers and teams together (GitHub's limit for an environment)`);
        }
        return;
    }
    if (reviewerTeams.length > 0) {
        fail(q("githubReviewerTeams"), reviewerTeams, "expected no teams in workflow approval mode (the approval step counts listed users only); list the approvers in githubReviewers");
    }
    if (waitTimerMinutes !== 0) {
        fail(q("githubWaitTimerMinutes"), waitTimerMinutes, "expected 0 in workflow approval mode (a wait timer is an environment rule that private repositories get only on GitHub Enterprise)");
    }
    if (reviewers.length === 1) {
        fail(q("githubReviewers"), reviewers, `expected at least two users in workflow approval mode for ${stack}, so someone other than the one who merged can approve`);
    }
}

export function parseSettings(src: ConfigSource, stackName: string): Settings {
    if (!(STACKS as readonly string[]).includes(stackName)) {
        throw new ConfigError("stack", `stack: ${show(stackName)} is not a stack this program defines; expected one of ${STACKS.join(", ")}`);
    }
    const stack = stackName as StackName;
    checkKnownKeys(src.keys?.() ?? [], stack);
    const r = new Reader(src, stack);
    const prefix = `${PROJECT}-${stack}`;

    const region = oneOf(q("region"), r.str("region"), REGIONS, "a DigitalOcean region with droplets and managed Postgres");

    const vpcIpRange = r.nonEmpty("vpcIpRange");
    const cidr = parseCidr(vpcIpRange);
    if (!cidr || !isPrivateCidr(cidr) || cidr.prefix < 16 || cidr.prefix > 24) {
        fail(q("vpcIpRange"), vpcIpRange, "expected a private IPv4 network in CIDR form from /16 to /24, e.g. 10.20.0.0/20");
    }

    const serverCount = r.int("serverCount", 1, 10);
    const servers = {
        count: serverCount,
        size: oneOf(q("serverSize"), r.str("serverSize"), DROPLET_SIZES, "a droplet size slug"),
        image: oneOf(q("serverImage"), r.str("serverImage"), IMAGES, "a current apt-based image slug"),
        backups: r.bool("serverBackups"),
        ipv6: r.bool("ipv6"),
        sshKeys: r.strings("sshKeys", { min: 1, each: isSshKeyRef, what: "a DigitalOcean SSH key id or MD5 fingerprint (aa:bb:...)" }),
        sshMode: oneOf(q("sshMode"), r.str("sshMode"), ["tailscale", "openssh-tailnet"], "an SSH mode") as Settings["servers"]["sshMode"],
    };
    if (STACK_TIERS[stack].backups && !servers.backups) {
        fail(q("serverBackups"), false, `expected true in ${stack}: staging and prod servers keep backups`);
    }

    const tailnetName = r.nonEmpty("tailnet");
    if (!/^[A-Za-z0-9.@_-]+$/.test(tailnetName)) fail(q("tailnet"), tailnetName, "expected `-` or a tailnet name such as example.com or tail1234.ts.net");
    const tailnet = {
        tailnet: tailnetName,
        tags: r.strings("tailscaleTags", { min: 1, each: isTailscaleTag, what: "a Tailscale tag like tag:server" }),
        keyExpirySeconds: r.int("tailscaleKeyExpirySeconds", 300, 90 * 24 * 3600),
    };
    r.requireSecret("tailscaleApiKey");

    const dbSize = oneOf(q("dbSize"), r.str("dbSize"), Object.keys(DB_SIZES), "a managed Postgres size slug");
    const dbNodeCount = r.int("dbNodeCount", 1, 3);
    if (dbNodeCount > 1 && DB_SIZES[dbSize].ramGiB < 2) {
        fail(q("dbSize"), dbSize, `expected a size with at least 2 GiB of RAM when dbNodeCount is ${dbNodeCount} (standby nodes need it), e.g. db-s-1vcpu-2gb`);
    }
    if (STACK_TIERS[stack].standby && dbNodeCount < 2) {
        fail(q("dbNodeCount"), dbNodeCount, "expected at least 2 in prod (a primary and a standby)");
    }
    const limit = dbConnectionLimit(dbSize)!;
    const dbName = r.str("dbName");
    const dbUser = r.str("dbUser");
    const maintenanceHour = r.str("dbMaintenanceHour");
    const clusterName = r.str("dbClusterName") || `${prefix}-pg`;
    if (!/^[a-z0-9][a-z0-9-]{2,62}$/.test(clusterName)) fail(q("dbClusterName"), clusterName, "expected 3 to 63 lowercase letters, digits and dashes");
    const database = {
        clusterName,
        version: oneOf(q("dbVersion"), r.str("dbVersion"), PG_VERSIONS, "a PostgreSQL version DigitalOcean offers for new clusters"),
        size: dbSize,
        nodeCount: dbNodeCount,
        name: PG_IDENT.test(dbName) ? dbName : fail(q("dbName"), dbName, "expected a Postgres identifier: lowercase letters, digits, underscores"),
        user: PG_IDENT.test(dbUser) && dbUser !== "doadmin" ? dbUser : fail(q("dbUser"), dbUser, "expected a Postgres identifier other than doadmin"),
        poolSize: r.int("dbPoolSize", 1, limit - 5),
        poolMode: oneOf(q("dbPoolMode"), r.str("dbPoolMode"), ["transaction", "session", "statement"], "a PgBouncer pool mode"),
        maintenanceDay: oneOf(q("dbMaintenanceDay"), r.str("dbMaintenanceDay").toLowerCase(), WEEKDAYS, "a weekday"),
        maintenanceHour: /^([01]\d|2[0-3]):[0-5]\d$/.test(maintenanceHour) ? maintenanceHour : fail(q("dbMaintenanceHour"), maintenanceHour, "expected a UTC time HH:MM"),
        restore: parseDatabaseRestore(r.object("databaseRestore"), clusterName),
        dump: parseDatabaseDump(r.object("dbDump")),
    };
    if (database.dump) {
        r.requireSecret("spacesAccessKeyId");
        r.requireSecret("spacesSecretKey");
    }

    const domain = r.nonEmpty("domain").toLowerCase();
    if (!isDomain(domain)) fail(q("domain"), domain, "expected a domain name such as example.com");
    const hostOf = (key: "frontendHost" | "apiHost") => {
        const h = r.nonEmpty(key);
        if (!isRecordName(h)) fail(q(key), h, "expected `@` or a record name such as app or api.staging (lowercase labels)");
        if (!ownsRecord(stack, h)) {
            fail(q(key), h, stack === "prod"
                ? "expected a name without another stack's label (prod may not own it)"
                : `expected a name this stack owns in the shared zone: \`${stack}\` or one ending in \`.${stack}\``);
        }
        return h;
    };
    const frontendHost = hostOf("frontendHost");
    const apiHost = hostOf("apiHost");
    if (frontendHost === apiHost) fail(q("apiHost"), apiHost, "expected a different name from frontendHost");
    const dns = {
        domain, frontendHost, apiHost, ttl: r.int("dnsTtl", 30, 3600),
        frontendFqdn: fqdn(frontendHost, domain), apiFqdn: fqdn(apiHost, domain),
    };
    const healthPath = r.str("healthPath");
    if (!isUrlPath(healthPath)) fail(q("healthPath"), healthPath, "expected an absolute URL path such as /api/v1/health");
    const acmeEmail = r.str("acmeEmail");
    if (acmeEmail !== "" && !isEmail(acmeEmail)) fail(q("acmeEmail"), acmeEmail, "expected an email address or nothing");

    const slackChannel = r.str("slackChannel");
    if (slackChannel !== "" && !/^#?[a-z0-9_-]{1,80}$/.test(slackChannel)) fail(q("slackChannel"), slackChannel, "expected a Slack channel such as #ops");
    const hasSlackWebhook = r.secretPresent("slackWebhookUrl");
    if (slackChannel !== "" && !hasSlackWebhook) {
        throw new ConfigError(q("slackWebhookUrl"), `${q("slackWebhookUrl")}: secret is not set but slackChannel is — run: ${setSecretHint("slackWebhookUrl", stack)}`);
    }
    const monitoring = {
        alertEmails: r.strings("alertEmails", { min: 1, each: isEmail, what: "an email address" }),
        slackChannel,
        cpuPercent: r.int("cpuAlertPercent", 1, 100),
        memoryPercent: r.int("memoryAlertPercent", 1, 100),
        diskPercent: r.int("diskAlertPercent", 1, 100),
    };

    const repository = r.nonEmpty("imageRepository");
    if (!isImageRepository(repository)) fail(q("imageRepository"), repository, "expected a lowercase repository with its registry and no tag, e.g. ghcr.io/acme/shop");
    const tag = r.nonEmpty("imageTag");
    if (!isImageTag(tag)) fail(q("imageTag"), tag, "expected a Docker tag: letters, digits, _ . - (at most 128, e.g. 1.4.2 or a git SHA)");
    const digest = r.str("imageDigest");
    if (digest !== "" && !isDigest(digest)) fail(q("imageDigest"), digest, "expected sha256: followed by 64 lowercase hex digits, or nothing");
    const pin = r.str("imagePin");
    if (pin !== "" && !(isImageTag(pin.split("@")[0]) && isDigest(pin.slice(pin.indexOf("@") + 1)))) fail(q("imagePin"), pin, "expected <imageTag>@sha256:<64 hex>, as npm run pin writes it, or nothing");
    checkDigestPin(tag, digest, pin, stack);
    const proxyImage = r.nonEmpty("proxyImage");
    if (!isPinnedImage(proxyImage)) fail(q("proxyImage"), proxyImage, `expected repository:tag@sha256:<64 hex>, pinned so no preview resolves it and a moved tag never replaces the proxy, e.g. ${DEFAULT_PROXY_IMAGE}`);
    const dbClientImage = r.nonEmpty("dbClientImage");
    if (!isPinnedImage(dbClientImage)) fail(q("dbClientImage"), dbClientImage, `expected repository:tag@sha256:<64 hex> of an image with psql, e.g. ${DEFAULT_DB_CLIENT_IMAGE}`);
    const registryUser = r.str("ghcrUsername");
    if (registryUser !== "" && !isGithubName(registryUser)) fail(q("ghcrUsername"), registryUser, "expected a GitHub user name");
    const hasRegistryToken = r.secretPresent("ghcrToken");
    if (hasRegistryToken && registryUser === "") fail(q("ghcrUsername"), "", "expected the registry user that owns ghcrToken");

    const envCheck = (key: Key, name: string) => {
        if (!isEnvName(name)) fail(q(key), name, "expected an environment variable name (A-Z, 0-9, _)");
        if ((RESERVED_ENV as readonly string[]).includes(name)) fail(q(key), name, `expected a name the platform does not set itself (it sets ${RESERVED_ENV.join(", ")})`);
    };
    const envObj = r.object("appEnv");
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(envObj)) {
        envCheck("appEnv", k);
        if (typeof v !== "string") fail(q("appEnv"), { [k]: v }, "expected string values (quote numbers and booleans)");
        const why = secretLooking(k, v);
        if (why) {
            // The value is never echoed: it may be a live credential.
            throw new ConfigError(q("appEnv"), `${q("appEnv")}: ${k} looks like a secret (${why}); plain env is visible in the stack file, the state and \`docker inspect\` — move it: add ${k} to appSecretNames and run: pulumi config set --secret --path 'appSecrets.${k}' --stack ${stack} (it prompts for the value)`);
        }
        env[k] = v;
    }
    const secretNames = r.strings("appSecretNames", { each: isEnvName, what: "an environment variable name (A-Z, 0-9, _)" }).slice().sort();
    for (const n of secretNames) envCheck("appSecretNames", n);
    if (r.secretPresent("appSecrets") || secretNames.length > 0) {
        // Only the names are compared here; the values stay inside secret Outputs (see loadConfig).
        const have = filledKeys(src.get("appSecrets") ?? "{}");
        if (have === undefined) {
            throw new ConfigError(q("appSecrets"), `${q("appSecrets")}: [secret] is not valid; expected a mapping of NAME: value — run: ${setSecretHint("appSecrets", stack)}`);
        }
        const missing = secretNames.find((n) => !have.includes(n));
        if (missing) {
            throw new ConfigError(q("appSecrets"), `${q("appSecrets")}: ${missing} is listed in appSecretNames but has no value — run: pulumi config set --secret --path 'appSecrets.${missing}' --stack ${stack} (it prompts for the value)`);
        }
        const extra = have.find((n) => !secretNames.includes(n));
        if (extra) fail(q("appSecretNames"), secretNames, `expected it to list ${extra}, which appSecrets holds (or remove that secret)`);
    }

    const procObj = r.object("processes");
    const processes: ProcessSpec[] = Object.entries(procObj).sort(([a], [b]) => a.localeCompare(b)).map(([name, spec]) => {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(name) || ["app", "caddy", "migrate", "edge"].includes(name)) {
            fail(q("processes"), name, "expected a process name of lowercase letters, digits and dashes other than app, caddy, migrate, edge");
        }
        const s = spec as { command?: unknown; memoryMb?: unknown };
        if (typeof spec !== "object" || spec === null || !Array.isArray(s.command) || s.command.length === 0 || s.command.some((c) => typeof c !== "string")) {
            fail(q("processes"), { [name]: spec }, "expected { command: [\"node\", \"worker.js\"], memoryMb: 256 }");
        }
        const memoryMb = s.memoryMb === undefined ? 256 : intInRange(`${q("processes")}.${name}.memoryMb`, s.memoryMb, 64, 65536);
        return { name, command: s.command as string[], memoryMb };
    });

    const app = {
        repository, tag, digest, proxyImage, dbClientImage, registryUser, hasRegistryToken,
        port: r.int("appPort", 1, 65535),
        memoryMb: r.int("appMemoryMb", 64, 65536),
        logLevel: oneOf(q("logLevel"), r.str("logLevel"), ["debug", "info", "warn", "error"], "a log level"),
        env, secretNames,
        migrationCommand: r.strings("migrationCommand"),
        processes,
        healthcheckCommand: r.strings("healthcheckCommand", { each: (c) => c !== "", what: "a non-empty argv word" }),
        smokeRequests: smokeRequests(q("smokeRequests"), r.object("smokeRequests")),
        verifyWindowSeconds: r.int("verifyWindowSeconds", 0, 600),
        maxErrorPercent: r.int("maxErrorPercent", 0, 100),
        healthcheckIntervalSeconds: r.int("healthcheckIntervalSeconds", 1, 60),
        healthcheckRetries: r.int("healthcheckRetries", 1, 20),
        deployTimeoutSeconds: r.int("deployTimeoutSeconds", 30, 1800),
        bootTimeoutSeconds: r.int("bootTimeoutSeconds", 60, 3600),
    };
    if (app.port === 80 || app.port === 443 || app.port === 2019) fail(q("appPort"), app.port, "expected a port other than 80, 443 and 2019 (the edge proxy's)");

    const owner = r.nonEmpty("githubOwner");
    if (!isGithubName(owner)) fail(q("githubOwner"), owner, "expected a GitHub user or organization name");
    const repoName = r.nonEmpty("githubRepository");
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(repoName)) fail(q("githubRepository"), repoName, "expected a repository name (letters, digits, _ . -)");
    const github = {
        owner, repository: repoName,
        approvalMode: oneOf(q("githubApprovalMode"), r.str("githubApprovalMode"), APPROVAL_MODES, "an approval mode") as ApprovalMode,
        reviewers: r.strings("githubReviewers", { each: isGithubName, what: "a GitHub username" }),
        reviewerTeams: r.strings("githubReviewerTeams", { each: (s) => /^[a-z0-9][a-z0-9_-]*$/.test(s), what: "a team slug" }),
        waitTimerMinutes: r.int("githubWaitTimerMinutes", 0, 43200),
        branchPatterns: r.strings("githubBranchPatterns", { each: (s) => s !== "", what: "a branch pattern" }),
        tagPatterns: r.strings("githubTagPatterns", { each: (s) => s !== "", what: "a tag pattern" }),
    };
    if (STACK_TIERS[stack].approvals && github.reviewers.length + github.reviewerTeams.length === 0) {
        fail(q("githubReviewers"), [], "expected at least one reviewer (or githubReviewerTeams) in prod: deployments to prod need an approval");
    }
    checkApprovalRules(stack, github);
    if (STACK_TIERS[stack].branchPolicy && github.branchPatterns.length === 0) {
        fail(q("githubBranchPatterns"), [], `expected at least one branch pattern in ${stack} (an empty policy lets every branch deploy)`);
    }

    const frontend = `https://${dns.frontendFqdn}`;
    return {
        project: PROJECT, stack, prefix, stackTag: `${PROJECT}-${stack}`, serverTag: `${PROJECT}-${stack}-app`,
        region, protectData: r.bool("protectData"),
        network: { vpcIpRange }, servers,
        edge: servers.count > 1 ? "load-balancer" : "reserved-ip",
        tailnet, database, dns,
        urls: { public: frontend, frontend, api: `https://${dns.apiFqdn}`, health: `https://${dns.apiFqdn}${healthPath}` },
        healthPath, acmeEmail, monitoring, app, github, hasSlackWebhook,
    };
}

/**
 * A key in this program's namespace that the schema does not declare is a typo or a
 * leftover; the CLI passes it along silently and the default would quietly apply.
 */
export function checkKnownKeys(keys: readonly string[], stack: string): void {
    const known = Object.keys(KEYS);
    for (const k of keys) {
        if (known.includes(k)) continue;
        const near = closest(k, known, 1)[0];
        throw new ConfigError(`${PROJECT}:${k}`, `${PROJECT}:${k}: is not a key this program reads; expected a declared key — did you mean ${near}? Rename it in Pulumi.${stack}.yaml (or run: pulumi config rm ${k} --stack ${stack})`);
    }
}

/** Names that say "secret" (STRIPE_KEY, DB_PASSWORD, ...); PUBLIC_/PUBLISHABLE_ keys are meant to be public. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|DSN|WEBHOOK|PRIVATE|(^|_)(API|ACCESS|AUTH|SIGNING|ENCRYPTION|MASTER|LICENSE)?_?KEY$)/;
const PUBLIC_NAME = /(^|_)(PUBLIC|PUBLISHABLE)(_|$)/;
/** Well-known credential formats, by issuer. */
const SECRET_VALUES: [RegExp, string][] = [
    [/^(sk|rk)_(live|test)_[A-Za-z0-9]{8,}/, "a Stripe secret key"],
    [/^whsec_[A-Za-z0-9]{8,}/, "a Stripe webhook secret"],
    [/^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|^github_pat_[A-Za-z0-9_]{20,}/, "a GitHub token"],
    [/^xox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
    [/^https:\/\/hooks\.slack\.com\/services\//, "a Slack webhook URL"],
    [/^(AKIA|ASIA)[A-Z0-9]{16}$/, "an AWS access key id"],
    [/^dop_v1_[a-f0-9]{20,}|^do[or]_v1_[a-f0-9]{20,}/, "a DigitalOcean token"],
    [/^tskey-[a-z]+-[A-Za-z0-9-]{10,}/, "a Tailscale key"],
    [/^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$/, "a SendGrid key"],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/, "a URL with a password in it"],
    [/^eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./, "a JSON Web Token"],
];

/** Why an env entry looks like a secret (its name or its value), or undefined. */
export function secretLooking(name: string, value: string): string | undefined {
    if (SECRET_NAME.test(name) && !PUBLIC_NAME.test(name)) return "its name";
    const hit = SECRET_VALUES.find(([re]) => re.test(value));
    return hit ? `its value is ${hit[1]}` : undefined;
}

/**
 * A digest pinned for one tag must not silently deploy under another. `npm run pin`,
 * promote and rollback record the pair they pinned (imagePin = tag@digest). When imageDigest
 * is still the recorded digest but imageTag is not the recorded tag, someone changed the
 * tag by hand under the pin: refused, since the old image would deploy. A record for
 * another digest is stale (a writer that set tag and digest together without recording,
 * such as a workflow's release selection) and says nothing either way.
 */
export function checkDigestPin(tag: string, digest: string, pin: string, stack: string): void {
    const pinnedTag = pinnedTagOf(pin, digest);
    if (pinnedTag === undefined || pinnedTag === tag) return;
    throw new ConfigError(q("imageTag"), `${q("imageTag")}: ${show(tag)} is not the tag imageDigest was pinned for (${show(pinnedTag)}), so ${pinnedTag}'s image would deploy; expected them to match — re-pin: pulumi config rm imageDigest --stack ${stack} && pulumi config rm imagePin --stack ${stack} && npm run pin -- --stack ${stack} (or set imageTag back to ${pinnedTag})`);
}

/** The tag an imagePin record (tag@digest) says `digest` was pinned for; undefined when it says nothing about it. */
export function pinnedTagOf(pin: string, digest: string): string | undefined {
    const at = pin.indexOf("@");
    return digest !== "" && at > 0 && pin.slice(at + 1) === digest ? pin.slice(0, at) : undefined;
}

/** ConfigSource over the running program's config. */
export function pulumiSource(): ConfigSource {
    const all = pulumi.runtime.allConfig();
    // isConfigSecret is exported by the runtime but marked internal in its typings. It knows
    // which keys are secret only when the language host passed PULUMI_CONFIG_SECRET_KEYS;
    // without that (no key reported secret, while Pulumi.yaml makes tailscaleApiKey a
    // declared secret) plain-text detection is skipped rather than refusing real secrets.
    const rt = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    const informed = rt.isConfigSecret !== undefined && Object.keys(all).some((k) => rt.isConfigSecret!(k));
    return {
        get: (key) => all[q(key)],
        isSecret: (key) => (informed ? rt.isConfigSecret!(q(key)) : true),
        keys: () => Object.keys(all).filter((k) => k.startsWith(`${PROJECT}:`)).map((k) => k.slice(PROJECT.length + 1)),
    };
}

export function loadConfig(): PlatformConfig {
    const settings = parseSettings(pulumiSource(), pulumi.getStack());
    const cfg = new pulumi.Config(PROJECT);
    const appSecretsObj = settings.app.secretNames.length > 0 ? cfg.requireSecretObject<Record<string, string>>("appSecrets") : undefined;
    const appSecrets: Record<string, pulumi.Output<string>> = {};
    for (const name of settings.app.secretNames) {
        appSecrets[name] = pulumi.secret(appSecretsObj!.apply((o) => o[name]));
    }
    return {
        ...settings,
        secrets: {
            tailscaleApiKey: cfg.requireSecret("tailscaleApiKey"),
            spaces: settings.database.dump
                ? { accessKeyId: cfg.requireSecret("spacesAccessKeyId"), secretKey: cfg.requireSecret("spacesSecretKey") }
                : undefined,
            slackWebhookUrl: settings.hasSlackWebhook ? cfg.requireSecret("slackWebhookUrl") : undefined,
            ghcrToken: settings.app.hasRegistryToken ? cfg.requireSecret("ghcrToken") : undefined,
            appSecrets,
        },
    };
}
