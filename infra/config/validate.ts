/**
 * Pure validators for stack config. Each returns nothing or throws a ConfigError whose
 * message is one line: the key, the bad value, and what is allowed.
 */
// The errors module alone: the tools read config without loading the whole SDK.
import { RunError } from "@pulumi/pulumi/errors";

/**
 * A config mistake. Extends RunError so the Pulumi CLI prints the message alone, without
 * the program's stack trace.
 */
export class ConfigError extends RunError {
    constructor(
        readonly key: string,
        message: string,
    ) {
        super(message);
        this.name = "ConfigError";
    }
}

/** JSON-ish rendering of a value for an error message, cut short so the line stays readable. */
export function show(value: unknown): string {
    const s = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function fail(key: string, value: unknown, allowed: string): never {
    throw new ConfigError(key, `${key}: ${show(value)} is not valid; ${allowed}`);
}

/** Levenshtein distance, for "did you mean" suggestions on slugs. */
export function editDistance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
            diag = up;
        }
    }
    return prev[b.length];
}

/** The `n` allowed values closest to `value`. */
export function closest(value: string, allowed: readonly string[], n = 3): string[] {
    return [...allowed]
        .map((a) => ({ a, d: editDistance(value.toLowerCase(), a) }))
        .sort((x, y) => x.d - y.d || x.a.localeCompare(y.a))
        .slice(0, n)
        .map((x) => x.a);
}

export function oneOf(key: string, value: string, allowed: readonly string[], what: string): string {
    if (!allowed.includes(value)) {
        const near = closest(value, allowed).join(", ");
        const all = allowed.length <= 12 ? ` (allowed: ${allowed.join(", ")})` : "";
        fail(key, value, `expected ${what}; closest valid: ${near}${all}`);
    }
    return value;
}

export function intInRange(key: string, value: unknown, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        fail(key, value, `expected a whole number from ${min} to ${max}`);
    }
    return value;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS domain such as `example.com`: lowercase labels, at least two, no trailing dot. */
export function isDomain(value: string): boolean {
    const labels = value.split(".");
    return (
        value.length <= 253 &&
        labels.length >= 2 &&
        labels.every((l) => LABEL.test(l)) &&
        !/^\d+$/.test(labels[labels.length - 1])
    );
}

/** A record name relative to the zone: `@` for the apex, or one or more labels (`api.staging`). */
export function isRecordName(value: string): boolean {
    return value === "@" || (value.split(".").every((l) => LABEL.test(l)) && value.length <= 200);
}

export function isEmail(value: string): boolean {
    const at = value.lastIndexOf("@");
    return at > 0 && /^[A-Za-z0-9._%+-]+$/.test(value.slice(0, at)) && isDomain(value.slice(at + 1).toLowerCase());
}

/**
 * Parses an IPv4 CIDR; returns its network base and prefix, or undefined when malformed.
 * Only the canonical form: a leading zero (`10.020.0.0/20`) is refused, since the value
 * goes to DigitalOcean as written and inet_aton-style parsers read `020` as octal 16.
 */
export function parseCidr(value: string): { base: number; prefix: number } | undefined {
    const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\/(0|[1-9]\d?)$/.exec(value);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const base = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((base & mask) >>> 0 !== base) return undefined; // host bits set: not a network address
    return { base, prefix };
}

