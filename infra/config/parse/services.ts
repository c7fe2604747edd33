/**
 * The app's services: each stack runs one or more images (a frontend, an API with its
 * workers), each routed by host and path prefix. `parseServices` validates the `services`
 * mapping; a one-service app declares one entry.
 */
import {
    ConfigError,
    EDGE_PORTS,
    fail,
    intInRange,
    isDigest,
    isImagePin,
    isImageRepository,
    isImageTag,
    isProcessName,
    isUrlPath,
    RESERVED_PROCESS_NAMES,
    show,
    SmokeRequest,
    smokeRequests,
} from "../validate";
import { checkEnvName, secretLooking } from "./env";
import { parseRoute, routeOf, routeText, ServiceRoute } from "./routes";

export { parseRoute, routeOf, routeText } from "./routes";
export type { ServiceRoute } from "./routes";

/**
 * Names a service may not take: they would collide with a server's own resources
 * (`<server>-proxy-image`, `<server>-network`, ...) or the proxy's containers.
 */
export const RESERVED_SERVICE_NAMES = [
    "proxy",
    "edge",
    "caddy",
    "lock",
    "network",
    "docker",
    "ready",
    "image",
    "migrate",
    "cutover",
    "workers-check",
] as const;

/**
 * How the cut-over decides a new container may take traffic: `http` answers `path` with 200
 * from the proxy's network; `docker` is Docker's healthcheck (a command run inside the
 * container) reporting healthy; `none` (a static site) answers `/` with any status below 500.
 */
/**
 * How a release proves healthy before it takes traffic. A `docker`-gated service may also
 * name the HTTP path it answers (`path`), for the edge's health check (parse/app.ts).
 */
export type ServiceHealth = { kind: "http"; path: string } | { kind: "docker"; path?: string } | { kind: "none" };

/** The HTTP path a service answers for its health, if it has one. */
export function httpHealthPath(h: ServiceHealth): string | undefined {
    return h.kind === "none" ? undefined : h.path;
}

export interface ProcessSpec {
    /** Stable key, also the container's role name (`worker`). */
    name: string;
    command: string[];
    memoryMb: number;
}

export interface ServiceSpec {
    name: string;
    repository: string;
    tag: string;
    /** Pinned digest (pin, promote, rollback), or "" to resolve `tag` at deploy time. */
    digest: string;
    /** The tag@digest the pin was made for, or "". */
    pin: string;
    port: number;
    memoryMb: number;
    health: ServiceHealth;
    /** argv of Docker's healthcheck run inside the container; empty: none. */
    healthcheckCommand: string[];
    env: Record<string, string>;
    /** Names of the app secrets (appSecrets) this service receives as env vars, sorted. */
    secretNames: string[];
    /** Whether the service receives DATABASE_URL. */
    database: boolean;
    routes: ServiceRoute[];
    migrationCommand: string[];
    processes: ProcessSpec[];
    smokeRequests: SmokeRequest[];
}

/** What a service's fields are checked against: the stack's own hosts and secrets. */
export interface ServicesContext {
    stack: string;
    /** The stack's public hosts (frontendHost and apiHost, fully qualified). */
    hosts: string[];
    /** Names appSecrets holds a value for. */
    secretsHeld: string[];
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,20}$/;
const FIELDS = [
    "image",
    "tag",
    "digest",
    "pin",
    "port",
    "memoryMb",
    "health",
    "env",
    "secrets",
    "database",
    "routes",
    "migrationCommand",
    "processes",
    "smokeRequests",
] as const;

export const SERVICES_KEY = "platform:services";
const at = (...parts: string[]) => [SERVICES_KEY, ...parts].join(".");

/** A service name the program can use in resource names and on the server. */
export function isServiceName(name: string): boolean {
    return SERVICE_NAME.test(name) && !(RESERVED_SERVICE_NAMES as readonly string[]).includes(name);
}

function strings(key: string, v: unknown, what: string): string[] {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x === ""))
        fail(key, v, `expected a list of ${what}`);
    return v as string[];
}

