/**
 * The cloud firewall's rule sets as pure data, so the "nothing but 80/443 inbound, never 22
 * from the internet" promise can be checked without the provider.
 */
import type * as digitalocean from "@pulumi/digitalocean";
import type * as pulumi from "@pulumi/pulumi";

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

export interface RuleOptions {
    /** With a load balancer, web traffic may come only from it. */
    loadBalancerUid?: pulumi.Input<string>;
    /** The stack's VPC range: Postgres lives there. */
    vpcIpRange: string;
}

export function inboundRules(o: RuleOptions): digitalocean.types.input.FirewallInboundRule[] {
    if (o.loadBalancerUid !== undefined) {
        // The load balancer terminates TLS and speaks HTTP to the proxy on port 80.
        return [{ protocol: "tcp", portRange: "80", sourceLoadBalancerUids: [o.loadBalancerUid] }];
    }
    return [
        { protocol: "tcp", portRange: "80", sourceAddresses: ANYWHERE },
        { protocol: "tcp", portRange: "443", sourceAddresses: ANYWHERE },
    ];
}

/**
 * Outbound: DNS, NTP, HTTP(S) for apt, registry pulls, ACME and the Tailscale control plane,
 * Tailscale's WireGuard and STUN ports for direct tailnet paths, and Postgres inside the VPC.
 */
export function outboundRules(o: RuleOptions): digitalocean.types.input.FirewallOutboundRule[] {
    return [
        { protocol: "udp", portRange: "53", destinationAddresses: ANYWHERE },
        { protocol: "tcp", portRange: "53", destinationAddresses: ANYWHERE },
        { protocol: "udp", portRange: "123", destinationAddresses: ANYWHERE },
        { protocol: "tcp", portRange: "80", destinationAddresses: ANYWHERE },
        { protocol: "tcp", portRange: "443", destinationAddresses: ANYWHERE },
        { protocol: "udp", portRange: "41641", destinationAddresses: ANYWHERE },
        { protocol: "udp", portRange: "3478", destinationAddresses: ANYWHERE },
        { protocol: "tcp", portRange: "25060-25061", destinationAddresses: [o.vpcIpRange] },
        { protocol: "icmp", destinationAddresses: ANYWHERE },
    ];
}
