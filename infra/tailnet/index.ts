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
    /**
     * Per server key, a fingerprint of what the server is built from (`rebuildFingerprint`).
     * It is part of the key's description, which forces a new key when it changes, so a
     * server that is replaced always gets a fresh key with it.
     */
    readonly fingerprints: Record<string, string>;
    /** Tailscale provider (API key from secret config). */
    readonly provider: pulumi.ProviderResource;
}

/** The Tailscale API refuses a key description over 50 characters (resource_tailnet_key.go: LengthAtMost(50)). */
export const MAX_KEY_DESCRIPTION = 50;

/** `<prefix>-<server> <fingerprint>`, the prefix shortened so the whole fits the API's limit. */
export function keyDescription(prefix: string, server: string, fingerprint: string): string {
    const tail = `-${server} ${fingerprint}`;
    return `${prefix.slice(0, Math.max(0, MAX_KEY_DESCRIPTION - tail.length))}${tail}`;
}

/**
 * One single-use, preauthorized, tagged auth key per server. A key is consumed at first
 * boot; after that it expires harmlessly and stays in state: `recreateIfInvalid: "never"`
 * keeps a spent or expired key from being re-minted on refresh, which would change the
 * server's user data and so replace the server (tailscale/resource_tailnet_key.go,
 * shouldRecreateIfInvalid). A key is replaced exactly when its server is (the fingerprint
 * in its description), or on purpose with `--replace` to rebuild that server.
 */
export class TailnetKeys extends pulumi.ComponentResource {
    /** Auth key per server key, as secrets. */
    readonly keys: Record<string, pulumi.Output<string>> = {};
    readonly resources: Record<string, tailscale.TailnetKey> = {};

    constructor(name: string, args: TailnetKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:tailnet:TailnetKeys", name, {}, opts);
        for (const server of args.servers) {
            const key = new tailscale.TailnetKey(
                `${name}-${server}`,
                {
                    description: keyDescription(args.prefix, server, args.fingerprints[server]),
                    reusable: false,
                    ephemeral: false,
                    preauthorized: true,
                    tags: args.tags,
                    expiry: args.expirySeconds,
                    recreateIfInvalid: "never",
                },
                {
                    parent: this,
                    provider: args.provider,
                    additionalSecretOutputs: ["key"],
                    // The expiry forces a new key (RequiresReplace) and a new key a new server;
                    // only a first boot reads it. The engine keeps an ignored input's old value on
                    // replacement too, so a new lifetime applies only to servers added later, not to
                    // a rebuilt one (its fresh key keeps the lifetime it was first minted with).
                    ignoreChanges: ["expiry"],
                },
            );
            this.resources[server] = key;
            this.keys[server] = pulumi.secret(key.key);
        }
        this.registerOutputs({});
    }
}