/** `processes`: NAME: {command, memoryMb}, sorted by name. */
export function parseProcesses(key: string, raw: unknown): ProcessSpec[] {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        fail(key, raw, "expected a mapping of process names to { command: [...], memoryMb }");
    return Object.entries(raw as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, spec]) => {
            if (!isProcessName(name)) {
                fail(
                    key,
                    name,
                    `expected a process name of lowercase letters, digits and dashes other than ${RESERVED_PROCESS_NAMES.join(", ")}`,
                );
            }
            const s = spec as { command?: unknown; memoryMb?: unknown };
            if (
                typeof spec !== "object" ||
                spec === null ||
                !Array.isArray(s.command) ||
                s.command.length === 0 ||
                s.command.some((c) => typeof c !== "string")
            ) {
                fail(key, { [name]: spec }, 'expected { command: ["node", "worker.js"], memoryMb: 256 }');
            }
            const memoryMb =
                s.memoryMb === undefined ? 256 : intInRange(`${key}.${name}.memoryMb`, numeric(s.memoryMb), 64, 65536);
            return { name, command: s.command as string[], memoryMb };
        });
}

/** `pulumi config set --path 'services.api.port' 8080` stores the string "8080". */
function numeric(v: unknown): unknown {
    return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
}

/** `health`: {path: /x}, {command: [argv]} (with an optional path beside it) or none. */
export function parseHealth(key: string, raw: unknown): { health: ServiceHealth; healthcheckCommand: string[] } {
    const forms =
        "expected {path: /healthz} (answers 200), {command: [\"/app/healthcheck\"]} (Docker's healthcheck; add path: /healthz for the edge's check) or none (a static site: any answer below 500 at /)";
    if (raw === "none") return { health: { kind: "none" }, healthcheckCommand: [] };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail(key, raw, forms);
    const h = raw as { path?: unknown; command?: unknown };
    const extra = Object.keys(h).find((k) => k !== "path" && k !== "command");
    if (extra !== undefined || Object.keys(h).length === 0) return fail(key, raw, forms);
    if (h.path !== undefined && (typeof h.path !== "string" || !isUrlPath(h.path)))
        return fail(`${key}.path`, h.path, "expected an absolute URL path such as /api/v1/health");
    const path = h.path as string | undefined;
    if (h.command !== undefined) {
        const command = strings(`${key}.command`, h.command, "non-empty argv words");
        if (command.length === 0) fail(`${key}.command`, h.command, "expected at least one argv word");
        return {
            health: path === undefined ? { kind: "docker" } : { kind: "docker", path },
            healthcheckCommand: command,
        };
    }
    return { health: { kind: "http", path: path! }, healthcheckCommand: [] };
}

