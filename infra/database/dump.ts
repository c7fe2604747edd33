import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface DumpBucketArgs {
    /** Bucket name, globally unique. @example "acme-shop-db-dumps" */
    readonly bucket: string;
    /** Region with Spaces. @example "nyc3" */
    readonly region: string;
    /** Days a dump is kept before the bucket's lifecycle rule deletes it. @example 14 */
    readonly retentionDays: number;
    /** Spaces keys: the provider manages the bucket with them, the deploy uploads with them. */
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretKey: pulumi.Input<string>;
    /** Keep the bucket (and its dumps) if it ever leaves the program. */
    readonly protect: boolean;
}

/** The Spaces endpoint of a region, the one form used everywhere (README, workflows). */
export function spacesEndpoint(region: string): string {
    return `https://${region}.digitaloceanspaces.com`;
}

/**
 * The private Spaces bucket the migration step dumps the database into before each
 * migration (`dbDump`). Retention is the bucket's lifecycle rule, so old dumps go away
 * without a job of ours. The bucket's name and region force a new bucket
 * (digitalocean/spaces/resource_spaces_bucket.go), which would leave the old dumps behind:
 * the replacement guard refuses it, and `protect` follows `protectData`.
 */
export class DumpBucket extends pulumi.ComponentResource {
    readonly bucket: digitalocean.SpacesBucket;
    readonly endpoint: string;

    constructor(name: string, args: DumpBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:database:DumpBucket", name, {}, opts);
        // Spaces uses its own keys, not the API token: a provider of its own carries them.
        const provider = new digitalocean.Provider(
            `${name}-spaces`,
            {
                spacesAccessId: args.accessKeyId,
                spacesSecretKey: args.secretKey,
            },
            { parent: this },
        );
        this.bucket = new digitalocean.SpacesBucket(
            `${name}-bucket`,
            {
                name: args.bucket,
                region: args.region,
                acl: "private",
                lifecycleRules: [{ enabled: true, expiration: { days: args.retentionDays } }],
            },
            { parent: this, provider, protect: args.protect, retainOnDelete: args.protect },
        );
        this.endpoint = spacesEndpoint(args.region);
        this.registerOutputs({});
    }
}
