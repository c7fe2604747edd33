/**
 * The one place that reads stack config. `parseSettings` is pure: it takes raw config
 * strings (as the Pulumi CLI hands them to the program) and returns a typed, validated
 * object, or throws a one-line ConfigError before any resource is registered. It reads as
 * a table of contents: one parse step per concern, in the order errors are reported.
 * `loadConfig` (load.ts) adds the secrets, read as secrets, and is what `infra/index.ts`
 * calls; this module loads no more of the Pulumi SDK than its errors, so the tools read
 * config quickly.
 */
import { parseApp } from "./parse/app";
import { parseDatabase } from "./parse/database";
import { parseDns } from "./parse/dns";
import { parseEdge } from "./parse/edge";
import { parseGithub } from "./parse/github";
import { parseMonitoring } from "./parse/monitoring";
import { parseNetwork } from "./parse/network";
import { parseServers } from "./parse/servers";
import { checkRequiredSecrets } from "./parse/secrets";
import { parseTailnet } from "./parse/tailnet";
import { checkKnownKeys, ConfigSource, ParseContext, Reader } from "./reader";
import { PROJECT, STACKS, StackName } from "./schema";
import { Settings } from "./types";
import { ConfigError, show } from "./validate";

export type { PlatformConfig, Secrets, Settings } from "./types";
export type { ConfigSource, ParseContext } from "./reader";
export { checkKnownKeys } from "./reader";
export { ConfigError } from "./validate";
export type { SmokeRequest } from "./validate";
export { APPROVAL_MODES, KEYS, PROJECT, STACKS } from "./schema";
export type { ApprovalMode, StackName } from "./schema";
export type { ProcessSpec, ServiceHealth, ServiceRoute, ServiceSpec } from "./parse/services";
export { pinnedTagOf, routeOf } from "./parse/services";
export { parseDatabaseDump, parseDatabaseRestore, SPACES_REGIONS } from "./parse/database";
export type { DatabaseDump, DatabaseRestore } from "./parse/database";
export { fqdn, ownsRecord } from "./parse/dns";
export { RESERVED_ENV, secretLooking } from "./parse/env";
export { checkApprovalRules, MAX_ENVIRONMENT_REVIEWERS } from "./parse/github";

export function parseSettings(src: ConfigSource, stackName: string): Settings {
    if (!(STACKS as readonly string[]).includes(stackName)) {
        throw new ConfigError(
            "stack",
            `stack: ${show(stackName)} is not a stack this program defines; expected one of ${STACKS.join(", ")}`,
        );
    }
    const stack = stackName as StackName;
    checkKnownKeys(src.keys?.() ?? [], stack);
    const r = new Reader(src, stack);
    const ctx: ParseContext = { stack, prefix: `${PROJECT}-${stack}` };

    const network = parseNetwork(r);
    const servers = parseServers(r, ctx);
    const tailnet = parseTailnet(r);
    const database = parseDatabase(r, ctx);
    const dns = parseDns(r, ctx);
    const edge = parseEdge(r, servers.count, dns);
    const { monitoring, hasSlackWebhook } = parseMonitoring(r);
    const { app, services, check } = parseApp(r, ctx, dns);
    const github = parseGithub(r, ctx);
    checkRequiredSecrets(r, src, ctx);

    return {
        project: PROJECT,
        stack,
        prefix: ctx.prefix,
        stackTag: `${PROJECT}-${stack}`,
        serverTag: `${PROJECT}-${stack}-app`,
        protectData: r.bool("protectData"),
        ...network,
        servers,
        tailnet,
        database,
        dns,
        ...edge,
        urls: { ...edge.urls, health: `https://${check.host}${check.path}` },
        monitoring,
        hasSlackWebhook,
        app,
        services,
        check,
        github,
    };
}