/** One service's mapping, checked field by field. */
export function parseService(name: string, raw: unknown, ctx: ServicesContext): ServiceSpec {
    if (!isServiceName(name)) {
        fail(
            SERVICES_KEY,
            name,
            `expected a service name: a lowercase letter, then up to 20 lowercase letters, digits and dashes, other than ${RESERVED_SERVICE_NAMES.join(", ")}`,
        );
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        return fail(at(name), raw, "expected a mapping with image, tag, port, health and routes");
    const o = raw as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !(FIELDS as readonly string[]).includes(k));
    if (extra) fail(at(name), extra, `expected only ${FIELDS.join(", ")}`);
    const str = (field: string, required: boolean) => {
        const v = o[field];
        if (v === undefined && !required) return "";
        if (typeof v !== "string") return fail(at(name, field), v, "expected a string");
        return v;
    };

    const repository = str("image", true);
    if (!isImageRepository(repository))
        fail(
            at(name, "image"),
            repository,
            "expected a lowercase repository with its registry and no tag, e.g. ghcr.io/acme/shop-web",
        );
    // `pulumi config set --path services.<name>.tag 1234567` stores an all-digit tag as an
    // integer (pulumi/pulumi sdk/go/common/resource/config: adjustObjectValue turns values
    // strconv.Atoi accepts, without a leading 0, into numbers), which keeps its text. A
    // fractional number is YAML's reading of an unquoted tag (1.10 -> 1.1): refuse it.
    if (typeof o.tag === "number" && !Number.isInteger(o.tag)) {
        fail(
            at(name, "tag"),
            o.tag,
            'expected the tag as text: an unquoted 1.10 in the stack file is read as the number 1.1 — quote it, e.g. tag: "1.10"',
        );
    }
    const tag = typeof o.tag === "number" ? String(o.tag) : str("tag", true);
    if (!isImageTag(tag))
        fail(
            at(name, "tag"),
            tag,
            "expected a Docker tag: letters, digits, _ . - (at most 128, e.g. 1.4.2 or a git SHA)",
        );
    const digest = str("digest", false);
    if (digest !== "" && !isDigest(digest))
        fail(at(name, "digest"), digest, "expected sha256: followed by 64 lowercase hex digits, or nothing");
    const pin = str("pin", false);
    if (pin !== "" && !isImagePin(pin))
        fail(at(name, "pin"), pin, "expected <tag>@sha256:<64 hex>, as npm run pin writes it, or nothing");
    checkServicePin(name, tag, digest, pin, ctx.stack);

    const port = o.port === undefined ? 3000 : intInRange(at(name, "port"), numeric(o.port), 1, 65535);
    if (EDGE_PORTS.includes(port))
        fail(at(name, "port"), port, "expected a port other than 80, 443 and 2019 (the edge proxy's)");
    const memoryMb = o.memoryMb === undefined ? 512 : intInRange(at(name, "memoryMb"), numeric(o.memoryMb), 64, 65536);
    if (o.health === undefined)
        fail(
            at(name, "health"),
            undefined,
            "expected {path: /healthz}, {command: [...]} or none: how the cut-over knows a new release may take traffic",
        );
    const { health, healthcheckCommand } = parseHealth(at(name, "health"), o.health);

    const env: Record<string, string> = {};
    const envRaw = o.env ?? {};
    if (typeof envRaw !== "object" || envRaw === null || Array.isArray(envRaw))
        fail(at(name, "env"), envRaw, "expected a mapping of NAME: value");
    for (const [k, v] of Object.entries(envRaw as Record<string, unknown>)) {
        checkEnvName(at(name, "env"), k);
        if (typeof v !== "string")
            fail(at(name, "env"), { [k]: v }, "expected string values (quote numbers and booleans)");
        const why = secretLooking(k, v);
        if (why) {
            // The value is never echoed: it may be a live credential.
            throw new ConfigError(
                at(name, "env"),
                `${at(name, "env")}: ${k} looks like a secret (${why}); plain env is visible in the stack file, the state and \`docker inspect\` — move it: add ${k} to services.${name}.secrets and run: pulumi config set --secret --path 'appSecrets.${k}' --stack ${ctx.stack} (it prompts for the value)`,
            );
        }
        env[k] = v;
    }
    const secretNames = strings(at(name, "secrets"), o.secrets ?? [], "environment variable names")
        .slice()
        .sort();
    for (const s of secretNames) {
        checkEnvName(at(name, "secrets"), s);
    }
    if (new Set(secretNames).size !== secretNames.length)
        fail(at(name, "secrets"), secretNames, "expected no duplicates");
    const database = o.database ?? false;
    if (typeof database !== "boolean")
        fail(at(name, "database"), database, "expected true (the service receives DATABASE_URL) or false");

    const routes = strings(at(name, "routes"), o.routes, "routes such as app.example.com/ or app.example.com/api").map(
        (text) => {
            const r = parseRoute(text);
            if (!r)
                return fail(
                    at(name, "routes"),
                    text,
                    "expected host/path such as app.example.com/ or app.example.com/api (a path prefix, no trailing slash)",
                );
            if (!ctx.hosts.includes(r.host))
                fail(
                    at(name, "routes"),
                    text,
                    `expected a host of this stack: ${ctx.hosts.join(" or ")} (frontendHost, apiHost)`,
                );
            return r;
        },
    );
    if (routes.length === 0)
        fail(
            at(name, "routes"),
            [],
            "expected at least one route: a service the edge cannot reach has no traffic to cut over",
        );

    const migrationCommand = strings(at(name, "migrationCommand"), o.migrationCommand ?? [], "argv words");
    if (migrationCommand.length > 0 && !database)
        fail(at(name, "database"), database, "expected true: a service with a migrationCommand needs DATABASE_URL");
    const smokeRaw = o.smokeRequests ?? {};
    if (typeof smokeRaw !== "object" || smokeRaw === null || Array.isArray(smokeRaw))
        fail(at(name, "smokeRequests"), smokeRaw, "expected a mapping of PATH: status");
    const smoke = Object.fromEntries(
        Object.entries(smokeRaw as Record<string, unknown>).map(([p, v]) => [p, numeric(v)]),
    );
    return {
        name,
        repository,
        tag,
        digest,
        pin,
        port,
        memoryMb,
        health,
        healthcheckCommand,
        env,
        secretNames,
        database,
        routes,
        migrationCommand,
        processes: parseProcesses(at(name, "processes"), o.processes ?? {}),
        smokeRequests: smokeRequests(at(name, "smokeRequests"), smoke),
    };
}

