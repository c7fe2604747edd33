import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

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
    readonly serverTag: string;
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
            const cert = new digitalocean.Certificate(`${name}-cert`, {
                name: `${args.prefix}-cert`,
                type: "lets_encrypt",
                domains: args.hostnames,
            }, { parent: this });
            this.loadBalancer = new digitalocean.LoadBalancer(`${name}-lb`, {
                name: `${args.prefix}-lb`,
                region: args.region,
                vpcUuid: args.vpcId,
                sizeUnit: 1,
                dropletTag: args.serverTag,
                redirectHttpToHttps: true,
                enableBackendKeepalive: true,
                httpIdleTimeoutSeconds: 60,
                forwardingRules: [
                    { entryProtocol: "https", entryPort: 443, targetProtocol: "http", targetPort: 80, certificateName: cert.name },
                    { entryProtocol: "http", entryPort: 80, targetProtocol: "http", targetPort: 80 },
                ],
                healthcheck: {
                    protocol: "http", port: 80, path: args.healthPath,
                    checkIntervalSeconds: 5, responseTimeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2,
                },
            }, { parent: this });
            this.ip = this.loadBalancer.ip;
            this.resourceUrn = this.loadBalancer.loadBalancerUrn;
        } else {
            this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, { parent: this });
            new digitalocean.ReservedIpAssignment(`${name}-ip-assignment`, {
                ipAddress: this.reservedIp.ipAddress,
                dropletId: args.dropletIds[0],
            }, { parent: this });
            this.ip = this.reservedIp.ipAddress;
            this.resourceUrn = this.reservedIp.reservedIpUrn;
        }
        this.registerOutputs({ ip: this.ip });
    }
}
