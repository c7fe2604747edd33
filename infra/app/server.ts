/**
 * One server's shared part of the app: the wait for the server, its Docker provider and
 * network, and the edge proxy that routes every service's traffic.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_PROXY_CONFIG } from "./caddy";
import { LOG_OPTS } from "./container";
import { DROPLET_LABEL, networkName, PROXY_CONTAINER, script } from "./scripts";

export interface AppServer {
    /** Stable key. @example "web-1" */
    key: string;
    /** Tailnet MagicDNS name; Docker is reached at ssh://deploy@<it>. @example "prod-web-1" */
    tailnetHostname: string;
    /** The droplet id: a rebuilt droplet re-runs the readiness wait. */
    dropletId: pulumi.Input<number>;
}

export type Labels = (
    role: string,
    extra?: { label: string; value: pulumi.Input<string> }[],
) => { label: string; value: pulumi.Input<string> }[];

/** What every step on one server shares. */
export interface OnServer {
    /** `<app>-<server key>`: the prefix of the server's resource names. */
    name: string;
    server: AppServer;
    /** The droplet id as docker labels and image triggers take it (see DROPLET_LABEL). */
    dropletId: pulumi.Output<string>;
    /** `ssh://deploy@<tailnet name>`. */
    dockerHost: string;
    parent: pulumi.Resource;
    provider: docker.Provider;
    network: docker.Network;
    /** Labels of a docker resource of this server: its droplet id and its role. */
    labels: Labels;
}

/** The readiness wait, the server's Docker provider and its network. */
export function onServer(
    name: string,
    server: AppServer,
    o: { deployUser: string; bootTimeoutSeconds: number; registry?: docker.types.input.ProviderRegistryAuth },
    parent: pulumi.Resource,
): OnServer {
    const dockerHost = `ssh://${o.deployUser}@${server.tailnetHostname}`;
    const ready = new command.local.Command(
        `${name}-ready`,
        {
            create: script("wait-for-server"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                SERVER: server.tailnetHostname,
                DEPLOY_USER: o.deployUser,
                BOOT_TIMEOUT: String(o.bootTimeoutSeconds),
            },
            triggers: [server.dropletId],
        },
        { parent },
    );

    const provider = new docker.Provider(
        `${name}-docker`,
        {
            host: dockerHost,
            // The daemon is contacted when a resource needs it, not when the provider is
            // configured: a first preview of a new stack plans containers for servers that
            // do not exist yet.
            disableDockerDaemonCheck: true,
            sshOpts: ["-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=15"],
            registryAuth: o.registry ? [o.registry] : [],
        },
        { parent, dependsOn: [ready] },
    );

    // Every docker resource of this server is tied to its droplet (see DROPLET_LABEL).
    const dropletId = pulumi.output(server.dropletId).apply(String);
    const labels: Labels = (role, extra = []) => [
        { label: DROPLET_LABEL, value: dropletId },
        { label: "platform.role", value: role },
        ...extra,
    ];
    const network = new docker.Network(
        `${name}-network`,
        { name: dropletId.apply(networkName), driver: "bridge", labels: labels("network") },
        { parent, provider },
    );
    return { name, server, dropletId, dockerHost, parent, provider, network, labels };
}

/**
 * The edge proxy. It owns the host's ports 80/443, so a replacement deletes first. It is
 * replaced exactly when its image changes (a deliberate upgrade) or its droplet does: every
 * input is current (no ignoreChanges: the engine would substitute the OLD image on
 * replacement too). Its uploaded file is a constant bootstrap; the real config and the live
 * upstreams come back from its retained /config volume (`--resume`) and
 * scripts/proxy-config.sh, so a routine deploy or a domain change never touches it. Proxies
 * are upgraded one server at a time: each waits for the previous server's proxy to serve
 * again (`previousProxy`). Returns the step that loads its config and checks it serves.
 */
export function edgeProxy(
    s: OnServer,
    o: { proxyImage: pulumi.Output<string>; proxyConfig: string; checks: string; probeTimeoutSeconds: number },
    previousProxy: pulumi.Resource[],
): command.local.Command {
    const on = { parent: s.parent, provider: s.provider };
    const proxyPull = new docker.RemoteImage(
        `${s.name}-proxy-image`,
        { name: o.proxyImage, keepLocally: true, triggers: { dropletId: s.dropletId } },
        on,
    );
    const proxyData = new docker.Volume(
        `${s.name}-proxy-data`,
        { name: "edge-proxy-data", labels: s.labels("proxy-data") },
        { ...on, retainOnDelete: true },
    );
    const proxyConfigVolume = new docker.Volume(
        `${s.name}-proxy-config`,
        { name: "edge-proxy-config", labels: s.labels("proxy-config") },
        { ...on, retainOnDelete: true },
    );
    const proxy = new docker.Container(
        `${s.name}-proxy`,
        {
            name: PROXY_CONTAINER,
            image: o.proxyImage,
            command: ["caddy", "run", "--resume", "--config", "/etc/caddy/caddy.json"],
            uploads: [{ file: "/etc/caddy/caddy.json", content: BOOTSTRAP_PROXY_CONFIG }],
            ports: [
                { internal: 80, external: 80 },
                { internal: 443, external: 443 },
            ],
            volumes: [
                { volumeName: proxyData.name, containerPath: "/data" },
                { volumeName: proxyConfigVolume.name, containerPath: "/config" },
            ],
            networksAdvanced: [{ name: s.network.name }],
            restart: "unless-stopped",
            memory: 256,
            logDriver: "json-file",
            logOpts: { ...LOG_OPTS },
            labels: s.labels("proxy"),
        },
        { ...on, dependsOn: [proxyPull, ...previousProxy], deleteBeforeReplace: true },
    );
    // Loads the config with the recorded upstreams and checks the proxy serves: after a
    // config change, and after every new proxy container (an upgrade, a rebuilt droplet).
    return new command.local.Command(
        `${s.name}-proxy-config`,
        {
            create: script("proxy-config"),
            interpreter: ["/bin/bash", "-c"],
            environment: {
                DOCKER_HOST: s.dockerHost,
                SERVER: s.server.tailnetHostname,
                PROXY_CONTAINER,
                PROXY_CONFIG: o.proxyConfig,
                READY_TIMEOUT: "120",
                PROBE_TIMEOUT: String(o.probeTimeoutSeconds),
                CHECKS: o.checks,
            },
            triggers: [o.proxyConfig, proxy.id],
        },
        { parent: s.parent, dependsOn: [proxy] },
    );
}
