import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ProcessSpec } from "../config";
import { shellJoin } from "../shell";
import { caddyConfig, HEALTH_INTERVAL_SECONDS, ProxyMode } from "./caddy";
import { healthcheckCommand, imageRef, LOG_OPTS } from "./container";

export { caddyConfig } from "./caddy";
export { healthcheckCommand, imageRef, plainEnv } from "./container";

/** Shell scripts the deploy runs; kept as files so shellcheck reads exactly what runs. */
export function script(name: "wait-for-server" | "migrate" | "cutover" | "proxy-config"): string {
    return fs.readFileSync(path.join(__dirname, "scripts", `${name}.sh`), "utf8");
}

/** Docker network the proxy and app containers share; app containers publish no host ports. */
export const NETWORK = "platform";
export const PROXY_CONTAINER = "edge-proxy";
/**
 * The proxy's two fixed upstreams. A new app container joins the network under the slot
 * the live one does not hold (see scripts/cutover.sh), so a deploy never changes the
 * proxy's config and never reloads it.
 */
export const SLOTS = ["blue", "green"] as const;

/** The proxy's upstream addresses for an app port. */
export function slotUpstreams(port: number): string[] {
    return SLOTS.map((s) => `app-${s}:${port}`);
}

export interface AppServer {
    /** Stable key. @example "web-1" */
    key: string;
    /** Tailnet MagicDNS name; Docker is reached at ssh://deploy@<it>. @example "prod-web-1" */
    tailnetHostname: string;
    /** The droplet id: a rebuilt droplet re-runs the readiness wait. */
    dropletId: pulumi.Input<number>;
}

export interface AppArgs {
    /** Servers in rollout order: each server's cut-over waits for the previous one's. */
    readonly servers: AppServer[];
    readonly deployUser: string;
    /** Image repository without tag. @example "ghcr.io/acme/shop" */
    readonly repository: string;
    /** The release's tag, for labels and outputs. @example "1.4.2" */
    readonly tag: string;
    /** Pinned digest (promote/rollback), or "" to resolve `tag` in the registry at deploy time. */
    readonly digest: string;
    /** Edge proxy image, pinned: `repository:tag@sha256:...`. @example "caddy:2.10-alpine@sha256:4c6e..." */
    readonly proxyImage: string;
    /** Registry credentials for private images (GHCR: a user and a read:packages token). */
    readonly registry?: { address: string; username: string; password: pulumi.Input<string> };
    readonly proxyMode: ProxyMode;
    readonly healthPath: string;
    readonly port: number;
    readonly memoryMb: number;
    /** Plain KEY=value environment of every app process. */
    readonly env: string[];
    /** Secret KEY=value environment (DATABASE_URL, app secrets), kept inside a secret Output. */
    readonly secretEnv: pulumi.Input<string[]>;
    /** argv run once per release before the new version starts; empty skips migrations. */
    readonly migrationCommand: string[];
    /** Direct (not pooled) database URL for migrations. Secret. */
    readonly migrationDatabaseUrl: pulumi.Input<string>;
    /** Extra containers from the same image (workers), not proxied. */
    readonly processes: ProcessSpec[];
    readonly healthcheck: { intervalSeconds: number; retries: number };
    /** How long a new app container may take to become healthy. @default 180 */
    readonly deployTimeoutSeconds: number;
    /** How long a fresh server may take to boot. @default 900 */
    readonly bootTimeoutSeconds: number;
}

/**
 * The app on every server: a Caddy edge proxy, the app container behind it, worker
 * processes, and a migration run per release.
 *
 * A release is `repository@sha256:...`. Changing it replaces the app container
 * create-before-delete: the new container (auto-named, so both can exist) must pass its
 * Docker healthcheck within the timeout; then the cut-over script attaches it to the
 * proxy's network under the free slot name, and only then does Pulumi stop the old one,
 * whose in-flight requests finish while Caddy retries new ones on the new container. A new
 * image that never turns healthy fails the update before the cut-over, so it never receives
 * a request and the old container keeps serving. With several servers the rollout is
 * sequential: each server's containers wait for the previous server's cut-over.
 */
