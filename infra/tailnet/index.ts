import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";

export interface TailnetKeysArgs {
    /**
     * Stable keys of the servers that need a key, one key each.
     * @example ["web-1", "web-2"]
     */
    readonly servers: string[];
    /** ACL tags the servers join with; the key carries them, so the device is owned by the tags, not a person. @example ["tag:server"] */
    readonly tags: string[];
    /** Key lifetime in seconds. Only first boot uses the key, so an hour is plenty. @default 3600 */
    readonly expirySeconds: number;
    /** Description prefix shown in the Tailscale admin console. @example "platform-prod" */
    readonly prefix: string;
    /** Tailscale provider (API key from secret config). */
    readonly provider: pulumi.ProviderResource;
}

/**
 * One single-use, preauthorized, tagged auth key per server. A key is consumed at first
 * boot; after that it expires harmlessly. `recreateIfInvalid: "never"` keeps an expired
 * key from being re-minted on every `up`, which would churn the servers' user data.
 */
export class TailnetKeys extends pulumi.ComponentResource {
    /** Auth key per server key, as secrets. */
    readonly keys: Record<string, pulumi.Output<string>> = {};
    readonly resources: Record<string, tailscale.TailnetKey> = {};

    constructor(name: string, args: TailnetKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:tailnet:TailnetKeys", name, {}, opts);
        for (const server of args.servers) {
            const key = new tailscale.TailnetKey(`${name}-${server}`, {
                description: `${args.prefix}-${server} first boot`,
                reusable: false,
                ephemeral: false,
                preauthorized: true,
                tags: args.tags,
                expiry: args.expirySeconds,
                recreateIfInvalid: "never",
            }, { parent: this, provider: args.provider, additionalSecretOutputs: ["key"] });
            this.resources[server] = key;
            this.keys[server] = pulumi.secret(key.key);
        }
        this.registerOutputs({});
    }
}
