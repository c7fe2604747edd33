/**
 * The application: settings every service of the stack shares (the edge proxy and database
 * client images, the registry login, log level, release timing), and its services, declared
 * in `services` (parse/services.ts). A one-service app declares one entry.
 */
import { missing, ParseContext, q, Reader, setSecretHint } from "../reader";
import { DEFAULT_DB_CLIENT_IMAGE, DEFAULT_PROXY_IMAGE } from "../schema";
import { ConfigError, fail, isGithubName, isPinnedImage, oneOf } from "../validate";
import { DnsSettings } from "./dns";
import { httpHealthPath, parseServices, routeOf, ServiceSpec } from "./services";

/** Settings every service of the stack shares. */
export interface AppSharedSettings {
    proxyImage: string;
    dbClientImage: string;
    registryUser: string;
    hasRegistryToken: boolean;
    /** The registry host ghcrToken logs in to: the services' one registry, or ghcr.io when they use several. */
    registryHost: string;
    logLevel: string;
    /** Every app secret's name (appSecrets), sorted: each service receives the ones it lists. */
    secretNames: string[];
    healthcheckIntervalSeconds: number;
    healthcheckRetries: number;
    verifyWindowSeconds: number;
    maxErrorPercent: number;
    deployTimeoutSeconds: number;
    bootTimeoutSeconds: number;
}

export interface AppParse {
    app: AppSharedSettings;
    /** Sorted by name. */
    services: ServiceSpec[];
    /**
     * The load balancer's and the uptime check's target: the health path of the service that
     * answers the API host (healthCheckOf), on that host.
     */
    check: { host: string; path: string; service: string };
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"];

export function parseApp(r: Reader, ctx: ParseContext, dns: DnsSettings): AppParse {
    const raw = r.object("services");
    if (Object.keys(raw).length === 0) missing("services", ctx.stack);
    const secretNames = appSecretNames(r, ctx);
    const services = parseServices(raw, {
        stack: ctx.stack,
        hosts: [dns.frontendFqdn, dns.apiFqdn],
        secretsHeld: secretNames,
    });
    const checked = healthCheckOf(services, dns.apiFqdn);
    const hosts = [...new Set(services.map((s) => s.repository.split("/")[0]))];
    return {
        app: { ...parseAppShared(r), secretNames, registryHost: hosts.length === 1 ? hosts[0] : "ghcr.io" },
        services,
        check: { host: dns.apiFqdn, path: checked.path, service: checked.name },
    };
}

/**
 * What the load balancer and the uptime check probe: one service's own health path on the
 * API host, so no second setting can name a path nobody serves. It is the service that
 * answers the API host's root when that one has an HTTP health path the host routes to it,
 * else the first (by name) whose health path the API host routes to it.
 */
export function healthCheckOf(services: ServiceSpec[], apiFqdn: string): { name: string; path: string } {
    const answers = (s: ServiceSpec) => {
        const p = httpHealthPath(s.health);
        return p !== undefined && routeOf(services, apiFqdn, p)?.name === s.name;
    };
    const root = routeOf(services, apiFqdn, "/");
    const chosen = root && answers(root) ? root : services.find(answers);
    const path = chosen ? httpHealthPath(chosen.health) : undefined;
    if (!chosen || path === undefined) {
        const rootPath = root ? httpHealthPath(root.health) : undefined;
        const hint = root
            ? `${root.name} answers ${apiFqdn} but ${rootPath ? `its health path ${rootPath} is routed elsewhere` : `its health (${root.health.kind}) names no path`}`
            : `no service answers ${apiFqdn}/ and none answers its own health path there`;
        return fail(
            q("services"),
            services.map((s) => s.name),
            `expected a service with a health path that ${apiFqdn} routes to it (the load balancer and the uptime check probe it there); ${hint} — give that service health: {path: /healthz} (with a command: health: {command: [...], path: /healthz}) and a route on ${apiFqdn} that covers it`,
        );
    }
    return { name: chosen.name, path };
}

/** The names `appSecrets` holds a value for, sorted; its values stay inside secret Outputs (see loadConfig). */
function appSecretNames(r: Reader, ctx: ParseContext): string[] {
    if (!r.secretPresent("appSecrets")) return [];
    const names = r.secretEntryNames("appSecrets");
    if (names === undefined) {
        throw new ConfigError(
            q("appSecrets"),
            `${q("appSecrets")}: [secret] is not valid; expected a mapping of NAME: value — run: ${setSecretHint("appSecrets", ctx.stack)}`,
        );
    }
    return names.slice().sort();
}

export function parseAppShared(r: Reader): Omit<AppSharedSettings, "secretNames" | "registryHost"> {
    const proxyImage = r.nonEmpty("proxyImage");
    if (!isPinnedImage(proxyImage))
        fail(
            q("proxyImage"),
            proxyImage,
            `expected repository:tag@sha256:<64 hex>, pinned so no preview resolves it and a moved tag never replaces the proxy, e.g. ${DEFAULT_PROXY_IMAGE}`,
        );
    const dbClientImage = r.nonEmpty("dbClientImage");
    if (!isPinnedImage(dbClientImage))
        fail(
            q("dbClientImage"),
            dbClientImage,
            `expected repository:tag@sha256:<64 hex> of an image with psql, e.g. ${DEFAULT_DB_CLIENT_IMAGE}`,
        );
    const registryUser = r.str("ghcrUsername");
    if (registryUser !== "" && !isGithubName(registryUser))
        fail(q("ghcrUsername"), registryUser, "expected a GitHub user name");
    const hasRegistryToken = r.secretPresent("ghcrToken");
    if (hasRegistryToken && registryUser === "")
        fail(q("ghcrUsername"), "", "expected the registry user that owns ghcrToken");
    return {
        proxyImage,
        dbClientImage,
        registryUser,
        hasRegistryToken,
        logLevel: oneOf(q("logLevel"), r.str("logLevel"), LOG_LEVELS, "a log level"),
        healthcheckIntervalSeconds: r.int("healthcheckIntervalSeconds", 1, 60),
        healthcheckRetries: r.int("healthcheckRetries", 1, 20),
        verifyWindowSeconds: r.int("verifyWindowSeconds", 0, 600),
        maxErrorPercent: r.int("maxErrorPercent", 0, 100),
        deployTimeoutSeconds: r.int("deployTimeoutSeconds", 30, 1800),
        bootTimeoutSeconds: r.int("bootTimeoutSeconds", 60, 3600),
    };
}
