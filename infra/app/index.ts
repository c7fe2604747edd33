import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ProcessSpec, SmokeRequest } from "../config";
import { shellJoin } from "../shell";
import { BOOTSTRAP_PROXY_CONFIG, caddyConfig, ProxyMode, VERIFY_LISTEN } from "./caddy";
import { dockerHealthcheck, imageRef, LOG_OPTS } from "./container";

export { caddyConfig } from "./caddy";
export { dockerHealthcheck, imageRef, plainEnv } from "./container";

export type ScriptName = "wait-for-server" | "migrate" | "cutover" | "proxy-config" | "workers-check";

/**
 * Shell scripts the deploy runs; kept as files so shellcheck and the Docker lab read exactly
 * what runs. A `source ... # platform:include` line is replaced by scripts/lib.sh, because a
 * command runs as `bash -c <text>`, with no file next to it to source.
 */
export function script(name: ScriptName): string {
    const read = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");
    return read(`${name}.sh`).replace(/^source .*# platform:include.*$/m, () => read("lib.sh"));
}

/** Docker network the proxy and app containers share; app containers publish no host ports. */
export const NETWORK = "platform";

/**
 * The network's name on a droplet: per droplet id, because the network is replaced
 * create-before-delete when the id changes (see DROPLET_LABEL), and Docker refuses a second
 * network of the same name on a host; on the first `up` with these labels the old and the
 * new network briefly coexist on the same server.
 */
export function networkName(dropletId: string): string {
    return `${NETWORK}-${dropletId}`;
}
export const PROXY_CONTAINER = "edge-proxy";
/** One probe's timeout (s): a health or smoke answer slower than this does not count. */
export const PROBE_TIMEOUT_SECONDS = 2;
/** How long the cut-over watches the new release through the proxy after the switch (s). */
export const VERIFY_SECONDS = 10;
/** How long a workers' new containers must stay up without a restart (s). */
export const WORKER_STABLE_SECONDS = 15;

/** The `path=status` words the on-server scripts read (SMOKE). */
export function smokeWords(requests: SmokeRequest[]): string {
    return requests.map((r) => `${r.path}=${r.status}`).join(" ");
}

/**
 * The label every docker resource of a server carries: the droplet's id. Labels force a
 * new resource in the docker provider (kreuzwerker/terraform-provider-docker:
 * internal/provider/resource_docker_network.go, resource_docker_volume.go and
 * resource_docker_container.go declare `labels` ForceNew; resource_docker_image.go declares
 * `triggers` ForceNew), so a rebuilt droplet, whose new id changes this value, gets every
 * network, volume, image and container created on it. Without it the state kept listing
 * the old droplet's resources and nothing was created on the new one (the `ssh://` host
 * string stays the same).
 */
export const DROPLET_LABEL = "platform.droplet-id";

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
    /** Pinned image with psql and pg_dump; the migration step reads the database's clock with it (the restore point). */
    readonly dbClientImage: string;
    /**
     * A logical dump uploaded before each migration (`dbDump`): the bucket's URL
     * (`https://<region>.digitaloceanspaces.com/<bucket>`), its region, the object name
     * prefix and the Spaces keys (secret).
     */
    readonly dump?: { url: pulumi.Input<string>; region: string; prefix: string; accessKeyId: pulumi.Input<string>; secretKey: pulumi.Input<string> };
    /** Extra containers from the same image (workers), not proxied. */
    readonly processes: ProcessSpec[];
    /**
     * An optional Docker healthcheck run inside the app container (`command`: argv, e.g.
     * ["/app/healthcheck"]); empty: none. The deploy never depends on it: the cut-over
     * probes `healthPath` from the proxy's network, which works for any image.
     */
    readonly healthcheck: { command: string[]; intervalSeconds: number; retries: number };
    /** Requests every release must answer (path and status), before traffic and after the switch. @default [] */
    readonly smokeRequests: SmokeRequest[];
    /** How long a new app container may take to answer healthPath from the proxy's network. @default 180 */
    readonly deployTimeoutSeconds: number;
    /** How long a fresh server may take to boot. @default 900 */
    readonly bootTimeoutSeconds: number;
}

/** The migration step's environment for the dump, or nothing when dumps are off. */
function dumpEnv(dump: AppArgs["dump"]): pulumi.Output<{ [k: string]: string }> {
    if (!dump) return pulumi.output({} as { [k: string]: string });
    return pulumi.all([dump.url, dump.accessKeyId, dump.secretKey]).apply(([url, id, key]): { [k: string]: string } => ({
        DUMP_URL: url, DUMP_REGION: dump.region, DUMP_PREFIX: dump.prefix, AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: key,
    }));
}

