import * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { shellJoin } from "../shell";
import { renderUserData, UserDataOptions } from "./userdata";

export { renderUserData, renderBootstrapScript, DEPLOY_USER } from "./userdata";

export interface ServersArgs {
    /** Resource name prefix, unique per stack. @example "platform-prod" */
    readonly prefix: string;
    /** Stack name; part of each server's tailnet hostname. @example "prod" */
    readonly stack: string;
    /**
     * Stable server keys in rollout order (`serverKeys(count)`), the same list the tailnet
     * keys are minted for. @example ["web-1", "web-2"]
     */
    readonly keys: string[];
    /** Droplet size slug (validated by the config module). @example "s-2vcpu-4gb" */
    readonly size: string;
    /** Image slug. @example "ubuntu-24-04-x64" */
    readonly image: string;
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /** Daily backups: +30% of the droplet price. On in staging and prod. @default false */
    readonly backups: boolean;
    readonly ipv6: boolean;
    /** DigitalOcean SSH key ids or fingerprints for root (break-glass; port 22 stays closed). */
    readonly sshKeys: string[];
    /** Tags on every droplet: the stack tag (billing, policy) and the role tag (firewalls, LB). */
    readonly tags: string[];
    readonly sshMode: "tailscale" | "openssh-tailnet";
    /** Tailnet ACL tags the servers advertise. @example ["tag:server"] */
    readonly tailscaleTags: string[];
    /** One-time auth key per server key (`web-1`, ...), as secrets. */
    readonly authKeys: Record<string, pulumi.Input<string>>;
    /** Runs the in-service wait (ssh over the tailnet). */
    readonly deployUser: string;
    /**
     * How to tell that a resized server serves again: curl arguments that reach its proxy's
     * health endpoint on the server itself, and how long to wait.
     */
    readonly inService: { probeArgs: string[]; timeoutSeconds: number };
}

/** Stable server keys: `web-1` .. `web-N`. Scaling down removes the highest numbers. */
export function serverKeys(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `web-${i + 1}`);
}

/** The in-service wait's script; a file so shellcheck reads exactly what runs. */
export function inServiceScript(): string {
    return fs.readFileSync(path.join(__dirname, "scripts", "wait-in-service.sh"), "utf8");
}

/** Everything but the auth key that goes into a server's user data or forces its replacement. */
export interface RebuildInputs extends Omit<UserDataOptions, "authKey"> {
    image: string;
    region: string;
    sshKeys: string[];
    /** The VPC's range: a new range is a new VPC, and a new VPC replaces every droplet in it. */
    vpcIpRange: string;
}

/**
 * A short fingerprint of what a server is built from. The server's tailnet auth key
 * carries it in its description (a field that forces a new key), so whatever replaces a
 * droplet (new image, region, SSH keys, VPC, or a new user data template after an upgrade
 * of this program) also mints the fresh single-use key the new droplet needs to join the
 * tailnet. The droplet's user data then holds the new key: a replaced droplet never boots
 * with the spent key of the one before it.
 */
export function rebuildFingerprint(r: RebuildInputs): string {
    const template = renderUserData({ hostname: r.hostname, tags: r.tags, sshMode: r.sshMode, authKey: "<auth-key>" });
    return crypto
        .createHash("sha256")
        .update(
            JSON.stringify({
                image: r.image,
                region: r.region,
                sshKeys: r.sshKeys,
                vpcIpRange: r.vpcIpRange,
                template,
            }),
        )
        .digest("hex")
        .slice(0, 10);
}

/**
 * curl arguments that reach a server's proxy on the server itself and ask for the health
 * endpoint: plain HTTP behind the load balancer, HTTPS for the site's own name when the
 * proxy terminates TLS (its port 80 only redirects).
 */
export function inServiceProbe(o: {
    edge: "load-balancer" | "reserved-ip";
    healthPath: string;
    host: string;
}): string[] {
    return o.edge === "load-balancer"
        ? [`http://127.0.0.1${o.healthPath}`]
        : ["--resolve", `${o.host}:443:127.0.0.1`, `https://${o.host}${o.healthPath}`];
}

/** The server whose service a rebuild of `key` must not interrupt: the previous one, or the next for the first. */
export function neighbour(keys: string[], key: string): string[] {
    const i = keys.indexOf(key);
    if (i > 0) return [keys[i - 1]];
    return keys.length > 1 ? [keys[1]] : [];
}

/** Tailnet hostname of a server: stable across rebuilds so deploy targets never change. */
export function tailnetHostname(stack: string, key: string): string {
    return `${stack}-${key}`;
}

