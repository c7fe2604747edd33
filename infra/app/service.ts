/**
 * One service on one server: its image, its migration (once per release, on the first
 * server), its app container and workers, and the cut-over that puts the new container
 * into service behind the edge proxy.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ProcessSpec, ServiceHealth } from "../config/parse/services";
import { SmokeRequest } from "../config/validate";
import { shellJoin } from "../shell";
import { dockerHealthcheck, LOG_OPTS } from "./container";
import {
    PROXY_CONTAINER,
    PROBE_TIMEOUT_SECONDS,
    script,
    cutoverSmoke,
    VERIFY_SECONDS,
    WORKER_STABLE_SECONDS,
} from "./scripts";
import { OnServer } from "./server";

export interface AppService {
    /** @example "api" */
    name: string;
    /** Image repository without tag. @example "ghcr.io/acme/shop" */
    repository: string;
    /** The release's tag, for labels and outputs. @example "1.4.2" */
    tag: string;
    /** Pinned digest (promote/rollback), or "" to resolve `tag` in the registry at deploy time. */
    digest: string;
    port: number;
    memoryMb: number;
    health: ServiceHealth;
    /** argv of an optional Docker healthcheck run inside the container; the gate when health is `docker`. */
    healthcheckCommand: string[];
    /** Plain KEY=value environment of every process of the service. */
    env: string[];
    /** Secret KEY=value environment (DATABASE_URL, app secrets), kept inside a secret Output. */
    secretEnv: pulumi.Input<string[]>;
    /** argv run once per release before the new version starts; empty skips migrations. */
    migrationCommand: string[];
    /** Extra containers from the same image (workers), not proxied. */
    processes: ProcessSpec[];
    /** Requests every release must answer (path and status), before traffic and after the switch. */
    smokeRequests: SmokeRequest[];
}

/** What the migration step needs besides the service: the database, the psql image, the optional dump. */
export interface MigrationArgs {
    /** Direct (not pooled) database URL. Secret. */
    databaseUrl: pulumi.Input<string>;
    /** Pinned image with psql and pg_dump; the step reads the database's clock with it (the restore point). */
    dbClientImage: string;
    /** The dump's environment (bucket URL, region, prefix, Spaces keys), secret; empty when dumps are off. */
    dumpEnv: pulumi.Output<{ [k: string]: string }>;
}

export interface ServiceSteps {
    cutover: command.local.Command;
    migrate?: command.local.Command;
}

/** The prefix of a service's resource names on a server: `<app>-<server>-web-app`, `-web-image`, ... */
export function serviceBase(serverName: string, service: string): string {
    return `${serverName}-${service}`;
}

/** The cut-over's health words: HEALTH and, for `http`, HEALTH_PATH. */
export function healthEnv(health: ServiceHealth): { HEALTH: string; HEALTH_PATH?: string } {
    return health.kind === "http" ? { HEALTH: "http", HEALTH_PATH: health.path } : { HEALTH: health.kind };
}

/**
 * Everything of one service on one server. A new release replaces the app container
 * create-before-delete: the new container (auto-named, so both can exist) starts on the
 * proxy's network; new workers must stay up (scripts/workers-check.sh); then
 * scripts/cutover.sh, under the server's lock, checks it from the proxy's network, switches
 * this service's routes to it with the old one as fallback, and verifies through the proxy
 * that it answers. Only then does Pulumi stop the old container. Any failure leaves (or puts
 * back) the old release serving and fails the update with the reason.
 */
