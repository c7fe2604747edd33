import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";

/**
 * The certificate's name, derived from the names it covers. `domains` forces a new
 * certificate and the name is its id, unique per account
 * (digitalocean/certificate/resource_certificate.go): a replacement under the same name
 * would be refused while the old one still serves. A name that follows the domains lets
 * the new certificate be created, the balancer switched to it, and the old one deleted.
 */
export function certificateName(prefix: string, hostnames: string[]): string {
    const digest = crypto
        .createHash("sha256")
        .update([...hostnames].sort().join(","))
        .digest("hex")
        .slice(0, 8);
    return `${prefix}-cert-${digest}`;
}

/**
 * The project URN of a reserved IP. The projects API still lists reserved IPs as
 * `do:floatingip:<ip>`; the provider's own floating IP resource rewrites its URN to that
 * form for this reason (reservedip/resource_floating_ip.go, reservedIPURNtoFloatingIPURN).
 * With `do:reservedip:` the project's resources never match what the API reads back, and
 * the next update tries to move the address again.
 */
export function reservedIpProjectUrn(ip: string): string {
    return `do:floatingip:${ip}`;
}

export interface EdgeArgs {
    readonly prefix: string;
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /**
     * `load-balancer` (several servers) or `reserved-ip` (one server). Decided by the config
     * module from the server count, never inside an apply, so previews show it.
     */
    readonly kind: "load-balancer" | "reserved-ip";
    /** Droplet ids behind the edge; a reserved IP is assigned to the first. */
    readonly dropletIds: pulumi.Input<number>[];
    /** Role tag of the app servers; the load balancer balances over it. */
    readonly serverTag: pulumi.Input<string>;
    /** Names the certificate covers (load balancer only). @example ["app.example.com", "api.example.com"] */
    readonly hostnames: string[];
    /** Health path the load balancer probes through each server's proxy. @example "/api/v1/health" */
    readonly healthPath: string;
}

/**
 * The stack's public entry point.
 *
 * - Several servers: a regional load balancer that terminates TLS with a DigitalOcean-managed
 *   Let's Encrypt certificate and forwards plain HTTP over the VPC to each server's Caddy on
 *   port 80. TLS passthrough was rejected: every server's Caddy would race for the same ACME
 *   challenge through the balancer, which only one of them can answer.
 * - One server: a reserved IP, so DNS survives a server rebuild; Caddy does automatic HTTPS.
 */
export class Edge extends pulumi.ComponentResource {
    /** The public IPv4 address DNS points at. */
    readonly ip: pulumi.Output<string>;
    readonly loadBalancer?: digitalocean.LoadBalancer;
    readonly reservedIp?: digitalocean.ReservedIp;
    /** URN of the balancer or reserved IP, for the DigitalOcean project. */
    readonly resourceUrn: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:edge:Edge", name, {}, opts);
        if (args.kind === "load-balancer") {
            const cert = new digitalocean.Certificate(
                `${name}-cert`,
                {
                    name: certificateName(args.prefix, args.hostnames),
                    type: "lets_encrypt",
                    domains: args.hostnames,
                    // New certificate first (its name follows its hostnames): the balancer moves to
                    // it, then the old one, no longer in use, can go. Deleted first, DigitalOcean
                    // would refuse to delete a certificate the balancer still uses.
                },
                { parent: this, deleteBeforeReplace: false },
            );
            this.loadBalancer = new digitalocean.LoadBalancer(
                `${name}-lb`,
                {
                    name: `${args.prefix}-lb`,
                    region: args.region,
                    vpcUuid: args.vpcId,
                    sizeUnit: 1,
                    dropletTag: args.serverTag,
                    redirectHttpToHttps: true,
                    // With a Let's Encrypt certificate DigitalOcean otherwise writes A records for
                    // the certificate's names pointing at this balancer into the shared zone
                    // (loadbalancer/resource_loadbalancer.go, disable_lets_encrypt_dns_records);
                    // the program owns those records (infra/dns) and every stack shares the zone.
                    disableLetsEncryptDnsRecords: true,
                    enableBackendKeepalive: true,
                    httpIdleTimeoutSeconds: 60,
                    forwardingRules: [
                        {
                            entryProtocol: "https",
                            entryPort: 443,
                            targetProtocol: "http",
                            targetPort: 80,
                            certificateName: cert.name,
                        },
                        { entryProtocol: "http", entryPort: 80, targetProtocol: "http", targetPort: 80 },
                    ],
                    healthcheck: {
                        protocol: "http",
                        port: 80,
                        path: args.healthPath,
                        checkIntervalSeconds: 5,
                        responseTimeoutSeconds: 3,
                        healthyThreshold: 2,
                        unhealthyThreshold: 2,
                    },
                },
                { parent: this },
            );
            this.ip = this.loadBalancer.ip;
            this.resourceUrn = this.loadBalancer.loadBalancerUrn;
        } else {
            this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, { parent: this });
            new digitalocean.ReservedIpAssignment(
                `${name}-ip-assignment`,
                {
                    ipAddress: this.reservedIp.ipAddress,
                    dropletId: args.dropletIds[0],
                },
                { parent: this },
            );
            this.ip = this.reservedIp.ipAddress;
            this.resourceUrn = this.reservedIp.ipAddress.apply(reservedIpProjectUrn);
        }
        this.registerOutputs({ ip: this.ip });
    }
}