export interface Server {
    key: string;
    droplet: digitalocean.Droplet;
    /** MagicDNS name on the tailnet; the deploy reaches Docker at ssh://deploy@<this>. */
    tailnetHostname: string;
    /** Done once this server serves again after a resize; the next server waits for it. */
    inService: command.local.Command;
}

/**
 * The app droplets.
 *
 * Nothing here is `ignoreChanges`: the engine substitutes the old state's value for an
 * ignored input even when it replaces the resource, so an ignored image or user data would
 * rebuild a server from the old image with the old, spent auth key. Instead the user data
 * only changes when a server is meant to be rebuilt: it is rendered from stable inputs and
 * the server's auth key, which stays the same in state (`recreateIfInvalid: "never"`) until
 * something that rebuilds the server changes (see `rebuildFingerprint`). To rebuild one
 * server on purpose, replace its auth key (docs/operations.md); the droplet follows.
 *
 * A size change powers a droplet off, resizes it and powers it on (the provider's update,
 * `resource_droplet.go`). Droplets are therefore chained: each waits until the one before
 * it serves again, so a resize never takes more than one server out at a time.
 */
export class Servers extends pulumi.ComponentResource {
    readonly servers: Server[];
    readonly dropletIds: pulumi.Output<number>[];
    readonly dropletUrns: pulumi.Output<string>[];
    /**
     * The droplets' tags, known once every droplet exists. DigitalOcean refuses a firewall,
     * load balancer or database firewall naming a tag that does not exist yet, and creating
     * a droplet is what creates its tags; everything that selects servers by tag reads the
     * tag from here, which orders it after the droplets on a first `up`.
     */
    readonly tags: pulumi.Output<string[]>;

    constructor(name: string, args: ServersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:servers:Servers", name, {}, opts);
        let previous: pulumi.Resource | undefined;
        this.servers = args.keys.map((key) => {
            const hostname = tailnetHostname(args.stack, key);
            const userData = pulumi.secret(
                pulumi
                    .output(args.authKeys[key])
                    .apply((authKey) =>
                        renderUserData({ hostname, tags: args.tailscaleTags, sshMode: args.sshMode, authKey }),
                    ),
            );
            const droplet = new digitalocean.Droplet(
                `${name}-${key}`,
                {
                    name: `${args.prefix}-${key}`,
                    region: args.region,
                    size: args.size,
                    image: args.image,
                    vpcUuid: args.vpcId,
                    monitoring: true,
                    backups: args.backups,
                    backupPolicy: args.backups ? { plan: "daily", hour: 4 } : undefined,
                    ipv6: args.ipv6,
                    sshKeys: args.sshKeys,
                    tags: args.tags,
                    userData,
                    // Resizing keeps the disk so a size change stays reversible.
                    resizeDisk: false,
                    gracefulShutdown: true,
                },
                {
                    parent: this,
                    dependsOn: previous ? [previous] : [],
                    // A replacement deletes the old droplet first: the new one joins the tailnet
                    // under the same hostname, which must be free, and the old one's containers
                    // are removed while it still answers.
                    deleteBeforeReplace: true,
                },
            );
            // After a resize (the step's update) or a rebuild (a new droplet: a new step),
            // waits until this server serves again before the next one is touched. The step
            // records the size it saw (its stdout), so an update for another reason returns at
            // once; a new server while no other one serves (a stack's first up) does too.
            const inService = new command.local.Command(
                `${name}-${key}-in-service`,
                {
                    create: inServiceScript(),
                    update: inServiceScript(),
                    interpreter: ["/bin/bash", "-c"],
                    environment: {
                        SIZE: args.size,
                        SERVER: hostname,
                        DEPLOY_USER: args.deployUser,
                        // The server a rebuild must keep serving: the previous one (or, for the
                        // first, the next). One neighbour, not all: the list stays the same when a
                        // stack grows, and staging and prod differ only in their counts.
                        OTHERS: neighbour(args.keys, key)
                            .map((k) => tailnetHostname(args.stack, k))
                            .join(" "),
                        PROBE_ARGS: shellJoin(args.inService.probeArgs),
                        TIMEOUT: String(args.inService.timeoutSeconds),
                    },
                    triggers: [droplet.id],
                },
                { parent: this, dependsOn: [droplet] },
            );
            previous = inService;
            return { key, droplet, tailnetHostname: hostname, inService };
        });
        this.dropletIds = this.servers.map((s) => s.droplet.id.apply(Number));
        this.dropletUrns = this.servers.map((s) => s.droplet.dropletUrn);
        this.tags = pulumi.all(this.servers.map((s) => s.droplet.tags)).apply(() => [...args.tags]);
        this.registerOutputs({ dropletIds: this.dropletIds });
    }
}