/** True when two IPv4 networks share an address (one contains the other). Malformed: false. */
export function cidrsOverlap(a: string, b: string): boolean {
    const x = parseCidr(a);
    const y = parseCidr(b);
    if (!x || !y) return false;
    const prefix = Math.min(x.prefix, y.prefix);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** True when `value` lies inside an RFC 1918 private range. */
export function isPrivateCidr(c: { base: number; prefix: number }): boolean {
    const inRange = (b: number, p: number) => c.prefix >= p && c.base >>> (32 - p) === b >>> (32 - p);
    return inRange(0x0a000000, 8) || inRange(0xac100000, 12) || inRange(0xc0a80000, 16);
}

/** Tailscale ACL tags: `tag:` then a letter, then letters, digits or dashes. */
export function isTailscaleTag(value: string): boolean {
    return /^tag:[a-zA-Z][a-zA-Z0-9-]*$/.test(value);
}

/** An OCI repository without tag or digest, lowercase, with a registry host (ghcr.io/acme/shop). */
export function isImageRepository(value: string): boolean {
    return /^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?\/[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(value);
}

/** A Docker tag: word characters, dots and dashes, at most 128, not starting with . or -. */
export function isImageTag(value: string): boolean {
    return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}

/** `repository:tag@sha256:<64 hex>`: readable tag, immutable digest. */
export function isPinnedImage(value: string): boolean {
    const m =
        /^([a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})@(.+)$/.exec(
            value,
        );
    return m !== null && isDigest(m[3]);
}

export function isDigest(value: string): boolean {
    return /^sha256:[a-f0-9]{64}$/.test(value);
}

/** A POSIX environment variable name. */
export function isEnvName(value: string): boolean {
    return /^[A-Z_][A-Z0-9_]*$/.test(value);
}

/** A DigitalOcean SSH key reference: a numeric id or an MD5 fingerprint. */
export function isSshKeyRef(value: string): boolean {
    return /^\d+$/.test(value) || /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/.test(value);
}

/** A GitHub login or organization name. */
export function isGithubName(value: string): boolean {
    return /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(value);
}

/** An absolute URL path the deploy can request (health and smoke paths): no spaces, no `=`. */
export function isUrlPath(s: string): boolean {
    return /^\/[A-Za-z0-9._~/-]*(\?[A-Za-z0-9._~&-]*)?$/.test(s);
}

/** A tailnet as Tailscale's API names it (`example.com`, `tail1234.ts.net`, or `-` for the key's own). */
export function isTailnetName(value: string): boolean {
    return /^[A-Za-z0-9.@_-]+$/.test(value);
}

/** A managed database cluster name: 3 to 63 lowercase letters, digits and dashes, not starting with a dash. */
export function isClusterName(value: string): boolean {
    return /^[a-z0-9][a-z0-9-]{2,62}$/.test(value);
}

/** A Postgres identifier the platform creates unquoted: lowercase letters, digits, underscores. */
export function isPgIdentifier(value: string): boolean {
    return /^[a-z_][a-z0-9_]{0,62}$/.test(value);
}

/** A UTC time of day, `HH:MM` on a 24-hour clock. */
export function isUtcHourMinute(value: string): boolean {
    return /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

/** An ISO 8601 instant in UTC (`2026-11-20T14:03:11Z`, up to microseconds) that is a real date. */
export function isUtcTime(value: string): boolean {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(value) && !Number.isNaN(Date.parse(value));
}

/** A Spaces (S3) bucket name: 3 to 63 lowercase letters, digits and dashes, not starting or ending with a dash. */
export function isBucketName(value: string): boolean {
    return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(value);
}

/** A Slack channel name, with or without its `#`. */
export function isSlackChannel(value: string): boolean {
    return /^#?[a-z0-9_-]{1,80}$/.test(value);
}

/** A pin record (services.<name>.pin) as `npm run pin` writes it: `<tag>@sha256:<64 hex>`. */
export function isImagePin(value: string): boolean {
    return isImageTag(value.split("@")[0]) && isDigest(value.slice(value.indexOf("@") + 1));
}

/** A GitHub repository name (without its owner). */
export function isGithubRepositoryName(value: string): boolean {
    return /^[A-Za-z0-9_.-]{1,100}$/.test(value);
}

/** A GitHub team slug as the API spells it. */
export function isTeamSlug(value: string): boolean {
    return /^[a-z0-9][a-z0-9_-]*$/.test(value);
}

/**
 * Container roles and resource name suffixes the platform uses itself; a worker process may
 * not take them (`<service>-<process>` would collide with `<service>-app`, `-image`, ...).
 */
export const RESERVED_PROCESS_NAMES = [
    "app",
    "caddy",
    "migrate",
    "edge",
    "image",
    "cutover",
    "workers-check",
    "proxy",
    "network",
    "docker",
    "ready",
] as const;

/** A worker process name: also its container's role, so short, lowercase, and not a platform role. */
export function isProcessName(value: string): boolean {
    return /^[a-z][a-z0-9-]{0,30}$/.test(value) && !(RESERVED_PROCESS_NAMES as readonly string[]).includes(value);
}

export interface SmokeRequest {
    path: string;
    status: number;
}

/**
 * `smokeRequests` as a list sorted by path. The on-server cut-over reads them as
 * `path=status` words, so a path may not contain `=` or spaces.
 */
export function smokeRequests(key: string, value: Record<string, unknown>): SmokeRequest[] {
    return Object.keys(value)
        .sort()
        .map((path) => {
            if (!isUrlPath(path))
                fail(key, path, "expected an absolute URL path such as /api/v1/products (no spaces or =)");
            const status = value[path];
            if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
                fail(
                    key,
                    { [path]: status },
                    `expected the HTTP status ${path} must answer, 100-599, e.g. {"${path}": 200}`,
                );
            }
            return { path, status };
        });
}

/** Ports the edge proxy on each server listens on (HTTP, HTTPS, Caddy's admin API): no app may use them. */
export const EDGE_PORTS: readonly number[] = [80, 443, 2019];
