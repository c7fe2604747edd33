import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface NetworkArgs {
    /**
     * Resource name prefix, unique per stack.
     * @example "platform-staging"
     */
    readonly prefix: string;
    /** DigitalOcean region slug. @example "nyc3" */
    readonly region: string;
    /**
     * Private range of the VPC. Must not overlap another VPC of the account: DigitalOcean
     * refuses overlapping ranges, and peering later needs them disjoint.
     * @example "10.20.0.0/20"
     */
    readonly ipRange: string;
}

/**
 * The VPC's name, derived from what forces a new VPC (`ip_range`, `region`:
 * digitalocean/vpc/resource_vpc.go). Names are unique per account, so a replacement under
 * the old name would be refused while the old VPC still exists; the name itself changes
 * in place.
 * @example vpcName("platform-prod", "nyc3", "10.30.0.0/20") === "platform-prod-nyc3-10-30-0-0-20"
 */
export function vpcName(prefix: string, region: string, ipRange: string): string {
    return `${prefix}-${region}-${ipRange.replace(/[./]/g, "-")}`;
}

/** The stack's VPC: servers, load balancer and database talk over it, never over the internet. */
export class Network extends pulumi.ComponentResource {
    readonly vpc: digitalocean.Vpc;
    readonly vpcId: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:network:Network", name, {}, opts);
        // Changing the range or region replaces the VPC, and every droplet and the database
        // cluster with it (their vpc ids force replacement). The replacement guard refuses it.
        this.vpc = new digitalocean.Vpc(
            `${name}-vpc`,
            {
                name: vpcName(args.prefix, args.region, args.ipRange),
                region: args.region,
                ipRange: args.ipRange,
                description: `Private network of ${args.prefix}`,
                // The name follows the range, so a new VPC is made before the old one is deleted
                // (a VPC with members cannot be deleted first; the guard refuses this anyway).
            },
            { parent: this, deleteBeforeReplace: false },
        );
        this.vpcId = this.vpc.id;
        this.registerOutputs({ vpcId: this.vpcId });
    }
}