/**
 * The app on every server: a Caddy edge proxy, the app container behind it, worker
 * processes, and a migration run per release.
 *
 * A release is `repository@sha256:...`. Changing it replaces the app container
 * create-before-delete: the new container (auto-named, so both can exist) starts on the
 * proxy's network; new workers must stay up (scripts/workers-check.sh); then
 * scripts/cutover.sh, under a per-host lock, probes it from the proxy's network (health and
 * smoke requests), switches the proxy to prefer it with the old one as fallback, and
 * verifies through the proxy that it answers. Only then does Pulumi stop the old container.
 * Any failure leaves (or puts back) the old release serving and fails the update with the
 * reason. With several servers the rollout is sequential: each server waits for the
 * previous server's cut-over.
 */
export class App extends pulumi.ComponentResource {
    /** The digest every server runs: the release record. */
    readonly digest: pulumi.Output<string>;
    /** `repository@digest`. */
    readonly image: pulumi.Output<string>;
    /**
     * What the release's migration step printed (its restore point line among it), or
     * undefined when the stack runs no migrations. Not secret: the step prints no secret.
     */
    readonly migrationOutput: pulumi.Output<string | undefined>;

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
        let previousProxy: pulumi.Resource[] = [];
        let migrationOutput: pulumi.Output<string | undefined> = pulumi.output(undefined);
        args.servers.forEach((server, i) => {
            const done = this.deployServer(`${name}-${server.key}`, server, args, proxyImage, previous, previousProxy, i === 0);
            if (done.migrate) migrationOutput = pulumi.unsecret(done.migrate.stdout);
            previous = [done.cutover];
            // The next proxy is touched only once this server serves: its proxy answers again
            // (an upgrade) and its release is cut over (a first deploy or a rebuilt server,
            // where the new proxy has no release until the cut-over).
            previousProxy = [done.proxyReady, done.cutover];
        });
        this.migrationOutput = migrationOutput;
        this.registerOutputs({ digest: this.digest, image: this.image });
    }

    /** Everything on one server; returns its cut-over and its serving proxy, which the next server waits for. */
    private deployServer(
        name: string, server: AppServer, args: AppArgs, proxyImage: pulumi.Output<string>,
        previous: pulumi.Resource[], previousProxy: pulumi.Resource[], runMigrations: boolean,
    ): { cutover: pulumi.Resource; proxyReady: pulumi.Resource; migrate?: command.local.Command } {
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

        // Every docker resource of this server is tied to its droplet (see DROPLET_LABEL).
        const dropletId = pulumi.output(server.dropletId).apply(String);
        const labels = (role: string, extra: { label: string; value: pulumi.Input<string> }[] = []) =>
            [{ label: DROPLET_LABEL, value: dropletId }, { label: "platform.role", value: role }, ...extra];

        const network = new docker.Network(`${name}-network`, { name: dropletId.apply(networkName), driver: "bridge", labels: labels("network") }, on);
        const image = new docker.RemoteImage(`${name}-image`, { name: this.image, keepLocally: true, triggers: { dropletId } }, on);

        // The proxy owns the host's ports 80/443, so a replacement deletes first. It is
        // replaced exactly when its image changes (a deliberate upgrade) or its droplet does:
        // every input is current (no ignoreChanges: the engine would substitute the OLD image
        // on replacement too). Its uploaded file is a constant bootstrap; the real config and
        // the live upstreams come back from its retained /config volume (`--resume`) and
        // scripts/proxy-config.sh, so a routine deploy or a domain change never touches it.
        // Proxies are upgraded one server at a time: each waits for the previous server's
        // proxy to serve again (see `previousProxy`).
        const proxyPull = new docker.RemoteImage(`${name}-proxy-image`, { name: proxyImage, keepLocally: true, triggers: { dropletId } }, on);
        const proxyData = new docker.Volume(`${name}-proxy-data`, { name: "edge-proxy-data", labels: labels("proxy-data") }, { ...on, retainOnDelete: true });
        const proxyConfigVolume = new docker.Volume(`${name}-proxy-config`, { name: "edge-proxy-config", labels: labels("proxy-config") }, { ...on, retainOnDelete: true });
        const proxyConfig = JSON.stringify(caddyConfig({ mode: args.proxyMode }));
        const proxy = new docker.Container(`${name}-proxy`, {
            name: PROXY_CONTAINER,
            image: proxyImage,
            command: ["caddy", "run", "--resume", "--config", "/etc/caddy/caddy.json"],
            uploads: [{ file: "/etc/caddy/caddy.json", content: BOOTSTRAP_PROXY_CONFIG }],
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
            labels: labels("proxy"),
        }, { ...on, dependsOn: [proxyPull, ...previousProxy], deleteBeforeReplace: true });
        const probe = { HEALTH_PATH: args.healthPath, PROBE_TIMEOUT: String(PROBE_TIMEOUT_SECONDS), VERIFY_URL: `http://${VERIFY_LISTEN}` };
        // Loads the config with the recorded upstreams and checks the proxy serves: after a
        // config change, and after every new proxy container (an upgrade, a rebuilt droplet).
        const proxyReload = new command.local.Command(`${name}-proxy-config`, {
            create: script("proxy-config"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, PROXY_CONTAINER, PROXY_CONFIG: proxyConfig,
                READY_TIMEOUT: "120", ...probe,
            },
            triggers: [proxyConfig, proxy.id],
        }, { parent, dependsOn: [proxy] });

        const beforeApp: pulumi.Resource[] = [image, ...previous];
        let migrate: command.local.Command | undefined;
        if (runMigrations && args.migrationCommand.length > 0) {
            migrate = new command.local.Command(`${name}-migrate`, {
                create: script("migrate"),
                interpreter: ["/bin/bash", "-c"],
                environment: pulumi.secret(pulumi.all([this.image, args.migrationDatabaseUrl, dumpEnv(args.dump)]).apply(([img, url, dump]) => ({
                    DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, IMAGE: img,
                    DATABASE_URL: url, MIGRATE_ARGS: shellJoin(args.migrationCommand), PG_CLIENT_IMAGE: args.dbClientImage,
                    ...dump,
                }))),
                // Runs again exactly when the release changes.
                triggers: [this.image],
            }, { parent, dependsOn: [image, ...previous] });
            beforeApp.push(migrate);
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
        const release = { label: "platform.release", value: args.tag };
        const healthcheck = dockerHealthcheck(args.healthcheck.command, args.healthcheck.intervalSeconds, args.healthcheck.retries);
        const app = new docker.Container(`${name}-app`, {
            ...common,
            memory: args.memoryMb,
            labels: labels("app", [release]),
            // On the proxy's network from the start, under its own (auto) name: the proxy only
            // routes to it once the cut-over switches its upstream to it.
            networksAdvanced: [{ name: network.name }],
            ...(healthcheck ? { healthcheck } : {}),
            // The provider's `wait` polls Docker's health status, which exists only with a
            // healthcheck; without one the cut-over's probes are the gate.
            wait: healthcheck !== undefined,
            waitTimeout: args.deployTimeoutSeconds,
        }, { ...on, dependsOn: beforeApp, deleteBeforeReplace: false });

        const workers = args.processes.map((p) => new docker.Container(`${name}-${p.name}`, {
            ...common,
            command: p.command,
            memory: p.memoryMb,
            labels: labels(p.name, [release]),
        }, { ...on, dependsOn: beforeApp, deleteBeforeReplace: false }));
        const gates: pulumi.Resource[] = [app, proxyReload, network];
        if (workers.length > 0) {
            // A crash-looping worker fails the deploy before any traffic moves.
            gates.push(new command.local.Command(`${name}-workers-check`, {
                create: script("workers-check"),
                interpreter: ["/bin/bash", "-c"],
                environment: {
                    DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname,
                    WORKERS: pulumi.all(workers.map((w) => w.name)).apply((names) => names.join(" ")),
                    STABLE_SECONDS: String(WORKER_STABLE_SECONDS),
                },
                triggers: workers.map((w) => w.id),
            }, { parent, dependsOn: workers }));
        }

        const cutover = new command.local.Command(`${name}-cutover`, {
            create: script("cutover"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                DOCKER_HOST: dockerHost, SERVER: server.tailnetHostname, APP_CONTAINER: app.name, APP_PORT: String(args.port),
                PROXY_CONTAINER, NETWORK: network.name, PROXY_CONFIG: proxyConfig, HEALTH_TIMEOUT: String(args.deployTimeoutSeconds),
                VERIFY_SECONDS: String(VERIFY_SECONDS), LOCK_TIMEOUT: String(args.deployTimeoutSeconds + 120),
                SMOKE: smokeWords(args.smokeRequests), ...probe,
            },
            // Runs for every new app container, i.e. for every release.
            triggers: [app.id],
        }, { parent, dependsOn: gates });
        return { cutover, proxyReady: proxyReload, migrate };
    }
}
