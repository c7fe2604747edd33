/**
 * The app on every server: a Caddy edge proxy routing by host and path, and for each
 * service its containers, workers, a migration per release and a health-gated cut-over.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { caddyConfig, EdgeRoute, ProxyMode, routedServices, verifyUrl } from "./caddy";
import { imageRef } from "./container";
import { PROBE_TIMEOUT_SECONDS } from "./scripts";
import { AppServer, edgeProxy, onServer } from "./server";
import { AppService, deployService, MigrationArgs } from "./service";

export { caddyConfig } from "./caddy";
export { dockerHealthcheck, imageRef, plainEnv } from "./container";
export { DROPLET_LABEL, NETWORK, networkName, PROXY_CONTAINER, script, smokeWords } from "./scripts";
export type { ScriptName } from "./scripts";
export type { AppServer } from "./server";
export type { AppService } from "./service";

export interface AppArgs {
    /** Servers in rollout order: each server's cut-overs wait for the previous one's. */
    readonly servers: AppServer[];
    readonly deployUser: string;
    /** The services, in the order their steps are declared on each server. */
    readonly services: AppService[];
    /** Public routes by host and path prefix, each to a service. */
    readonly routes: EdgeRoute[];
    /** The load balancer's health check (any host): its path and the service answering it. */
    readonly check?: { path: string; service: string };
    /** Edge proxy image, pinned: `repository:tag@sha256:...`. @example "caddy:2.10-alpine@sha256:4c6e..." */
    readonly proxyImage: string;
    /** Registry credentials for private images (GHCR: a user and a read:packages token). */
    readonly registry?: { address: string; username: string; password: pulumi.Input<string> };
    readonly proxyMode: ProxyMode;
    /** Direct (not pooled) database URL for migrations. Secret. */
    readonly migrationDatabaseUrl: pulumi.Input<string>;
    /** Pinned image with psql and pg_dump; the migration step reads the database's clock with it (the restore point). */
    readonly dbClientImage: string;
    /**
     * A logical dump uploaded before each migration (`dbDump`): the bucket's URL
     * (`https://<region>.digitaloceanspaces.com/<bucket>`), its region, the object name
     * prefix and the Spaces keys (secret).
     */
    readonly dump?: {
        url: pulumi.Input<string>;
        region: string;
        prefix: string;
        accessKeyId: pulumi.Input<string>;
        secretKey: pulumi.Input<string>;
    };
    /** Interval and retries of the services' Docker healthchecks, when they have one. */
    readonly healthcheck: { intervalSeconds: number; retries: number };
    /** How long a new container may take to become healthy. @default 180 */
    readonly deployTimeoutSeconds: number;
    /** How long a fresh server may take to boot. @default 900 */
    readonly bootTimeoutSeconds: number;
}

/** The migration step's environment for the dump, or nothing when dumps are off. */
function dumpEnv(dump: AppArgs["dump"]): pulumi.Output<{ [k: string]: string }> {
    if (!dump) return pulumi.output({} as { [k: string]: string });
    return pulumi
        .all([dump.url, dump.accessKeyId, dump.secretKey])
        .apply(([url, id, key]): { [k: string]: string } => ({
            DUMP_URL: url,
            DUMP_REGION: dump.region,
            DUMP_PREFIX: dump.prefix,
            AWS_ACCESS_KEY_ID: id,
            AWS_SECRET_ACCESS_KEY: key,
        }));
}

/** proxy-config.sh's CHECKS: per routed service, its verify URL and what it must answer. */
export function proxyChecks(routes: EdgeRoute[], services: Pick<AppService, "name" | "health">[]): string {
    return routedServices(routes)
        .map((name) => {
            const h = services.find((s) => s.name === name)?.health;
            return h?.kind === "http"
                ? `${name}|${verifyUrl(routes, name)}${h.path}|200`
                : `${name}|${verifyUrl(routes, name)}/|any`;
        })
        .join(" ");
}

