/** The app servers (droplets) and the edge their count implies. */
import { DROPLET_SIZES, IMAGES } from "../catalog";
import { ParseContext, q, Reader } from "../reader";
import { STACK_TIERS } from "../schema";
import { fail, isSshKeyRef, oneOf } from "../validate";

export const SSH_MODES = ["tailscale", "openssh-tailnet"] as const;

export interface ServerSettings {
    count: number;
    size: string;
    image: string;
    backups: boolean;
    ipv6: boolean;
    sshKeys: string[];
    sshMode: (typeof SSH_MODES)[number];
}

/** `load-balancer` with several servers, `reserved-ip` with one. */
export type EdgeKind = "load-balancer" | "reserved-ip";

export function parseServers(r: Reader, ctx: ParseContext): ServerSettings {
    const servers = {
        count: r.int("serverCount", 1, 10),
        size: oneOf(q("serverSize"), r.str("serverSize"), DROPLET_SIZES, "a droplet size slug"),
        image: oneOf(q("serverImage"), r.str("serverImage"), IMAGES, "a current apt-based image slug"),
        backups: r.bool("serverBackups"),
        ipv6: r.bool("ipv6"),
        sshKeys: r.strings("sshKeys", {
            min: 1,
            each: isSshKeyRef,
            what: "a DigitalOcean SSH key id or MD5 fingerprint (aa:bb:...)",
        }),
        sshMode: oneOf(q("sshMode"), r.str("sshMode"), SSH_MODES, "an SSH mode") as ServerSettings["sshMode"],
    };
    if (STACK_TIERS[ctx.stack].backups && !servers.backups) {
        fail(q("serverBackups"), false, `expected true in ${ctx.stack}: staging and prod servers keep backups`);
    }
    return servers;
}

/** One server gets a reserved IP; several need a load balancer in front. */
export function edgeKind(serverCount: number): EdgeKind {
    return serverCount > 1 ? "load-balancer" : "reserved-ip";
}
