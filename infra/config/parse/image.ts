/** The app image a service deploys: repository, tag, and the digest pinned for that tag. */
import { ParseContext, q, Reader } from "../reader";
import { ConfigError, fail, isDigest, isImagePin, isImageRepository, isImageTag, show } from "../validate";

export interface ImageSettings { repository: string; tag: string; digest: string; pin: string }

export function parseImage(r: Reader, ctx: ParseContext): ImageSettings {
    const repository = r.nonEmpty("imageRepository");
    if (!isImageRepository(repository)) fail(q("imageRepository"), repository, "expected a lowercase repository with its registry and no tag, e.g. ghcr.io/acme/shop");
    const tag = r.nonEmpty("imageTag");
    if (!isImageTag(tag)) fail(q("imageTag"), tag, "expected a Docker tag: letters, digits, _ . - (at most 128, e.g. 1.4.2 or a git SHA)");
    const digest = r.str("imageDigest");
    if (digest !== "" && !isDigest(digest)) fail(q("imageDigest"), digest, "expected sha256: followed by 64 lowercase hex digits, or nothing");
    const pin = r.str("imagePin");
    if (pin !== "" && !isImagePin(pin)) fail(q("imagePin"), pin, "expected <imageTag>@sha256:<64 hex>, as npm run pin writes it, or nothing");
    checkDigestPin(tag, digest, pin, ctx.stack);
    return { repository, tag, digest, pin };
}

/**
 * A digest pinned for one tag must not silently deploy under another. `npm run pin`,
 * promote and rollback record the pair they pinned (imagePin = tag@digest). When imageDigest
 * is still the recorded digest but imageTag is not the recorded tag, someone changed the
 * tag by hand under the pin: refused, since the old image would deploy. A record for
 * another digest is stale (a writer that set tag and digest together without recording,
 * such as a workflow's release selection) and says nothing either way.
 */
export function checkDigestPin(tag: string, digest: string, pin: string, stack: string): void {
    const pinnedTag = pinnedTagOf(pin, digest);
    if (pinnedTag === undefined || pinnedTag === tag) return;
    throw new ConfigError(q("imageTag"), `${q("imageTag")}: ${show(tag)} is not the tag imageDigest was pinned for (${show(pinnedTag)}), so ${pinnedTag}'s image would deploy; expected them to match — re-pin: pulumi config rm imageDigest --stack ${stack} && pulumi config rm imagePin --stack ${stack} && npm run pin -- --stack ${stack} (or set imageTag back to ${pinnedTag})`);
}

/** The tag an imagePin record (tag@digest) says `digest` was pinned for; undefined when it says nothing about it. */
export function pinnedTagOf(pin: string, digest: string): string | undefined {
    const at = pin.indexOf("@");
    return digest !== "" && at > 0 && pin.slice(at + 1) === digest ? pin.slice(0, at) : undefined;
}