/**
 * The app on every server (see server.ts for the proxy, service.ts for one service's
 * release). A release is the set of the services' digests. With several servers the
 * rollout is sequential: each server's cut-overs wait for the previous server's, and its
 * proxy is touched only once the previous server serves again.
 */
export class App extends pulumi.ComponentResource {
    /** Per service, the digest every server runs: the release record. */
    readonly digests: Record<string, pulumi.Output<string>>;
    /** Per service, `repository@digest`. */
    readonly images: Record<string, pulumi.Output<string>>;
    /**
     * What the first service with a migration printed in this release's migration step (its
     * restore point line among it), or undefined when no service migrates. Not secret: the
     * step prints no secret.
     */
    readonly migrationOutput: pulumi.Output<string | undefined>;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:app:App", name, {}, opts);
        const parent = this;

        const registryProvider = new docker.Provider(
            `${name}-registry`,
            {
                // Only registry lookups go through this provider: no daemon needed.
                disableDockerDaemonCheck: true,
                registryAuth: args.registry ? [args.registry] : [],
            },
            { parent },
        );
        this.digests = {};
        this.images = {};
        for (const svc of args.services) {
            const digest =
                svc.digest !== ""
                    ? pulumi.output(svc.digest)
                    : docker.getRegistryImageOutput(
                          { name: `${svc.repository}:${svc.tag}` },
                          { parent, provider: registryProvider },
                      ).sha256Digest;
            this.digests[svc.name] = digest;
            this.images[svc.name] = digest.apply((d) => imageRef(svc.repository, d));
        }
        // The proxy is pinned by digest in config: resolving a tag here would run on every
        // preview (an invoke needs the registry) and plan a proxy replacement whenever the
        // tag moved upstream.
        const proxyImage = pulumi.output(args.proxyImage);
        const proxyConfig = JSON.stringify(
            caddyConfig({ mode: args.proxyMode, routes: args.routes, check: args.check }),
        );
        const checks = proxyChecks(args.routes, args.services);
        const migration: MigrationArgs = {
            databaseUrl: args.migrationDatabaseUrl,
            dbClientImage: args.dbClientImage,
            dumpEnv: dumpEnv(args.dump),
        };

        let previous: pulumi.Resource[] = [];
        let previousProxy: pulumi.Resource[] = [];
        const migrations: command.local.Command[] = [];
        args.servers.forEach((server, i) => {
            const s = onServer(
                `${name}-${server.key}`,
                server,
                { deployUser: args.deployUser, bootTimeoutSeconds: args.bootTimeoutSeconds, registry: args.registry },
                parent,
            );
            const proxyReady = edgeProxy(
                s,
                { proxyImage, proxyConfig, checks, probeTimeoutSeconds: PROBE_TIMEOUT_SECONDS },
                previousProxy,
            );
            // Migrations run once per release, on the first server.
            const steps = args.services.map((svc) =>
                deployService(s, svc, {
                    image: this.images[svc.name],
                    proxyConfig,
                    verifyUrl: verifyUrl(args.routes, svc.name),
                    routePaths: args.routes.filter((r) => r.service === svc.name).map((r) => r.path),
                    proxyReady,
                    previous,
                    migration: i === 0 ? migration : undefined,
                    healthcheck: args.healthcheck,
                    deployTimeoutSeconds: args.deployTimeoutSeconds,
                }),
            );
            migrations.push(...steps.flatMap((st) => (st.migrate ? [st.migrate] : [])));
            previous = steps.map((st) => st.cutover);
            // The next proxy is touched only once this server serves: its proxy answers again
            // (an upgrade) and its releases are cut over (a first deploy or a rebuilt server,
            // where the new proxy has no release until the cut-overs).
            previousProxy = [proxyReady, ...previous];
        });
        this.migrationOutput = migrations.length > 0 ? pulumi.unsecret(migrations[0].stdout) : pulumi.output(undefined);
        this.registerOutputs({ digests: this.digests, images: this.images });
    }
}