export class App extends pulumi.ComponentResource {
    /** The digest every server runs: the release record. */
    readonly digest: pulumi.Output<string>;
    /** `repository@digest`. */
    readonly image: pulumi.Output<string>;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:app:App", name, {}, opts);
        const parent = this;

        const registryProvider = new docker.Provider(`${name}-registry`, {
            // Only registry lookups go through this provider: no daemon needed.
            disableDockerDaemonCheck: true,
            registryAuth: args.registry ? [args.registry] : [],
        }, { parent });
        this.digest = args.digest !== ""
            ? pulumi.output(args.digest)
            : docker.getRegistryImageOutput({ name: `${args.repository}:${args.tag}` }, { parent, provider: registryProvider }).sha256Digest;
        this.image = this.digest.apply((d) => imageRef(args.repository, d));
        // The proxy is pinned by digest in config: resolving a tag here would run on every
        // preview (an invoke needs the registry) and plan a proxy replacement whenever the
        // tag moved upstream.
        const proxyImage = pulumi.output(args.proxyImage);

        // Migrations run once, on the first server; each server waits for the previous one's cut-over.
        let previous: pulumi.Resource[] = [];
        args.servers.forEach((server, i) => {
            previous = [this.deployServer(`${name}-${server.key}`, server, args, proxyImage, previous, i === 0)];
        });
        this.registerOutputs({ digest: this.digest, image: this.image });
    }

    /** Everything on one server; returns its cut-over, which the next server waits for. */
    private deployServer(
        name: string, server: AppServer, args: AppArgs, proxyImage: pulumi.Output<string>,
        previous: pulumi.Resource[], runMigrations: boolean,
    ): pulumi.Resource {
        const parent = this;
        const dockerHost = `ssh://${args.deployUser}@${server.tailnetHostname}`;

        const ready = new command.local.Command(`${name}-ready`, {
            create: script("wait-for-server"),
            interpreter: ["/bin/bash", "-c"],
            environment: { SERVER: server.tailnetHostname, DEPLOY_USER: args.deployUser, BOOT_TIMEOUT: String(args.bootTimeoutSeconds) },
            triggers: [server.dropletId],
        }, { parent });

        const provider = new docker.Provider(`${name}-docker`, {
            host: dockerHost,
            // The daemon is contacted when a resource needs it, not when the provider is
            // configured: a first preview of a new stack plans containers for servers that
            // do not exist yet.
            disableDockerDaemonCheck: true,
            sshOpts: ["-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=15"],
            registryAuth: args.registry ? [args.registry] : [],
        }, { parent, dependsOn: [ready] });
        const on = { parent, provider };

        const network = new docker.Network(`${name}-network`, { name: NETWORK, driver: "bridge" }, on);
        const image = new docker.RemoteImage(`${name}-image`, { name: this.image, keepLocally: true }, on);

        // The proxy owns the host's ports 80/443, so a replacement must delete first; it is
        // only ever replaced on purpose (`pulumi up --replace`), never by a routine deploy:
        // its image and bootstrap config are ignored after creation, and the live config is
        // pushed by the cut-over through Caddy's admin API.
        const proxyPull = new docker.RemoteImage(`${name}-proxy-image`, { name: proxyImage, keepLocally: true }, on);
        const proxyData = new docker.Volume(`${name}-proxy-data`, { name: "edge-proxy-data" }, { ...on, retainOnDelete: true });
        const proxyConfigVolume = new docker.Volume(`${name}-proxy-config`, { name: "edge-proxy-config" }, { ...on, retainOnDelete: true });
        const proxyConfig = JSON.stringify(caddyConfig({ mode: args.proxyMode, upstreams: slotUpstreams(args.port), healthPath: args.healthPath }));
        const proxy = new docker.Container(`${name}-proxy`, {
            name: PROXY_CONTAINER,
            image: proxyImage,
            command: ["caddy", "run", "--resume", "--config", "/etc/caddy/caddy.json"],
            uploads: [{ file: "/etc/caddy/caddy.json", content: proxyConfig }],
            ports: [{ internal: 80, external: 80 }, { internal: 443, external: 443 }],
            volumes: [
                { volumeName: proxyData.name, containerPath: "/data" },
                { volumeName: proxyConfigVolume.name, containerPath: "/config" },
            ],
            networksAdvanced: [{ name: network.name }],
            restart: "unless-stopped",
            memory: 256,
            logDriver: "json-file",
            logOpts: { ...LOG_OPTS },
            labels: [{ label: "platform.role", value: "proxy" }],
        }, { ...on, dependsOn: [proxyPull], deleteBeforeReplace: true, ignoreChanges: ["image", "uploads"] });
        // A changed config (domains, health path) is loaded in place; a routine deploy never
        // changes it, so it never reloads the proxy.
        const proxyReload = new command.local.Command(`${name}-proxy-config`, {
            create: script("proxy-config"),
            interpreter: ["/bin/bash", "-c"],
            environment: { DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, PROXY_CONTAINER, PROXY_CONFIG: proxyConfig },
            triggers: [proxyConfig],
        }, { parent, dependsOn: [proxy] });

        const beforeApp: pulumi.Resource[] = [image, ...previous];
        if (runMigrations && args.migrationCommand.length > 0) {
            beforeApp.push(new command.local.Command(`${name}-migrate`, {
                create: script("migrate"),
                interpreter: ["/bin/bash", "-c"],
                environment: pulumi.secret(pulumi.all([this.image, args.migrationDatabaseUrl]).apply(([img, url]) => ({
                    DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, IMAGE: img,
                    DATABASE_URL: url, MIGRATE_ARGS: shellJoin(args.migrationCommand),
                }))),
                // Runs again exactly when the release changes.
                triggers: [this.image],
            }, { parent, dependsOn: [image, ...previous] }));
        }

        const common = {
            image: this.image,
            restart: "unless-stopped",
            logDriver: "json-file",
            logOpts: { ...LOG_OPTS },
            envs: pulumi.secret(pulumi.output(args.secretEnv).apply((secret) => [...args.env, ...secret])),
            destroyGraceSeconds: 30,
            stopTimeout: 30,
        };
        const app = new docker.Container(`${name}-app`, {
            ...common,
            memory: args.memoryMb,
            labels: [{ label: "platform.role", value: "app" }, { label: "platform.release", value: args.tag }],
            healthcheck: {
                tests: healthcheckCommand(args.port, args.healthPath),
                interval: `${args.healthcheck.intervalSeconds}s`,
                timeout: "3s",
                retries: args.healthcheck.retries,
                startPeriod: "10s",
                startInterval: "1s",
            },
            wait: true,
            waitTimeout: args.deployTimeoutSeconds,
            // Starts on the default bridge, unreachable by the proxy; the cut-over attaches it
            // to the proxy's network once healthy, which Pulumi must not undo.
        }, { ...on, dependsOn: beforeApp, deleteBeforeReplace: false, ignoreChanges: ["networksAdvanced", "networkMode"] });

        for (const p of args.processes) {
            new docker.Container(`${name}-${p.name}`, {
                ...common,
                command: p.command,
                memory: p.memoryMb,
                labels: [{ label: "platform.role", value: p.name }, { label: "platform.release", value: args.tag }],
            }, { ...on, dependsOn: beforeApp, deleteBeforeReplace: false });
        }

        return new command.local.Command(`${name}-cutover`, {
            create: script("cutover"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, APP_CONTAINER: app.name,
                PROXY_CONTAINER, NETWORK, HEALTH_TIMEOUT: String(args.deployTimeoutSeconds),
                PROXY_SETTLE_SECONDS: String(2 * HEALTH_INTERVAL_SECONDS + 1),
            },
            // Runs for every new app container, i.e. for every release.
            triggers: [app.id],
        }, { parent, dependsOn: [app, proxyReload, network] });
    }
}
