/**
 * The application: settings every service of the stack shares (the edge proxy and database
 * client images, the registry login, log level, release timing), and the settings of one
 * service (its image, port, memory, environment, processes, health check and smoke requests).
 * parseApp reads the one service the config describes today; the two halves stay separate
 * so several services can each have their own.
 */
import { ParseContext, q, Reader } from "../reader";
import { DEFAULT_DB_CLIENT_IMAGE, DEFAULT_PROXY_IMAGE } from "../schema";
import { fail, intInRange, isGithubName, isPinnedImage, isProcessName, oneOf, RESERVED_PROCESS_NAMES, SmokeRequest, smokeRequests } from "../validate";
import { checkAppSecrets, parseEnv, parseSecretNames } from "./env";
import { ImageSettings, parseImage } from "./image";

export interface ProcessSpec {
    /** Stable key, also the container's role name (`worker`). */
    name: string;
    command: string[];
    memoryMb: number;
}

/** Settings every service of the stack shares. */
export interface AppSharedSettings {
    proxyImage: string; dbClientImage: string; registryUser: string; hasRegistryToken: boolean;
    logLevel: string;
    verifyWindowSeconds: number; maxErrorPercent: number; deployTimeoutSeconds: number; bootTimeoutSeconds: number;
}

/** Settings of one service: what it runs and how it is checked. */
export interface ServiceSettings extends ImageSettings {
    port: number; memoryMb: number; env: Record<string, string>;
    secretNames: string[]; migrationCommand: string[]; processes: ProcessSpec[];
    healthcheckCommand: string[]; healthcheckIntervalSeconds: number; healthcheckRetries: number;
    smokeRequests: SmokeRequest[];
}

export type AppSettings = AppSharedSettings & ServiceSettings;

export const LOG_LEVELS = ["debug", "info", "warn", "error"];

/** Ports the edge proxy on each server listens on (HTTP, HTTPS, Caddy's admin API). */
export const EDGE_PORTS: readonly number[] = [80, 443, 2019];

export function parseApp(r: Reader, ctx: ParseContext): AppSettings {
    return { ...parseService(r, ctx), ...parseAppShared(r) };
}

export function parseService(r: Reader, ctx: ParseContext): ServiceSettings {
    const image = parseImage(r, ctx);
    const env = parseEnv(r, ctx);
    const secretNames = parseSecretNames(r);
    checkAppSecrets(r, ctx, secretNames);
    const processes = parseProcesses(r.object("processes"));
    const port = r.int("appPort", 1, 65535);
    if (EDGE_PORTS.includes(port)) fail(q("appPort"), port, "expected a port other than 80, 443 and 2019 (the edge proxy's)");
    return {
        ...image,
        port,
        memoryMb: r.int("appMemoryMb", 64, 65536),
        env, secretNames,
        migrationCommand: r.strings("migrationCommand"),
        processes,
        healthcheckCommand: r.strings("healthcheckCommand", { each: (c) => c !== "", what: "a non-empty argv word" }),
        healthcheckIntervalSeconds: r.int("healthcheckIntervalSeconds", 1, 60),
        healthcheckRetries: r.int("healthcheckRetries", 1, 20),
        smokeRequests: smokeRequests(q("smokeRequests"), r.object("smokeRequests")),
    };
}

export function parseAppShared(r: Reader): AppSharedSettings {
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
        verifyWindowSeconds: r.int("verifyWindowSeconds", 0, 600),
        maxErrorPercent: r.int("maxErrorPercent", 0, 100),
        deployTimeoutSeconds: r.int("deployTimeoutSeconds", 30, 1800),
        bootTimeoutSeconds: r.int("bootTimeoutSeconds", 60, 3600),
    };
}

/** The `processes` mapping: worker containers next to the app, sorted by name (their stable key). */
export function parseProcesses(raw: Record<string, unknown>): ProcessSpec[] {
    return Object.entries(raw).sort(([a], [b]) => a.localeCompare(b)).map(([name, spec]) => {
        if (!isProcessName(name)) {
            fail(q("processes"), name, `expected a process name of lowercase letters, digits and dashes other than ${RESERVED_PROCESS_NAMES.join(", ")}`);
        }
        const s = spec as { command?: unknown; memoryMb?: unknown };
        if (typeof spec !== "object" || spec === null || !Array.isArray(s.command) || s.command.length === 0 || s.command.some((c) => typeof c !== "string")) {
            fail(q("processes"), { [name]: spec }, "expected { command: [\"node\", \"worker.js\"], memoryMb: 256 }");
        }
        const memoryMb = s.memoryMb === undefined ? 256 : intInRange(`${q("processes")}.${name}.memoryMb`, s.memoryMb, 64, 65536);
        return { name, command: s.command as string[], memoryMb };
    });
}
