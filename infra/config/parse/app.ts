/**
 * The application: settings every service of the stack shares (the edge proxy and database
 * client images, the registry login, log level, release timing), and its services. A stack
 * declares its services in `services` (parse/services.ts); a stack written for one image
 * (imageRepository, imageTag, appPort, ...) is read as one service, LEGACY_SERVICE, that
 * answers both public hosts.
 */
import { ParseContext, q, Reader } from "../reader";
import { DEFAULT_DB_CLIENT_IMAGE, DEFAULT_PROXY_IMAGE, Key, KEYS } from "../schema";
import { ConfigError, EDGE_PORTS, fail, isGithubName, isPinnedImage, oneOf, smokeRequests } from "../validate";
import { DnsSettings } from "./dns";
import { checkAppSecrets, parseEnv, parseSecretNames } from "./env";
import { parseImage } from "./image";
import { LEGACY_SERVICE, parseProcesses, parseServices, routeOf, ServiceSpec } from "./services";

/** Settings every service of the stack shares. */
export interface AppSharedSettings {
    proxyImage: string; dbClientImage: string; registryUser: string; hasRegistryToken: boolean;
    /** The registry host ghcrToken logs in to: the services' one registry, or ghcr.io when they use several. */
    registryHost: string;
    logLevel: string;
    /** Every app secret's name (appSecrets), sorted: each service receives the ones it lists. */
    secretNames: string[];
    healthcheckIntervalSeconds: number; healthcheckRetries: number;
    verifyWindowSeconds: number; maxErrorPercent: number; deployTimeoutSeconds: number; bootTimeoutSeconds: number;
}

export interface AppParse {
    app: AppSharedSettings;
    /** Sorted by name. */
    services: ServiceSpec[];
    /** The load balancer's and the uptime check's target: healthPath on the API host, and the service that answers it. */
    check: { host: string; path: string; service: string };
}

export const LOG_LEVELS = ["debug", "info", "warn", "error"];


/** The one-image keys: with `services` set, each must stay at its default (it lives in a service). */
export const ONE_IMAGE_KEYS = [
    "imageRepository", "imageTag", "imageDigest", "imagePin", "appPort", "appMemoryMb", "appEnv", "appSecretNames",
    "migrationCommand", "processes", "healthcheckCommand", "smokeRequests",
] as const satisfies readonly Key[];

export function parseApp(r: Reader, ctx: ParseContext, dns: DnsSettings, healthPath: string): AppParse {
    const raw = r.object("services");
    const declared = Object.keys(raw).length > 0;
    let services: ServiceSpec[];
    let secretNames: string[];
    if (declared) {
        const set = ONE_IMAGE_KEYS.find((k) => r.isSet(k));
        if (set) {
            throw new ConfigError(q(set), `${q(set)}: is set, but this stack declares services; expected it inside each service (services.<name>) — move it there and run: pulumi config rm ${set} --stack ${ctx.stack}`);
        }
        secretNames = r.secretPresent("appSecrets") ? (r.secretEntryNames("appSecrets") ?? []).slice().sort() : [];
        services = parseServices(raw, { stack: ctx.stack, hosts: [dns.frontendFqdn, dns.apiFqdn], secretsHeld: secretNames });
    } else {
        const one = parseOneImage(r, ctx, dns, healthPath);
        secretNames = one.secretNames;
        services = [one];
    }
    const checked = routeOf(services, dns.apiFqdn, healthPath);
    if (!checked) {
        fail(q("healthPath"), healthPath, `expected a path some service answers on ${dns.apiFqdn} (the load balancer and the uptime check probe it): add a route for it to a service`);
    }
    const hosts = [...new Set(services.map((s) => s.repository.split("/")[0]))];
    return {
        app: { ...parseAppShared(r), secretNames, registryHost: hosts.length === 1 ? hosts[0] : "ghcr.io" },
        services,
        check: { host: dns.apiFqdn, path: healthPath, service: checked.name },
    };
}

/** The one-image keys as a service: routed on both hosts, with DATABASE_URL, gated on healthPath. */
export function parseOneImage(r: Reader, ctx: ParseContext, dns: DnsSettings, healthPath: string): ServiceSpec {
    for (const k of ["imageRepository", "imageTag"] as const) {
        if (!r.isSet(k)) {
            throw new ConfigError(q(k), `${q(k)}: is not set; it is required (${KEYS[k].description}) unless the stack declares services — run: pulumi config set ${k} <value> --stack ${ctx.stack}`);
        }
    }
    const image = parseImage(r, ctx);
    const env = parseEnv(r, ctx);
    const secretNames = parseSecretNames(r);
    checkAppSecrets(r, ctx, secretNames);
    const processes = parseProcesses(q("processes"), r.object("processes"));
    const port = r.int("appPort", 1, 65535);
    if (EDGE_PORTS.includes(port)) fail(q("appPort"), port, "expected a port other than 80, 443 and 2019 (the edge proxy's)");
    return {
        name: LEGACY_SERVICE,
        ...image,
        port,
        memoryMb: r.int("appMemoryMb", 64, 65536),
        health: { kind: "http", path: healthPath },
        healthcheckCommand: r.strings("healthcheckCommand", { each: (c) => c !== "", what: "a non-empty argv word" }),
        env, secretNames, database: true,
        routes: [{ host: dns.frontendFqdn, path: "/" }, { host: dns.apiFqdn, path: "/" }],
        migrationCommand: r.strings("migrationCommand"),
        processes,
        smokeRequests: smokeRequests(q("smokeRequests"), r.object("smokeRequests")),
    };
}

export function parseAppShared(r: Reader): Omit<AppSharedSettings, "secretNames" | "registryHost"> {
    const proxyImage = r.nonEmpty("proxyImage");
    if (!isPinnedImage(proxyImage)) fail(q("proxyImage"), proxyImage, `expected repository:tag@sha256:<64 hex>, pinned so no preview resolves it and a moved tag never replaces the proxy, e.g. ${DEFAULT_PROXY_IMAGE}`);
    const dbClientImage = r.nonEmpty("dbClientImage");
    if (!isPinnedImage(dbClientImage)) fail(q("dbClientImage"), dbClientImage, `expected repository:tag@sha256:<64 hex> of an image with psql, e.g. ${DEFAULT_DB_CLIENT_IMAGE}`);
    const registryUser = r.str("ghcrUsername");
    if (registryUser !== "" && !isGithubName(registryUser)) fail(q("ghcrUsername"), registryUser, "expected a GitHub user name");
    const hasRegistryToken = r.secretPresent("ghcrToken");
    if (hasRegistryToken && registryUser === "") fail(q("ghcrUsername"), "", "expected the registry user that owns ghcrToken");
    return {
        proxyImage, dbClientImage, registryUser, hasRegistryToken,
        logLevel: oneOf(q("logLevel"), r.str("logLevel"), LOG_LEVELS, "a log level"),
        healthcheckIntervalSeconds: r.int("healthcheckIntervalSeconds", 1, 60),
        healthcheckRetries: r.int("healthcheckRetries", 1, 20),
        verifyWindowSeconds: r.int("verifyWindowSeconds", 0, 600),
        maxErrorPercent: r.int("maxErrorPercent", 0, 100),
        deployTimeoutSeconds: r.int("deployTimeoutSeconds", 30, 1800),
        bootTimeoutSeconds: r.int("bootTimeoutSeconds", 60, 3600),
    };
}
