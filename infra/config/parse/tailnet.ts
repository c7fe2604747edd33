/** The tailnet the servers join (their only SSH path). */
import { q, Reader } from "../reader";
import { fail, isTailnetName, isTailscaleTag } from "../validate";

export interface TailnetSettings {
    tailnet: string;
    tags: string[];
    keyExpirySeconds: number;
}

export function parseTailnet(r: Reader): TailnetSettings {
    const tailnet = r.nonEmpty("tailnet");
    if (!isTailnetName(tailnet))
        fail(q("tailnet"), tailnet, "expected `-` or a tailnet name such as example.com or tail1234.ts.net");
    return {
        tailnet,
        tags: r.strings("tailscaleTags", { min: 1, each: isTailscaleTag, what: "a Tailscale tag like tag:server" }),
        keyExpirySeconds: r.int("tailscaleKeyExpirySeconds", 300, 90 * 24 * 3600),
    };
}
