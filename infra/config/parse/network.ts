/** Where the stack lives: its region and its VPC's private range. */
import { REGIONS } from "../catalog";
import { q, Reader } from "../reader";
import { fail, isPrivateCidr, oneOf, parseCidr } from "../validate";

export interface NetworkSettings {
    region: string;
    network: { vpcIpRange: string };
}

export function parseNetwork(r: Reader): NetworkSettings {
    const region = oneOf(
        q("region"),
        r.str("region"),
        REGIONS,
        "a DigitalOcean region with droplets and managed Postgres",
    );
    const vpcIpRange = r.nonEmpty("vpcIpRange");
    if (!isVpcRange(vpcIpRange)) {
        fail(
            q("vpcIpRange"),
            vpcIpRange,
            "expected a private IPv4 network in CIDR form from /16 to /24, e.g. 10.20.0.0/20",
        );
    }
    return { region, network: { vpcIpRange } };
}

/** A VPC range DigitalOcean accepts: an RFC 1918 network address from /16 to /24. */
export function isVpcRange(value: string): boolean {
    const cidr = parseCidr(value);
    return cidr !== undefined && isPrivateCidr(cidr) && cidr.prefix >= 16 && cidr.prefix <= 24;
}