/**
 * The tag a pin record (tag@digest, written by pin, promote and rollback) says `digest` was
 * pinned for; undefined when it says nothing about it (no digest, or a record for another
 * digest: a writer that set tag and digest together without recording).
 */
export function pinnedTagOf(pin: string, digest: string): string | undefined {
    const at = pin.indexOf("@");
    return digest !== "" && at > 0 && pin.slice(at + 1) === digest ? pin.slice(0, at) : undefined;
}

/** Under a pin (tag@digest) for this digest, a different tag is refused: the old image would deploy. */
export function checkServicePin(name: string, tag: string, digest: string, pin: string, stack: string): void {
    const pinnedTag = pinnedTagOf(pin, digest);
    if (pinnedTag === undefined || pinnedTag === tag) return;
    throw new ConfigError(
        at(name, "tag"),
        `${at(name, "tag")}: ${show(tag)} is not the tag its digest was pinned for (${show(pinnedTag)}), so ${pinnedTag}'s image would deploy; expected them to match — re-pin: pulumi config rm --path 'services.${name}.digest' --stack ${stack} && pulumi config rm --path 'services.${name}.pin' --stack ${stack} && npm run pin -- --stack ${stack} --service ${name} (or set the tag back to ${pinnedTag})`,
    );
}

/**
 * The `services` mapping, validated, sorted by name; then the rules across services: no
 * route claimed twice, every app secret used by some service.
 */
export function parseServices(raw: Record<string, unknown>, ctx: ServicesContext): ServiceSpec[] {
    const services = Object.keys(raw)
        .sort()
        .map((name) => parseService(name, raw[name], ctx));
    const owner = new Map<string, string>();
    for (const s of services) {
        for (const r of s.routes) {
            const text = routeText(r);
            const first = owner.get(text);
            if (first !== undefined)
                fail(at(s.name, "routes"), text, `expected each route in one service only; ${first} already claims it`);
            owner.set(text, s.name);
        }
    }
    for (const s of services) {
        const hosts = [...new Set(s.routes.map((r) => r.host))];
        const stray = s.smokeRequests.find((q) => !hosts.some((h) => routeOf(services, h, q.path)?.name === s.name));
        if (stray)
            fail(
                at(s.name, "smokeRequests"),
                stray.path,
                `expected a path that reaches ${s.name} through its routes (${s.routes.map(routeText).join(", ")}), so the post-deploy check can ask for it`,
            );
    }
    const unused = ctx.secretsHeld.find((n) => !services.some((s) => s.secretNames.includes(n)));
    if (unused)
        fail(
            "platform:appSecrets",
            unused,
            `expected every secret to be listed by a service (services.<name>.secrets); add it to the service that needs it, or remove it: pulumi config rm --path 'appSecrets.${unused}' --stack ${ctx.stack}`,
        );
    return services;
}
