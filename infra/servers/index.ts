import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { renderUserData } from "./userdata";

export { renderUserData, renderBootstrapScript, DEPLOY_USER } from "./userdata";

export interface ServersArgs {
    /** Resource name prefix, unique per stack. @example "platform-prod" */
    readonly prefix: string;
    /** Stack name; part of each server's tailnet hostname. @example "prod" */
    readonly stack: string;
    /** Number of droplets. @default 1 @example 2 */
    readonly count: number;
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
}

/** Stable server keys: `web-1` .. `web-N`. Scaling down removes the highest numbers. */
export function serverKeys(count: number): string[] {
    return Array.from({ length: count }, (_, i) => `web-${i + 1}`);
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
}

/**
 * The app droplets. User data only matters at first boot, so it, the image and the SSH keys
 * are ignored after creation: editing cloud-init or rotating a Tailscale key must never
 * replace a running server. To rebuild a server on purpose, see docs/runbooks.md
 * (`pulumi up --replace <urn>`).
 */
export class Servers extends pulumi.ComponentResource {
    readonly servers: Server[];
    readonly dropletIds: pulumi.Output<number>[];
    readonly dropletUrns: pulumi.Output<string>[];

    constructor(name: string, args: ServersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:servers:Servers", name, {}, opts);
        this.servers = serverKeys(args.count).map((key) => {
            const hostname = tailnetHostname(args.stack, key);
            const userData = pulumi.secret(pulumi.output(args.authKeys[key]).apply((authKey) =>
                renderUserData({ hostname, tags: args.tailscaleTags, sshMode: args.sshMode, authKey })));
            const droplet = new digitalocean.Droplet(`${name}-${key}`, {
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
            }, {
                parent: this,
                ignoreChanges: ["userData", "image", "sshKeys"],
            });
            return { key, droplet, tailnetHostname: hostname };
        });
        this.dropletIds = this.servers.map((s) => s.droplet.id.apply(Number));
        this.dropletUrns = this.servers.map((s) => s.droplet.dropletUrn);
        this.registerOutputs({ dropletIds: this.dropletIds });
    }
}