export function deployService(
    s: OnServer,
    svc: AppService,
    o: {
        image: pulumi.Output<string>;
        proxyConfig: string;
        verifyUrl: string;
        /** The service's route prefixes: its default smoke requests when it lists none. */
        routePaths: string[];
        proxyReady: pulumi.Resource;
        previous: pulumi.Resource[];
        migration?: MigrationArgs;
        healthcheck: { intervalSeconds: number; retries: number };
        deployTimeoutSeconds: number;
    },
): ServiceSteps {
    const base = serviceBase(s.name, svc.name);
    const on = { parent: s.parent, provider: s.provider };
    const image = new docker.RemoteImage(
        `${base}-image`,
        { name: o.image, keepLocally: true, triggers: { dropletId: s.dropletId } },
        on,
    );

    const beforeApp: pulumi.Resource[] = [image, ...o.previous];
    let migrate: command.local.Command | undefined;
    if (o.migration && svc.migrationCommand.length > 0) {
        const m = o.migration;
        migrate = new command.local.Command(
            `${base}-migrate`,
            {
                create: script("migrate"),
                interpreter: ["/bin/bash", "-c"],
                environment: pulumi.secret(
                    pulumi.all([o.image, m.databaseUrl, m.dumpEnv]).apply(([img, url, dump]) => ({
                        DOCKER_HOST: s.dockerHost,
                        SERVER: s.server.tailnetHostname,
                        IMAGE: img,
                        DATABASE_URL: url,
                        MIGRATE_ARGS: shellJoin(svc.migrationCommand),
                        PG_CLIENT_IMAGE: m.dbClientImage,
                        ...dump,
                    })),
                ),
                // Runs again exactly when the release changes.
                triggers: [o.image],
            },
            { parent: s.parent, dependsOn: [image, ...o.previous] },
        );
        beforeApp.push(migrate);
    }

    const common = {
        image: o.image,
        restart: "unless-stopped",
        logDriver: "json-file",
        logOpts: { ...LOG_OPTS },
        envs: pulumi.secret(pulumi.output(svc.secretEnv).apply((secret) => [...svc.env, ...secret])),
        destroyGraceSeconds: 30,
        stopTimeout: 30,
    };
    // Labels force a new container (see DROPLET_LABEL).
    const release = [
        { label: "platform.release", value: svc.tag },
        { label: "platform.service", value: svc.name },
    ];
    const healthcheck = dockerHealthcheck(svc.healthcheckCommand, o.healthcheck.intervalSeconds, o.healthcheck.retries);
    const app = new docker.Container(
        `${base}-app`,
        {
            ...common,
            memory: svc.memoryMb,
            labels: s.labels("app", release),
            // On the proxy's network from the start, under its own (auto) name: the proxy only
            // routes to it once the cut-over switches its upstream to it.
            networksAdvanced: [{ name: s.network.name }],
            ...(healthcheck ? { healthcheck } : {}),
            // The provider's `wait` polls Docker's health status, which exists only with a
            // healthcheck; without one the cut-over's probes are the gate.
            wait: healthcheck !== undefined,
            waitTimeout: o.deployTimeoutSeconds,
        },
        {
            ...on,
            dependsOn: beforeApp,
            deleteBeforeReplace: false,
            // The Docker provider plans a healthcheck change as an update its Update never applies
            // (infra/lifecycle/semantics.ts, noopOn): a new container, cut over, makes it real.
            replaceOnChanges: ["healthcheck"],
        },
    );

    const workers = svc.processes.map(
        (p) =>
            new docker.Container(
                `${base}-${p.name}`,
                {
                    ...common,
                    command: p.command,
                    memory: p.memoryMb,
                    labels: s.labels(p.name, release),
                },
                { ...on, dependsOn: beforeApp, deleteBeforeReplace: false },
            ),
    );
    const gates: pulumi.Resource[] = [app, o.proxyReady, s.network];
    if (workers.length > 0) {
        // A crash-looping worker fails the deploy before any traffic moves.
        gates.push(
            new command.local.Command(
                `${base}-workers-check`,
                {
                    create: script("workers-check"),
                    interpreter: ["/bin/bash", "-c"],
                    environment: {
                        DOCKER_HOST: s.dockerHost,
                        SERVER: s.server.tailnetHostname,
                        WORKERS: pulumi.all(workers.map((w) => w.name)).apply((names) => names.join(" ")),
                        STABLE_SECONDS: String(WORKER_STABLE_SECONDS),
                    },
                    triggers: workers.map((w) => w.id),
                },
                { parent: s.parent, dependsOn: workers },
            ),
        );
    }

    const cutover = new command.local.Command(
        `${base}-cutover`,
        {
            create: script("cutover"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                DOCKER_HOST: s.dockerHost,
                SERVER: s.server.tailnetHostname,
                SERVICE: svc.name,
                APP_CONTAINER: app.name,
                APP_PORT: String(svc.port),
                ...healthEnv(svc.health),
                PROXY_CONTAINER,
                NETWORK: s.network.name,
                PROXY_CONFIG: o.proxyConfig,
                HEALTH_TIMEOUT: String(o.deployTimeoutSeconds),
                PROBE_TIMEOUT: String(PROBE_TIMEOUT_SECONDS),
                VERIFY_SECONDS: String(VERIFY_SECONDS),
                LOCK_TIMEOUT: String(o.deployTimeoutSeconds + 120),
                SMOKE: cutoverSmoke(svc.smokeRequests, o.routePaths),
                VERIFY_URL: o.verifyUrl,
            },
            // Runs for every new app container, i.e. for every release.
            triggers: [app.id],
        },
        { parent: s.parent, dependsOn: gates },
    );
    return { cutover, migrate };
}
